"""``/api/v1/sources/``: reading and adding sources, importing, and the bibliography export."""

from __future__ import annotations

import json

import bibtexparser
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Source
from annotations.services.sources import source_add
from tests.helpers import queries_for

ARTICLE = {
    "kind": "article",
    "authors": ["Ambrosio, Thomas"],
    "year": 2008,
    "title": "Catching the Shanghai spirit",
    "container": "Europe-Asia Studies",
    "doi": "10.1080/09668130802292143",
}


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def course_source(author, course):
    return source_add(user=author, course=course, **ARTICLE)[0]


def as_user(api: APIClient, user) -> APIClient:
    api.force_authenticate(user)
    return api


def test_a_member_adds_a_source_with_a_token(api, author, course):
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=author).key}")

    response = api.post("/api/v1/sources/", ARTICLE | {"course": course.pk}, format="json")

    assert response.status_code == 201
    assert response.data["reused"] is False
    assert response.data["course"] == course.pk
    assert response.data["added_by"] == "author"
    assert response.data["citation"].startswith("Ambrosio, T. (2008).")
    assert Source.objects.get(key=response.data["key"]).course == course


def test_a_duplicate_answers_200_with_the_existing_source(api, groupmate, course, course_source):
    response = as_user(api, groupmate).post(
        "/api/v1/sources/",
        ARTICLE | {"course": course.pk, "doi": "https://doi.org/10.1080/09668130802292143".upper()},
        format="json",
    )

    assert response.status_code == 200
    assert (response.data["key"], response.data["reused"]) == (course_source.key, True)
    assert Source.objects.filter(course=course).count() == 1


def test_bad_fields_are_a_400_naming_each(api, author, course):
    response = as_user(api, author).post(
        "/api/v1/sources/",
        ARTICLE | {"course": course.pk, "doi": "doi:12/x", "url": "javascript:alert(1)"},
        format="json",
    )

    assert response.status_code == 400
    assert "A DOI looks like" in response.data["doi"][0]
    assert "http:// or https://" in response.data["url"][0]
    assert not Source.objects.filter(course=course).exists()


def test_adding_needs_a_user_and_a_course_of_theirs(api, course, other_course_student, curator):
    anonymous = api.post("/api/v1/sources/", ARTICLE | {"course": course.pk}, format="json")
    assert anonymous.status_code == 401

    stranger = as_user(api, other_course_student).post(
        "/api/v1/sources/", ARTICLE | {"course": course.pk}, format="json"
    )
    assert stranger.status_code == 400
    assert "course" in stranger.data

    staff = as_user(api, curator).post("/api/v1/sources/", ARTICLE | {"course": course.pk}, format="json")
    assert staff.status_code == 403
    assert not Source.objects.filter(course=course).exists()


@pytest.mark.parametrize("name", [None, "outsider", "other_course_student", "other_instructor"])
def test_a_course_source_is_hidden_from_anyone_outside_the_course(request, api, course_source, course, name):
    if name:
        as_user(api, request.getfixturevalue(name))

    listed = api.get("/api/v1/sources/", {"page_size": 200}).json()

    assert course_source.key not in {item["key"] for item in listed["results"]}
    assert listed["count"] == Source.objects.filter(course__isnull=True).count()
    assert api.get(f"/api/v1/sources/{course_source.key}/").status_code == 404
    assert api.get("/api/v1/sources/bibliography/", {"course": course.pk}).status_code == 404


@pytest.mark.parametrize("name", ["groupmate", "ta", "curator"])
def test_members_and_staff_see_the_course_source(request, api, course_source, course, name):
    as_user(api, request.getfixturevalue(name))

    listed = api.get("/api/v1/sources/", {"course": course.pk}).json()

    assert [item["key"] for item in listed["results"]] == [course_source.key]
    assert api.get(f"/api/v1/sources/{course_source.key}/").json()["doi"] == ARTICLE["doi"]


def test_the_list_filters_by_kind_year_paper_and_text(api, author, course_source):
    as_user(api, author)

    def keys(**params):
        return {
            item["key"] for item in api.get("/api/v1/sources/", params | {"page_size": 200}).json()["results"]
        }

    assert course_source.key in keys(kind="article", year=2008, from_paper="false", q="shanghai spirit")
    assert course_source.key not in keys(from_paper="true")
    assert "xu-ji-2002" in keys(q="Shishi")
    assert course_source.key not in keys(q="Shishi")


