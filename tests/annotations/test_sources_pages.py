"""``/courses/<id>/sources/``: a course's bibliography, with forms to add to it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Source
from annotations.services.sources import source_add
from tests.helpers import queries_for

ADD = {
    "form": "add",
    "add-kind": "article",
    "add-authors": "Ambrosio, Thomas\nWorld Bank",
    "add-year": "2008",
    "add-title": "Catching the Shanghai spirit",
    "add-container": "Europe-Asia Studies",
    "add-doi": "10.1080/09668130802292143",
}
BIBTEX = """
@book{good, author = {Xu, Tao}, title = {Concept}, year = {2002}, publisher = {Shishi}, url = {https://example.org/concept}}
@article{bad, title = {Wrong}, doi = {12.3/x}}
"""


def url_for(course) -> str:
    return reverse("annotations:course-sources", kwargs={"pk": course.pk})


def test_a_member_sees_the_course_and_reading_sources_with_download_links(client, author, course):
    source_add(user=author, course=course, kind="book", title="Our own find", authors=["Lee, Ann"], year=2011)
    client.force_login(author)

    text = client.get(url_for(course)).content.decode()

    assert "Lee, A. (2011). Our own find." in text
    assert "Xu Tao, &amp; Ji Zhiye. (2002)." in text
    assert f"/api/v1/sources/bibliography/?course={course.pk}&amp;format=bibtex" in text
    assert f"/api/v1/sources/bibliography/?course={course.pk}&amp;format=csl-json" in text
    assert '<label for="id_add-doi">DOI</label>' in text
    assert '<label for="id_import-text">Entries</label>' in text


def test_a_member_adds_a_source_by_hand(client, author, course):
    client.force_login(author)

    response = client.post(url_for(course), ADD, follow=True)

    source = Source.objects.get(course=course)
    assert source.authors == ["Ambrosio, Thomas", "World Bank"]
    assert "Added: Ambrosio, T., &amp; World Bank. (2008)." in response.content.decode()


def test_pasting_a_duplicate_says_it_was_reused(client, author, course):
    client.force_login(author)
    client.post(url_for(course), ADD)

    response = client.post(
        url_for(course), ADD | {"add-doi": "https://doi.org/10.1080/09668130802292143"}, follow=True
    )

    assert "Already in the bibliography — reused" in response.content.decode()
    assert Source.objects.filter(course=course).count() == 1


def test_bad_fields_show_again_with_their_errors(client, author, course):
    client.force_login(author)

    response = client.post(url_for(course), ADD | {"add-doi": "12/x", "add-url": "ftp://x.org/"})

    assert response.status_code == 400
    text = response.content.decode()
    assert "A DOI looks like 10.1234/abcd" in text
    assert "starts with http:// or https://" in text
    assert not Source.objects.filter(course=course).exists()


def test_pasted_bibtex_adds_the_good_entries_and_reports_the_bad(client, author, course):
    client.force_login(author)

    response = client.post(
        url_for(course), {"form": "import", "import-format": "bibtex", "import-text": BIBTEX}
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "1 added, 0 already in the bibliography — reused, 1 could not be added." in text
    assert "Entry “bad”: doi — A DOI looks like" in text
    assert list(Source.objects.filter(course=course).values_list("title", flat=True)) == ["Concept"]
    again = client.post(url_for(course), {"form": "import", "import-format": "bibtex", "import-text": BIBTEX})
    assert "0 added, 1 already in the bibliography — reused" in again.content.decode()


def test_pasting_nothing_readable_is_a_400(client, author, course):
    client.force_login(author)

    response = client.post(
        url_for(course), {"form": "import", "import-format": "csl-json", "import-text": "{oops"}
    )

    assert response.status_code == 400
    assert "This is not valid JSON" in response.content.decode()


@pytest.mark.parametrize("name", ["outsider", "other_course_student", "other_instructor"])
def test_the_page_is_a_404_outside_the_course(request, client, author, course, name):
    source_add(user=author, course=course, kind="book", title="Our own find")
    client.force_login(request.getfixturevalue(name))

    assert client.get(url_for(course)).status_code == 404
    assert client.post(url_for(course), ADD).status_code == 404
    assert "Our own find" not in client.get(reverse("annotations:source-list")).content.decode()
    assert Source.objects.filter(course=course).count() == 1


def test_anonymous_visitors_are_sent_to_log_in(client, course):
    response = client.get(url_for(course))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_site_staff_see_the_page_but_do_not_add(client, curator, author, course):
    source_add(user=author, course=course, kind="book", title="Our own find")
    client.force_login(curator)

    text = client.get(url_for(course)).content.decode()

    assert "Our own find" in text
    assert 'name="form" value="add"' not in text
    assert client.post(url_for(course), ADD).status_code == 403


def test_the_page_runs_a_fixed_number_of_queries(client, author, course):
    client.force_login(author)
    before = queries_for(client, url_for(course))
    for n in range(5):
        source_add(user=author, course=course, kind="book", title=f"Book {n}", authors=[f"Writer, N{n}"])

    assert queries_for(client, url_for(course)) == before <= 8
