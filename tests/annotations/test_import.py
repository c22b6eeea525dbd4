"""Importing W3C annotations and Hypothesis exports: POST /api/v1/courses/<id>/annotations/import/.

The quotes come from the paper's paragraphs as loaded, so that the fixtures stay true to it.
"""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from annotations.api import w3c
from annotations.models import Annotation, Claim, Tag
from annotations.models.annotation import Motivation, Visibility
from annotations.services import importing
from tests.factories import AnnotationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ELSEWHERE = "https://journal.example.org/articles/sco-institutionalization.html"


def url(course) -> str:
    return f"/api/v1/courses/{course.pk}/annotations/import/"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def context(paragraph, quote: str, occurrence: int = 0) -> tuple[int, str, str]:
    """Where ``quote`` is in ``paragraph``, with 32 characters of context either side."""
    start = -1
    for _ in range(occurrence + 1):
        start = paragraph.text.index(quote, start + 1)
    end = start + len(quote)
    return start, paragraph.text[max(0, start - 32) : start], paragraph.text[end : end + 32]


@pytest.fixture
def p(paper):
    return {anchor: paper.paragraphs.get(anchor=anchor) for anchor in ("p-4", "p-5", "p-8")}


def w3c_item(n: int, target, **extra) -> dict:
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": f"https://annotations.example.org/anno/{n}",
        "type": "Annotation",
        "creator": {"id": "https://annotations.example.org/people/ada", "type": "Person", "nickname": "ada"},
        "created": "2026-02-03T10:00:00Z",
        "target": target,
        **extra,
    }


@pytest.fixture
def w3c_collection(p) -> dict:
    """A W3C collection from another annotation server, its first (and only) page embedded."""
    quote = "Qian Qichen and Shevardnadze began discussions on this topic in April 1990."
    _, before, after = context(p["p-5"], quote)
    # "Shanghai Five" is in many paragraphs; its context says the one in p-5.
    _, five_before, five_after = context(p["p-5"], '"Shanghai Five"')
    items = [
        w3c_item(
            1,
            {
                "source": ELSEWHERE,
                "selector": {"type": "TextQuoteSelector", "exact": quote, "prefix": before, "suffix": after},
            },
            motivation="questioning",
            body=[
                {"type": "TextualBody", "value": "Was it *April*?", "format": "text/markdown"},
                {"type": "TextualBody", "value": "Dates", "purpose": "tagging"},
            ],
        ),
        w3c_item(
            2,
            {
                "source": ELSEWHERE,
                "selector": [
                    {
                        "type": "TextQuoteSelector",
                        "exact": '"Shanghai Five"',
                        "prefix": five_before,
                        "suffix": five_after,
                    },
                    {"type": "TextPositionSelector", "start": 10452, "end": 10467},
                ],
            },
            bodyValue="The name came later.",
        ),
        w3c_item(
            3,
            {
                "source": ELSEWHERE,
                "selector": {
                    "type": "FragmentSelector",
                    "value": "p-8",
                    "refinedBy": {"type": "TextQuoteSelector", "exact": "international terrorism"},
                },
            },
            motivation="highlighting",
        ),
        w3c_item(
            4,
            {
                "source": ELSEWHERE,
                "selector": {"type": "TextQuoteSelector", "exact": "The SCO was founded on Mars."},
            },
            bodyValue="Not in the paper.",
        ),
        w3c_item(5, {"source": ELSEWHERE, "selector": {"type": "TextQuoteSelector", "exact": "the SCO"}}),
        w3c_item(6, ELSEWHERE, bodyValue="A note on the whole article."),
        w3c_item(
            7,
            {"source": ELSEWHERE, "selector": {"type": "TextQuoteSelector", "exact": quote}},
            body=[{"type": "TextualBody", "value": f"tag{n}", "purpose": "tagging"} for n in range(11)],
        ),
        {"id": "https://annotations.example.org/anno/8", "note": "what is this?"},
    ]
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": "https://annotations.example.org/collections/sco/",
        "type": "AnnotationCollection",
        "label": "SCO reading group",
        "total": len(items),
        "first": {
            "id": "https://annotations.example.org/collections/sco/?page=0",
            "type": "AnnotationPage",
            "items": items,
        },
    }


