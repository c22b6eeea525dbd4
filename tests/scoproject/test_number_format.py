"""Counts people read carry the language's digit grouping; ids, years and links do not.

``USE_THOUSAND_SEPARATOR`` stays off; templates group counts with the ``numbers`` library's
``|grouped``. English and Chinese write ``1,234``, Russian ``1 234`` with a no-break space.
"""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.utils import translation

from annotations.models import Annotation, Claim
from annotations.models.annotation import Visibility
from annotations.models.courses import Role
from annotations.templatetags.numbers import GroupedCount, grouped
from tests.factories import (
    AnnotationFactory,
    AssignmentFactory,
    ClaimFactory,
    CourseFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

GROUPED = {"en": "1,234", "ru": "1\xa0234", "zh-hans": "1,234"}
NBSP = "\xa0"


def _page(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    return response.content.decode()


@pytest.fixture
def big_course(paper):
    """A course with pk 1234 (so its id appears in links), its instructor and a student
    whose user id is 1234, and 1,234 shared notes on the reading's first paragraph."""
    course = CourseFactory(pk=1234, title="Big seminar", reading=paper)
    instructor = MembershipFactory(
        course=course, user=UserFactory(username="big_teacher"), role=Role.INSTRUCTOR
    ).user
    student = MembershipFactory(course=course, user=UserFactory(pk=1234, username="big_student")).user
    paragraph = paper.paragraphs.order_by("order").first()
    Annotation.objects.bulk_create(
        AnnotationFactory.build(
            pk=5000 + n,
            course=course,
            author=student,
            document=paper,
            paragraph=paragraph,
            paragraph_anchor=paragraph.anchor,
            visibility=Visibility.COURSE,
        )
        for n in range(1234)
    )
    return course, instructor, student, paragraph


def test_the_filter_groups_whole_numbers_and_leaves_everything_else():
    with translation.override("ru"):
        assert str(grouped(1234)) == "1\xa0234"
        assert str(grouped("1234")) == "1\xa0234"
        assert str(grouped(999)) == "999"
    with translation.override("en"):
        assert f"{grouped(-12345)}" == "-12,345"
    assert isinstance(grouped(1234), GroupedCount)
    assert grouped(1234) == 1234
    assert grouped(None) is None
    assert grouped("") == ""
    assert grouped("p-12") == "p-12"
    assert grouped(True) is True


@pytest.mark.parametrize("language", ["en", "ru", "zh-hans"])
def test_a_search_result_count_is_grouped_and_the_years_and_page_links_are_not(client, paper, language):
    paragraph = paper.paragraphs.order_by("order").first()
    quote = paragraph.text[:30]
    already = Claim.objects.filter(paraphrase__icontains="Groupingprobe").count()
    Claim.objects.bulk_create(
        ClaimFactory.build(
            key=f"c-probe-{n}", paragraph=paragraph, quote=quote, paraphrase="Groupingprobe founded in 2001."
        )
        for n in range(1234 - already)
    )

    text = _page(client, "/claims/?q=Groupingprobe", language)

    heading = text.split('<h2 id="results-heading">', 1)[1].split("</h2>", 1)[0]
    assert heading.startswith(GROUPED[language])
    assert {"en": "claims", "ru": "утверждения", "zh-hans": "论断"}[language] in heading
    assert "founded in 2001." in text
    assert "2,001" not in text
    assert f"2{NBSP}001" not in text
    # 1,234 results at 25 a page: 50 pages; the next-page link keeps plain digits.
    assert "page=2" in text


@pytest.mark.parametrize("language", ["en", "ru"])
def test_page_x_of_y_is_grouped_but_the_page_links_are_not(language):
    page = Paginator(range(1_234_000), 1000).page(1001)

    with translation.override(language):
        html = render_to_string("includes/pagination.html", {"page": page, "query": "q=x"})

    separator = {"en": ",", "ru": NBSP}[language]
    assert f"1{separator}001" in html
    assert f"1{separator}234" in html
    assert 'href="?q=x&amp;page=1000"' in html
    assert 'href="?q=x&amp;page=1002"' in html


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_count_of_notes_on_a_paragraph_is_grouped_and_note_ids_are_not(client, big_course, language):
    _course, _instructor, student, paragraph = big_course
    client.force_login(student)

    text = _page(client, f"/courses/1234/read/{paragraph.anchor}/notes/", language)

    assert GROUPED[language] in text
    assert 'id="a-5000"' in text
    assert 'href="/courses/1234/read/' in text
    assert f"5{NBSP}000" not in text
    assert "5,000" not in text
    assert f"/courses/1{NBSP}234/" not in text
    assert "/courses/1,234/" not in text


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_dashboard_figures_are_grouped_and_its_links_are_not(client, big_course, language):
    _course, instructor, _student, paragraph = big_course
    client.force_login(instructor)

    text = _page(client, "/courses/1234/dashboard/", language)

    heat = text.split('<ol class="heat-map">', 1)[1].split("</ol>", 1)[0]
    assert f'<span class="heat__count">{GROUPED[language]}</span>' in heat
    assert f"{paragraph.anchor}: {GROUPED[language]} " in heat
    participation = text.split('id="participation-desc"', 1)[1].split("</desc>", 1)[0]
    assert GROUPED[language] in participation
    assert f"<td>{GROUPED[language]}</td>" in text
    assert 'href="/courses/1234/' in text
    assert f"/1{NBSP}234/" not in text
    assert "/1,234/" not in text


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_class_table_groups_what_is_asked_and_keeps_ids_plain(client, big_course, language):
    course, instructor, _student, _paragraph = big_course
    AssignmentFactory(
        pk=1234, course=course, created_by=instructor, required_annotations=1500, required_challenges=0
    )
    client.force_login(instructor)

    text = _page(client, "/assignments/1234/progress/", language)

    separator = {"en": ",", "ru": NBSP}[language]
    # The student has made 1,234 notes of the 1,500 asked for.
    assert f"<td>1{separator}234/1{separator}500" in text
    assert 'href="/assignments/1234/grades/1234/"' in text
    assert f"/1{NBSP}234/" not in text
    assert "/1,234/" not in text