def test_the_list_runs_a_fixed_number_of_queries(api, author, course):
    as_user(api, author)
    url = "/api/v1/sources/?page_size=200"
    before = queries_for(api, url)
    for n in range(5):
        source_add(user=author, course=course, kind="book", title=f"Book {n}", authors=[f"Writer, Number{n}"])

    assert queries_for(api, url) == before <= 6


BIBTEX = """
@book{good, author = {Xu, Tao}, title = {Concept}, year = {2002}, publisher = {Shishi}}
@article{bad, title = {Wrong}, doi = {12.3/x}}
"""


def test_an_import_reports_added_reused_and_refused_entries(api, author, course, course_source):
    text = BIBTEX + "@article{again, title = {Same}, doi = {10.1080/09668130802292143}}"

    response = as_user(api, author).post(
        "/api/v1/sources/import/", {"course": course.pk, "format": "bibtex", "text": text}, format="json"
    )

    assert response.status_code == 200
    assert [s["title"] for s in response.data["added"]] == ["Concept"]
    assert [s["key"] for s in response.data["reused"]] == [course_source.key]
    assert response.data["errors"][0]["entry"] == "bad"
    assert "A DOI looks like" in response.data["errors"][0]["messages"][0]


def test_an_import_of_broken_json_is_a_400(api, author, course):
    response = as_user(api, author).post(
        "/api/v1/sources/import/", {"course": course.pk, "format": "csl-json", "text": "[{"}, format="json"
    )

    assert response.status_code == 400
    assert "not valid JSON" in response.data["text"][0]


def test_an_import_needs_a_member(api, course, other_course_student):
    payload = {"course": course.pk, "format": "bibtex", "text": BIBTEX}
    assert api.post("/api/v1/sources/import/", payload, format="json").status_code == 401
    assert (
        as_user(api, other_course_student).post("/api/v1/sources/import/", payload, format="json").status_code
        == 400
    )
    assert not Source.objects.filter(course=course).exists()


def test_the_bibliography_downloads_as_bibtex(
    api, author, course, course_source, other_course_student, other_course
):
    source_add(
        user=other_course_student, course=other_course, kind="book", title="Elsewhere", authors=["Far, Away"]
    )

    response = as_user(api, author).get(
        "/api/v1/sources/bibliography/", {"course": course.pk, "format": "bibtex"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/x-bibtex")
    assert f'filename="course-{course.pk}-bibliography.bib"' in response["Content-Disposition"]
    library = bibtexparser.parse_string(response.content.decode())
    keys = {entry.key for entry in library.entries}
    assert course_source.key in keys
    assert "xu-ji-2002" in keys
    assert len(keys) == Source.objects.filter(course__isnull=True).count() + 1  # not the other course's
    assert library.entries_dict[course_source.key]["doi"] == ARTICLE["doi"]


def test_the_bibliography_downloads_as_csl_json(api, author, course, course_source):
    response = as_user(api, author).get(
        "/api/v1/sources/bibliography/", {"course": course.pk, "format": "csl-json"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.citationstyles.csl+json")
    items = {item["id"]: item for item in json.loads(response.content)}
    assert items[course_source.key]["type"] == "article-journal"
    assert items[course_source.key]["author"] == [{"family": "Ambrosio", "given": "Thomas"}]
    assert items["xu-ji-2002"]["author"] == [{"literal": "Xu Tao"}, {"literal": "Ji Zhiye"}]


def test_the_bibliography_refuses_an_unknown_format(api, author, course):
    response = as_user(api, author).get(
        "/api/v1/sources/bibliography/", {"course": course.pk, "format": "ris"}
    )

    assert response.status_code == 400
    assert response.json()["format"] == ["Choose bibtex or csl-json."]


def test_sources_are_never_changed_or_deleted_through_the_api(api, author, course_source):
    as_user(api, author)

    assert (
        api.patch(f"/api/v1/sources/{course_source.key}/", {"title": "x"}, format="json").status_code == 405
    )
    assert api.delete(f"/api/v1/sources/{course_source.key}/").status_code == 405
    assert Source.objects.get(pk=course_source.pk).title == ARTICLE["title"]