def hypothesis_row(n: int, *, text: str = "", tags: list[str] | None = None, selectors=None, **extra) -> dict:
    target = {"source": ELSEWHERE}
    if selectors is not None:
        target["selector"] = selectors
    return {
        "id": f"hyp{n:04d}AbC",
        "created": "2025-11-20T08:15:42.129817+00:00",
        "updated": "2025-11-20T08:15:42.129817+00:00",
        "user": "acct:grace@hypothes.is",
        "uri": ELSEWHERE,
        "text": text,
        "tags": tags or [],
        "group": "__world__",
        "permissions": {"read": ["group:__world__"], "admin": ["acct:grace@hypothes.is"]},
        "target": [target],
        "document": {"title": ["The institutionalization of the SCO"]},
        "links": {
            "html": f"https://hypothes.is/a/hyp{n:04d}AbC",
            "incontext": f"https://hyp.is/hyp{n:04d}AbC/x",
        },
        "user_info": {"display_name": "Grace"},
        "flagged": False,
        "hidden": False,
        **extra,
    }


def hypothesis_selectors(exact: str, prefix: str, suffix: str) -> list[dict]:
    return [
        {
            "type": "RangeSelector",
            "startContainer": "/main[1]/article[1]/p[5]",
            "startOffset": 12,
            "endContainer": "/main[1]/article[1]/p[5]",
            "endOffset": 80,
        },
        {"type": "TextPositionSelector", "start": 8812, "end": 8812 + len(exact)},
        {"type": "TextQuoteSelector", "exact": exact, "prefix": prefix, "suffix": suffix},
    ]


@pytest.fixture
def hypothesis_export(p) -> dict:
    """A Hypothesis export of the article as published on a journal's site."""
    quote = "In Moscow, they signed the Agreement on Guiding Principles"
    _, before, after = context(p["p-5"], quote)
    # On the web page the paragraph breaks and the quotation marks are typographic.
    start_of_p5 = 'China, Russia, Kazakhstan, Kyrgyzstan, and Tajikistan created the "Shanghai Five"'
    web_quote = start_of_p5.replace('"Shanghai Five"', "“Shanghai Five”").replace(
        "and Tajikistan", "and\nTajikistan"
    )
    last_of_p4 = p["p-4"].text[-20:]
    return {
        "total": 5,
        "rows": [
            hypothesis_row(
                1,
                text="Which agreement exactly?",
                tags=["treaties"],
                selectors=hypothesis_selectors(quote, before, after),
            ),
            hypothesis_row(
                2, selectors=hypothesis_selectors(web_quote, f"{last_of_p4}\n\n", " to reduce border")
            ),
            hypothesis_row(3, text="A page note on the whole article."),
            hypothesis_row(4, text="I agree.", references=["hyp0001AbC"]),
            hypothesis_row(5, text="?", selectors=hypothesis_selectors("signed on the Moon", "", "")),
        ],
    }


def by_index(report: dict) -> dict[int, dict]:
    return {item["index"]: item for item in report["items"]}


# -- W3C ---------------------------------------------------------------------------------


def test_a_w3c_collection_is_anchored_by_quote_and_the_rest_reported(w3c_collection, course, author, paper):
    response = client_for(author).post(url(course), w3c_collection, format="json")

    assert response.status_code == 201, response.json()
    report = response.json()
    assert (report["imported"], report["not_imported"]) == (3, 5)
    items = by_index(report)
    assert [items[i]["status"] for i in range(8)] == [
        "imported", "imported", "imported", "not_anchored", "not_anchored", "not_anchored", "invalid", "invalid",
    ]  # fmt: skip
    assert [items[i]["reason"] for i in range(3, 8)] == [
        "quote_not_found", "quote_ambiguous", "no_quote", "not_valid", "unsupported_shape",
    ]  # fmt: skip
    times = sum(paragraph.text.count("the SCO") for paragraph in paper.paragraphs.all())
    assert f"occurs {times} times in the reading (p-1, p-2," in items[4]["message"]
    assert "no prefix or suffix" in items[4]["message"]
    assert "tags: Use at most 10 tags." in items[6]["message"]


def test_imported_w3c_notes_are_written_as_the_importer_s_in_the_right_places(
    w3c_collection, course, author, p
):
    report = by_index(client_for(author).post(url(course), w3c_collection, format="json").json())

    first = Annotation.objects.get(pk=report[0]["id"])
    quote = "Qian Qichen and Shevardnadze began discussions on this topic in April 1990."
    assert (first.author, first.course, first.paragraph) == (author, course, p["p-5"])
    assert (first.start, first.end) == (p["p-5"].text.index(quote), p["p-5"].text.index(quote) + len(quote))
    assert (report[0]["paragraph"], report[0]["start"], report[0]["end"]) == ("p-5", first.start, first.end)
    assert first.motivation == Motivation.QUESTIONING
    assert first.body == "Was it *April*?"
    assert [t.name for t in first.tags.all()] == ["dates"]
    assert first.visibility == Visibility.PRIVATE
    assert first.imported_from == (
        "id=https://annotations.example.org/anno/1; creator=ada; created=2026-02-03T10:00:00Z; "
        f"source={ELSEWHERE}"
    )
    five = Annotation.objects.get(pk=report[1]["id"])
    assert five.paragraph == p["p-5"]
    assert five.start == p["p-5"].text.index('"Shanghai Five"')
    assert five.body == "The name came later."
    highlight = Annotation.objects.get(pk=report[2]["id"])
    assert highlight.paragraph == p["p-8"]
    assert highlight.exact == "international terrorism"  # also in p-26
    assert highlight.motivation == Motivation.HIGHLIGHTING
    assert Annotation.objects.filter(course=course).count() == 3


