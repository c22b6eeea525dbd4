"""W3C Web Annotation export: one annotation as JSON-LD, a course's annotations as a paged collection.

Every exported shape is checked against the MUST assertions of the W3C test suite
(``../shared/w3c-web-annotation-tests``, run by ``w3c_suite``).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from annotations import selectors
from annotations.api import w3c
from annotations.models import Claim, Tag
from annotations.models.annotation import Motivation, Visibility
from annotations.models.moderated import ModerationState
from tests.annotations.w3c_suite import Suite, report, suite_root
from tests.factories import AnnotationFactory

pytestmark = pytest.mark.django_db

ANNO = "http://www.w3.org/ns/anno.jsonld"
JSONLD = f'application/ld+json; profile="{ANNO}"'
ANNOTATION_MUSTS = "annotations/annotationMusts.test"
COLLECTION_MUSTS = "collections/collectionMusts.test"
PAGE_MUSTS = "collections/pages/pageMusts.test"


@pytest.fixture(scope="module")
def suite() -> Suite:
    return Suite(suite_root())


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def collection_url(course) -> str:
    return f"/api/v1/courses/{course.pk}/annotations/"


def tagged(annotation, *names: str):
    annotation.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])
    return annotation


@pytest.fixture
def note(course, author, group_a):
    """A questioning note with a Markdown body and two tags, for the course."""
    paragraph = course.reading.paragraphs.get(anchor="p-5")
    quote = "Qian Qichen and Shevardnadze began discussions on this topic in April 1990."
    start = paragraph.text.index(quote)
    return tagged(
        AnnotationFactory(
            course=course,
            author=author,
            paragraph=paragraph,
            start=start,
            end=start + len(quote),
            prefix=paragraph.text[start - 32 : start],
            suffix=paragraph.text[start + len(quote) : start + len(quote) + 32],
            motivation=Motivation.QUESTIONING,
            body="Was it **April**?",
        ),
        "dates",
        "border",
    )


@pytest.fixture
def highlight(course, author):
    return AnnotationFactory(course=course, author=author, motivation=Motivation.HIGHLIGHTING, body="")


@pytest.fixture
def group_note(course, author, group_a):
    return AnnotationFactory(
        course=course, author=author, group=group_a, visibility=Visibility.GROUP, body="For group A."
    )


@pytest.fixture
def claim_note(course, author):
    claim = Claim.objects.get(key="c-05-1")
    return AnnotationFactory(
        course=course,
        author=author,
        paragraph=claim.paragraph,
        claim=claim,
        start=claim.start,
        end=claim.start + 30,
        body="Which date?",
    )


def jsonld_of(annotation, user) -> dict:
    response = client_for(user).get(f"/api/v1/annotations/{annotation.pk}/", HTTP_ACCEPT=JSONLD)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == JSONLD
    return json.loads(response.content)


# -- content negotiation --------------------------------------------------------------


@pytest.mark.parametrize("accept", [JSONLD, "application/ld+json", f"application/json;q=0.5, {JSONLD}"])
def test_drf_negotiation_picks_the_jsonld_renderer_for_ld_json_with_or_without_the_profile(accept):
    request = Request(APIRequestFactory().get("/", HTTP_ACCEPT=accept))
    renderers = [JSONRenderer(), BrowsableAPIRenderer(), w3c.JSONLDRenderer()]

    renderer, _media_type = DefaultContentNegotiation().select_renderer(request, renderers)

    assert isinstance(renderer, w3c.JSONLDRenderer)


@pytest.mark.parametrize("ask", [{"HTTP_ACCEPT": JSONLD}, {"format": "jsonld"}])
@pytest.mark.parametrize("resource", ["annotations", "challenges"])
def test_an_error_asked_for_as_jsonld_is_plain_json(author, ask, resource):
    """A missing object is not a Web Annotation: its 404 is the plain JSON the schema documents."""
    query = {"format": ask["format"]} if "format" in ask else {}
    headers = {key: value for key, value in ask.items() if key != "format"}

    response = client_for(author).get(f"/api/v1/{resource}/999999/", query, **headers)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in json.loads(response.content)


def test_drf_negotiation_keeps_plain_json_for_application_json():
    request = Request(APIRequestFactory().get("/", HTTP_ACCEPT="application/json"))
    renderers = [JSONRenderer(), BrowsableAPIRenderer(), w3c.JSONLDRenderer()]

    renderer, _media_type = DefaultContentNegotiation().select_renderer(request, renderers)

    assert type(renderer) is JSONRenderer


def test_an_annotation_asked_for_as_jsonld_is_a_web_annotation_with_the_profile_content_type(note, author):
    data = jsonld_of(note, author)

    assert data["@context"] == ANNO
    assert data["type"] == "Annotation"
    assert data["id"] == f"http://testserver/api/v1/annotations/{note.pk}/"


def test_an_annotation_asked_for_as_plain_json_keeps_the_api_representation(note, author):
    response = client_for(author).get(f"/api/v1/annotations/{note.pk}/", HTTP_ACCEPT="application/json")

    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert "@context" not in data
    assert data["id"] == note.pk
    assert data["body_html"].startswith("<p>")


# -- one annotation -------------------------------------------------------------------


def test_a_note_exports_its_markdown_and_one_tagging_body_per_tag(note, author):
    data = jsonld_of(note, author)

    assert data["motivation"] == "questioning"
    assert data["body"] == [
        {
            "type": "TextualBody",
            "value": "Was it **April**?",
            "format": "text/markdown",
            "purpose": "questioning",
        },
        {"type": "TextualBody", "value": "border", "purpose": "tagging"},
        {"type": "TextualBody", "value": "dates", "purpose": "tagging"},
    ]


def test_a_note_targets_its_span_of_the_paragraph_in_the_public_reading(note, author):
    data = jsonld_of(note, author)

    assert data["target"] == {
        "source": "http://testserver/read/sco-institutionalization/#p-5",
        "selector": [
            {"type": "TextQuoteSelector", "exact": note.exact, "prefix": note.prefix, "suffix": note.suffix},
            {"type": "TextPositionSelector", "start": note.start, "end": note.end},
        ],
    }
    assert note.paragraph.text[note.start : note.end] == data["target"]["selector"][0]["exact"]


def test_the_creator_is_a_person_with_a_stable_iri_and_dates_carry_a_timezone(note, author):
    data = jsonld_of(note, author)

    assert data["creator"] == {
        "id": f"tag:testserver,2026:user:{author.pk}",
        "type": "Person",
        "nickname": "author",
    }
    assert data["created"].endswith("Z")
    assert data["modified"].endswith("Z")


def test_a_highlight_without_note_or_tags_has_no_body(highlight, author):
    data = jsonld_of(highlight, author)

    assert "body" not in data
    assert data["motivation"] == "highlighting"


def test_a_note_about_a_claim_targets_the_claim_as_well(claim_note, author):
    data = jsonld_of(claim_note, author)

    span, claim = data["target"]
    assert span["source"].endswith("#p-5")
    assert claim == "http://testserver/claims/c-05-1/"


def test_a_group_note_is_served_to_the_group_and_to_no_other_group(
    group_note, groupmate, other_group_student
):
    assert jsonld_of(group_note, groupmate)["body"][0]["value"] == "For group A."
    response = client_for(other_group_student).get(
        f"/api/v1/annotations/{group_note.pk}/", HTTP_ACCEPT=JSONLD
    )
    assert response.status_code == 404


def test_a_deleted_annotation_is_never_exported(highlight, rf):
    highlight.deleted_at = timezone.now()

    with pytest.raises(Http404):
        w3c.annotation_jsonld(highlight, rf.get("/"))


# -- the W3C MUST assertions ------------------------------------------------------------


def test_the_suite_checks_formats_and_lists_every_must_assertion(suite):
    # Without these checkers jsonschema would pass any "date-time" and "uri" silently.
    assert {"date-time", "uri"} <= set(suite.format_checker.checkers)
    assert len(suite.assertions(ANNOTATION_MUSTS)) == 54
    assert len(suite.assertions(COLLECTION_MUSTS)) == 10
    assert len(suite.assertions(PAGE_MUSTS)) == 15
    kinds = {
        a["assertionType"]
        for name in (ANNOTATION_MUSTS, COLLECTION_MUSTS, PAGE_MUSTS)
        for a in suite.assertions(name)
    }
    assert kinds == {"must"}


def test_the_suite_fails_what_breaks_the_model(suite, note, author):
    broken = jsonld_of(note, author)
    broken["@context"] = "http://example.org/other.jsonld"
    broken["created"] = "yesterday"
    broken["bodyValue"] = "both body and bodyValue"

    failed = {o.file for o in suite.run(ANNOTATION_MUSTS, broken) if o.status == "fail"}

    assert failed == {
        "annotations/3.1-annotationContextValidated.json",
        "annotations/3.3.1-annotationCreatedValidated.json",
        "annotations/3.2.5-notBodyBodyValue.json",
    }


@pytest.mark.parametrize("which", ["note", "highlight", "group_note", "claim_note"])
def test_every_exported_annotation_passes_all_the_must_assertions(suite, which, request, author):
    annotation = request.getfixturevalue(which)

    outcomes = suite.run(ANNOTATION_MUSTS, jsonld_of(annotation, author))

    assert len(outcomes) == 54
    assert all(o.status == "pass" for o in outcomes), report(outcomes)


@pytest.fixture
def five_notes(course, author, monkeypatch):
    monkeypatch.setattr(w3c, "PAGE_SIZE", 2)
    return [
        tagged(AnnotationFactory(course=course, author=author, body=f"Note {n}"), f"tag{n}") for n in range(5)
    ]


def test_the_collection_passes_all_the_collection_must_assertions(suite, five_notes, author):
    data = client_for(author).get(collection_url(five_notes[0].course)).json()

    outcomes = suite.run(COLLECTION_MUSTS, data)

    assert len(outcomes) == 10
    assert all(o.status == "pass" for o in outcomes), report(outcomes)


@pytest.mark.parametrize("page", [1, 2, 3])
def test_every_page_and_each_of_its_items_pass_the_must_assertions(suite, five_notes, author, page):
    data = client_for(author).get(collection_url(five_notes[0].course), {"page": page}).json()

    outcomes = suite.run(PAGE_MUSTS, data)
    assert len(outcomes) == 15
    assert all(o.status == "pass" for o in outcomes), report(outcomes)
    # Items take the page's @context, as JSON-LD embedding means.
    for item in data["items"]:
        outcomes = suite.run(ANNOTATION_MUSTS, {"@context": data["@context"], **item})
        assert all(o.status == "pass" for o in outcomes), report(outcomes)


# -- the collection -------------------------------------------------------------------


def test_the_collection_describes_its_total_and_first_and_last_pages(five_notes, course, author):
    response = client_for(author).get(collection_url(course))

    assert response["Content-Type"] == JSONLD
    base = f"http://testserver/api/v1/courses/{course.pk}/annotations/"
    assert json.loads(response.content) == {
        "@context": ANNO,
        "id": base,
        "type": "AnnotationCollection",
        "label": f"Annotations in {course}",
        "total": 5,
        "first": f"{base}?page=1",
        "last": f"{base}?page=3",
    }


def test_a_middle_page_links_both_ways_and_counts_from_zero(five_notes, course, author):
    data = client_for(author).get(collection_url(course), {"page": 2}).json()

    base = f"http://testserver/api/v1/courses/{course.pk}/annotations/"
    assert data["id"] == f"{base}?page=2"
    assert data["type"] == "AnnotationPage"
    assert data["partOf"] == {
        "id": base,
        "type": "AnnotationCollection",
        "label": f"Annotations in {course}",
        "total": 5,
    }
    assert data["startIndex"] == 2
    assert [item["body"][0]["value"] for item in data["items"]] == ["Note 2", "Note 3"]
    assert data["next"] == f"{base}?page=3"
    assert data["prev"] == f"{base}?page=1"


def test_the_first_and_last_pages_link_only_where_there_is_a_page(five_notes, course, author):
    first = client_for(author).get(collection_url(course), {"page": 1}).json()
    last = client_for(author).get(collection_url(course), {"page": 3}).json()

    assert "prev" not in first
    assert first["next"].endswith("?page=2")
    assert "next" not in last
    assert last["prev"].endswith("?page=2")
    assert [item["body"][0]["value"] for item in last["items"]] == ["Note 4"]


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("4", "There is no page 4: this collection has pages 1 to 3."),
        ("0", "“0” is not a page"),
        ("two", "“two” is not a page"),
    ],
)
def test_a_page_out_of_range_is_a_404_that_says_why(five_notes, course, author, page, message):
    response = client_for(author).get(collection_url(course), {"page": page})

    assert response.status_code == 404
    assert message in response.json()["detail"]


def test_an_empty_collection_has_no_pages(course, author):
    client = client_for(author)

    data = client.get(collection_url(course)).json()
    response = client.get(collection_url(course), {"page": 1})

    assert data["total"] == 0
    assert "first" not in data
    assert "last" not in data
    assert response.status_code == 404
    assert response.json()["detail"] == "This collection is empty, so it has no pages."


def test_the_collection_is_plain_json_when_asked_for_json(five_notes, course, author):
    response = client_for(author).get(collection_url(course), {"page": 1}, HTTP_ACCEPT="application/json")

    assert response["Content-Type"] == "application/json"
    assert response.json()["type"] == "AnnotationPage"
    assert "Accept" in response["Vary"]


# -- who sees what ----------------------------------------------------------------------

SEES = {
    "author": {"P", "G", "C"},
    "groupmate": {"G", "C"},
    "other_group_student": {"C", "GB"},
    "ungrouped_student": {"C"},
    "ta": {"G", "C", "GB"},
    "instructor": {"G", "C", "GB"},
    "curator": {"G", "C", "GB"},
}


@pytest.fixture
def notes(course, other_course, group_a, group_b, author, other_group_student, other_course_student):
    """P, G, C: the author's private, group A and course notes; GB: group B's; X: another
    course's; D: the author's deleted course note."""
    made = {
        "P": AnnotationFactory(course=course, author=author, visibility=Visibility.PRIVATE),
        "G": AnnotationFactory(course=course, author=author, visibility=Visibility.GROUP, group=group_a),
        "C": AnnotationFactory(course=course, author=author, visibility=Visibility.COURSE),
        "GB": AnnotationFactory(
            course=course, author=other_group_student, visibility=Visibility.GROUP, group=group_b
        ),
        "X": AnnotationFactory(course=other_course, author=other_course_student),
        "D": AnnotationFactory(course=course, author=author, deleted_at=timezone.now()),
    }
    for name, annotation in made.items():
        annotation.body = name
        annotation.save(update_fields=["body"])
    return made


@pytest.mark.parametrize("who", sorted(SEES))
def test_the_collection_holds_exactly_what_the_visibility_rule_allows(who, request, notes, course):
    user = request.getfixturevalue(who)

    data = client_for(user).get(collection_url(course), {"page": 1}).json()

    assert {item["body"][0]["value"] for item in data["items"]} == SEES[who]
    assert data["partOf"]["total"] == len(SEES[who])


@pytest.fixture
def every_kind_of_note(course, other_course, group_a, group_b, author, groupmate, other_group_student,
                       ungrouped_student, ta, other_course_student):  # fmt: skip
    """A note for every writer, visibility, moderation state and deletion the rule tells apart."""
    writers = [(author, group_a), (groupmate, group_a), (other_group_student, group_b), (ungrouped_student, None),
               (ta, None)]  # fmt: skip
    for writer, group in writers:
        for visibility in Visibility.values:
            if visibility == Visibility.GROUP and group is None:
                continue
            for moderation in ModerationState.values:
                for deleted_at in (None, timezone.now()):
                    AnnotationFactory(course=course, author=writer, group=group, visibility=visibility,
                                      moderation=moderation, deleted_at=deleted_at)  # fmt: skip
    AnnotationFactory(course=other_course, author=other_course_student)


@pytest.mark.parametrize("who", [*sorted(SEES), "groupmate", "other_course_student", "outsider"])
def test_the_total_counted_in_parts_is_the_rule_counted_whole(who, request, every_kind_of_note, course):
    user = request.getfixturevalue(who)

    whole = selectors.annotations_for_export(user, course).count()

    assert selectors.export_total(user, course) == whole
    data = client_for(user).get(collection_url(course)).json() if whole else None
    if whole:
        assert data["total"] == whole
        assert data["last"].endswith(f"?page={-(-whole // w3c.PAGE_SIZE)}")


def test_the_parts_count_what_each_reader_may_see(every_kind_of_note, course, author, ungrouped_student, ta):
    # Standing notes: 9 each for author, groupmate (group A) and other_group_student (group
    # B), 3 visibilities × 3 states; 6 each for ungrouped_student and ta, who have no group.
    # A reader's own standing notes all count; a classmate's only when published and shared
    # with them: course-wide, or to their group (every group, for staff).
    assert selectors.export_total(author, course) == 9 + (2 + 1 + 1 + 1)
    assert selectors.export_total(ungrouped_student, course) == 6 + (1 + 1 + 1 + 1)
    assert selectors.export_total(ta, course) == 6 + (2 + 2 + 2 + 1)


@pytest.mark.parametrize("who", ["other_course_student", "other_instructor", "outsider"])
def test_someone_outside_the_course_gets_a_404_as_if_it_did_not_exist(who, request, notes, course):
    response = client_for(request.getfixturevalue(who)).get(collection_url(course))

    assert response.status_code == 404
    assert "AnnotationCollection" not in response.content.decode()


def test_an_anonymous_visitor_is_asked_to_sign_in(notes, course):
    response = client_for(None).get(collection_url(course))

    assert response.status_code == 401
    assert "AnnotationCollection" not in response.content.decode()


def test_a_course_that_does_not_exist_is_a_404(author):
    assert client_for(author).get("/api/v1/courses/999999/annotations/").status_code == 404


# -- queries ------------------------------------------------------------------------------


def _page_queries(user, course) -> int:
    # The user read afresh, as each request reads it: nothing kept on it from an earlier one.
    client = client_for(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as context:
        response = client.get(collection_url(course), {"page": 1})
    assert response.status_code == 200
    return len(context.captured_queries)


def test_a_page_runs_the_same_number_of_queries_however_many_annotations_it_holds(course, author, claim_note):
    few = _page_queries(author, course)
    for n in range(12):
        tagged(AnnotationFactory(course=course, author=author), f"t{n}", "shared")
    AnnotationFactory(course=course, author=author, claim=claim_note.claim, paragraph=claim_note.paragraph)

    many = _page_queries(author, course)

    assert many == few
    # The course; the total, counted in parts (the reader's membership, open assignments
    # that hide classmates' work, the count); the rule for the page's rows (the same two
    # lookups); the page; its tags.
    assert many <= 8