def test_an_exported_annotation_comes_back_in_the_same_place_with_its_claim(course, other_course, author):
    claim = Claim.objects.get(key="c-05-1")
    original = AnnotationFactory(
        course=course, author=author, paragraph=claim.paragraph, claim=claim, start=66, end=81, body="Five?"
    )
    original.tags.set([Tag.objects.get_or_create(name="names")[0]])
    page = client_for(author).get(f"/api/v1/courses/{course.pk}/annotations/", {"page": 1}).json()
    importer = MembershipFactory(course=other_course, user=UserFactory(username="importer")).user

    response = client_for(importer).post(url(other_course), page, format="json")

    item = by_index(response.json())[0]
    copy = Annotation.objects.get(pk=item["id"])
    assert (copy.paragraph, copy.start, copy.end, copy.exact) == (
        original.paragraph, original.start, original.end, original.exact,
    )  # fmt: skip
    assert copy.claim == claim
    assert copy.body == "Five?"
    assert [t.name for t in copy.tags.all()] == ["names"]
    assert copy.imported_from.startswith(
        f"id=http://testserver/api/v1/annotations/{original.pk}/; creator=author"
    )


def test_the_visibility_is_chosen_by_query_parameter_or_body_field(w3c_collection, course, author):
    client = client_for(author)

    client.post(url(course) + "?visibility=course", w3c_collection, format="json")
    client.post(url(course), {**w3c_collection, "visibility": "group"}, format="json")

    assert sorted(Annotation.objects.filter(course=course).values_list("visibility", flat=True)) == [
        "course", "course", "course", "group", "group", "group",
    ]  # fmt: skip


def test_group_visibility_without_a_group_is_refused_before_anything_is_written(w3c_collection, course, ta):
    response = client_for(ta).post(url(course) + "?visibility=group", w3c_collection, format="json")

    assert response.status_code == 400
    assert "not in a group" in response.json()["visibility"][0]
    assert not Annotation.objects.filter(course=course).exists()


def test_a_dry_run_reports_and_writes_nothing(w3c_collection, course, author):
    response = client_for(author).post(url(course) + "?dry_run=true", w3c_collection, format="json")

    assert response.status_code == 200
    report = response.json()
    assert report["dry_run"] is True
    assert report["imported"] == 3
    assert report["items"][0]["paragraph"] == "p-5"
    assert report["items"][0]["id"] is None
    assert not Annotation.objects.filter(course=course).exists()


def test_a_page_a_list_and_a_single_annotation_are_read_too(w3c_collection, course, author):
    page = w3c_collection["first"]
    client = client_for(author)

    from_page = client.post(url(course), page, format="json").json()
    from_list = client.post(url(course), page["items"][:2], format="json").json()
    single = client.post(url(course), page["items"][0], format="json").json()

    assert (from_page["imported"], from_list["imported"], single["imported"]) == (3, 2, 1)


def test_a_collection_posted_as_json_ld_is_read(w3c_collection, course, author):
    response = client_for(author).post(
        url(course),
        json.dumps(w3c_collection),
        content_type='application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"',
    )

    assert response.status_code == 201
    assert response.json()["imported"] == 3


# -- Hypothesis -----------------------------------------------------------------------


def test_a_hypothesis_export_is_anchored_despite_web_page_spacing_and_quotation_marks(
    hypothesis_export, course, author, p
):
    response = client_for(author).post(url(course), hypothesis_export, format="json")

    assert response.status_code == 201, response.json()
    report = by_index(response.json())
    note = Annotation.objects.get(pk=report[0]["id"])
    quote = "In Moscow, they signed the Agreement on Guiding Principles"
    assert (note.paragraph, note.exact, note.start) == (p["p-5"], quote, p["p-5"].text.index(quote))
    assert note.body == "Which agreement exactly?"
    assert [t.name for t in note.tags.all()] == ["treaties"]
    assert note.imported_from == (
        "id=hyp0001AbC; creator=acct:grace@hypothes.is; created=2025-11-20T08:15:42.129817+00:00; "
        f"source={ELSEWHERE}"
    )
    highlight = Annotation.objects.get(pk=report[1]["id"])
    assert highlight.paragraph == p["p-5"]
    assert highlight.start == 0
    assert (
        highlight.exact == 'China, Russia, Kazakhstan, Kyrgyzstan, and Tajikistan created the "Shanghai Five"'
    )
    assert highlight.motivation == Motivation.HIGHLIGHTING


def test_hypothesis_notes_without_a_quote_or_a_findable_quote_are_reported(hypothesis_export, course, author):
    report = client_for(author).post(url(course), hypothesis_export, format="json").json()

    assert (report["imported"], report["not_imported"]) == (2, 3)
    items = by_index(report)
    assert (items[2]["reason"], items[2]["message"]) == ("no_quote", importing.NO_QUOTE_PAGE_NOTE)
    assert (items[3]["reason"], items[3]["message"]) == ("no_quote", importing.NO_QUOTE_REPLY)
    assert items[4]["reason"] == "quote_not_found"
    assert "signed on the Moon" in items[4]["message"]
    assert items[4]["origin"].startswith("id=hyp0005AbC; creator=acct:grace@hypothes.is")
    assert Annotation.objects.filter(course=course).count() == 2


def test_a_plain_list_of_hypothesis_rows_is_read(hypothesis_export, course, author):
    response = client_for(author).post(url(course), hypothesis_export["rows"], format="json")

    assert response.json()["imported"] == 2


# -- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"hello": "world"}, "Send a W3C AnnotationCollection"),
        ("a string", "Send a W3C AnnotationCollection"),
        ({"type": "AnnotationPage"}, "An AnnotationPage needs an “items” list."),
        (
            {
                "type": "AnnotationCollection",
                "total": 3,
                "first": "https://annotations.example.org/c/?page=0",
            },
            "links to a page (https://annotations.example.org/c/?page=0) instead of embedding it",
        ),
    ],
)
def test_what_is_not_an_import_is_a_400_that_says_what_to_send(course, author, body, message):
    response = client_for(author).post(url(course), body, format="json")

    assert response.status_code == 400
    assert message in response.json()["non_field_errors"][0]


def test_a_body_that_is_not_json_is_a_400(course, author):
    response = client_for(author).post(url(course), "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_more_items_than_the_limit_is_a_400_and_writes_nothing(course, author, w3c_collection):
    items = [{"type": "Annotation", "target": "https://example.org/"}] * (importing.MAX_ITEMS + 1)

    response = client_for(author).post(url(course), items, format="json")

    assert response.status_code == 400
    assert response.json()["non_field_errors"] == [
        "At most 5,000 annotations in one import: this one has 5,001. Split it."
    ]
    assert not Annotation.objects.exists()


def test_a_body_larger_than_the_byte_limit_is_a_400(course, author, w3c_collection, monkeypatch):
    monkeypatch.setattr(w3c, "MAX_IMPORT_BYTES", 2**20)
    items = w3c_collection["first"]["items"][:1] * 3000

    response = client_for(author).post(url(course), items, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "The import is larger than 1 MB: split it."
    assert not Annotation.objects.exists()


def test_an_unknown_visibility_is_a_400(course, author, w3c_collection):
    response = client_for(author).post(url(course) + "?visibility=everyone", w3c_collection, format="json")

    assert response.status_code == 400
    assert response.json()["visibility"] == ["“everyone” is not a visibility: use private, group or course."]


def test_site_staff_who_are_not_members_may_see_the_course_but_not_import(w3c_collection, course, curator):
    response = client_for(curator).post(url(course), w3c_collection, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == importing.NOT_A_MEMBER
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("who", ["other_course_student", "other_instructor", "outsider"])
def test_someone_outside_the_course_gets_a_404_and_nothing_is_written(w3c_collection, course, request, who):
    response = client_for(request.getfixturevalue(who)).post(url(course), w3c_collection, format="json")

    assert response.status_code == 404
    assert not Annotation.objects.exists()


def test_an_anonymous_visitor_is_asked_to_sign_in(w3c_collection, course):
    response = client_for(None).post(url(course), w3c_collection, format="json")

    assert response.status_code == 401
    assert not Annotation.objects.exists()


def test_an_unexpected_error_half_way_writes_nothing(w3c_collection, course, author, monkeypatch):
    real_create = importing.annotation_create
    calls = []

    def failing_on_the_second(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        return real_create(**kwargs)

    monkeypatch.setattr(importing, "annotation_create", failing_on_the_second)

    with pytest.raises(RuntimeError):
        importing.annotations_import(user=author, course=course, data=w3c_collection)

    assert len(calls) == 2
    assert not Annotation.objects.exists()
