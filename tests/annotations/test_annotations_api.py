"""/api/v1/annotations/: create, read, filter, edit, delete, reply."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Annotation, Claim
from annotations.models.annotation import Visibility
from tests.factories import AnnotationFactory
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/annotations/"


@pytest.fixture
def api(author) -> APIClient:
    client = APIClient()
    client.force_authenticate(author)
    return client


@pytest.fixture
def p5(paper):
    return paper.paragraphs.get(anchor="p-5")


def payload(course, paragraph, **extra) -> dict:
    quote = "Qian Qichen and Shevardnadze began discussions on this topic in April 1990."
    start = paragraph.text.index(quote)
    return {
        "course": course.pk,
        "paragraph": paragraph.anchor,
        "exact": quote,
        "start": start,
        "end": start + len(quote),
        "motivation": "questioning",
        "tags": ["Dates", " #border ", "dates"],
        "body": "Was it **April**? <script>alert(1)</script>",
        "visibility": "group",
        **extra,
    }


def test_a_student_annotates_a_span_with_both_selectors(api, course, p5, author, group_a):
    response = api.post(URL, payload(course, p5), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    note = Annotation.objects.get(pk=data["id"])
    assert p5.text[note.start : note.end] == note.exact
    assert data["target"]["exact"] == note.exact
    assert p5.text[: note.start].endswith(data["target"]["prefix"])
    assert p5.text[note.end :].startswith(data["target"]["suffix"])
    assert data["anchor"] == {"status": "anchored", "start": note.start, "end": note.end}
    assert sorted(data["tags"]) == ["border", "dates"]
    assert data["group"] == "Group A"
    assert data["author"] == "author"
    assert "<strong>April</strong>" in data["body_html"]
    assert "<script>" not in data["body_html"]
    assert data["edited"] is False


def test_a_quote_alone_is_found_in_the_paragraph(api, course, p5):
    data = payload(course, p5)
    del data["start"], data["end"]

    response = api.post(URL, data, format="json")

    note = Annotation.objects.get(pk=response.json()["id"])
    assert p5.text[note.start : note.end] == data["exact"]


def test_a_claim_the_span_falls_in_is_recorded(api, course, p5):
    claim = Claim.objects.filter(paragraph=p5).order_by("start").first()

    response = api.post(
        URL,
        payload(course, p5, exact=claim.quote, start=claim.start, end=claim.end, claim=claim.key),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["claim"] == claim.key


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"exact": "Words that are not in the paper", "start": None, "end": None},
            "exact",
            "The quote is not in the paragraph",
        ),
        ({"start": 5, "end": 100000}, "end", "past the end of the paragraph"),
        ({"start": 50, "end": 10}, "start", "start (50) must be before end (10)"),
        ({"start": 0, "end": 10}, "exact", "not the quote given"),
        ({"paragraph": "p-999"}, "paragraph", "no paragraph 'p-999'"),
        ({"claim": "c-01-1"}, "claim", "This claim is in another paragraph."),
        ({"claim": "no-such-claim"}, "claim", "There is no claim 'no-such-claim'."),
        ({"visibility": "everyone"}, "visibility", "is not a valid choice"),
        ({"tags": [f"t{n}" for n in range(11)]}, "tags", "more than 10"),
    ],
)
def test_a_bad_selector_or_field_is_a_400_that_says_what_is_wrong(api, course, p5, change, field, message):
    data = {k: v for k, v in {**payload(course, p5), **change}.items() if v is not None}

    response = api.post(URL, data, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert message in " ".join(map(str, response.json()[field]))
    assert not Annotation.objects.exists()


def test_group_visibility_needs_a_group(course, p5, ungrouped_student):
    api = APIClient()
    api.force_authenticate(ungrouped_student)

    response = api.post(URL, payload(course, p5), format="json")

    assert response.status_code == 400
    assert "not in a group" in response.json()["visibility"][0]


def test_a_course_you_are_not_in_is_not_found(course, p5, other_course_student):
    api = APIClient()
    api.force_authenticate(other_course_student)

    response = api.post(URL, payload(course, p5), format="json")

    assert response.status_code == 404
    assert not Annotation.objects.exists()


def test_token_auth_works(course, p5, author):
    token = Token.objects.create(user=author)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = api.post(URL, payload(course, p5), format="json")

    assert response.status_code == 201


def test_editing_marks_the_note_edited_and_keeps_the_span(api, course, author):
    note = AnnotationFactory(course=course, author=author)

    response = api.patch(f"{URL}{note.pk}/", {"body": "*Better*", "tags": ["x"]}, format="json")

    data = response.json()
    assert data["edited"] is True
    assert data["body_html"] == "<p><em>Better</em></p>\n"
    assert data["tags"] == ["x"]
    assert data["target"]["start"] == note.start


def test_changing_only_who_sees_it_is_not_an_edit(api, course, author):
    note = AnnotationFactory(course=course, author=author, visibility=Visibility.COURSE)

    data = api.patch(f"{URL}{note.pk}/", {"visibility": "private"}, format="json").json()

    assert data["visibility"] == "private"
    assert data["edited"] is False


def test_deleting_leaves_a_tombstone_that_keeps_its_replies(api, course, author, groupmate):
    note = AnnotationFactory(course=course, author=author)
    other = APIClient()
    other.force_authenticate(groupmate)
    other.post(f"{URL}{note.pk}/replies/", {"body": "A reply"}, format="json")

    response = api.delete(f"{URL}{note.pk}/")

    note.refresh_from_db()
    assert response.status_code == 204
    assert note.deleted_at is not None
    assert note.body == "A note."  # kept for moderation
    assert note.replies.count() == 1
    assert api.get(f"{URL}{note.pk}/").status_code == 404
    assert api.delete(f"{URL}{note.pk}/").status_code == 404


def test_replies_are_edited_and_deleted_by_their_author(api, course, author, groupmate):
    note = AnnotationFactory(course=course, author=groupmate)
    reply = api.post(f"{URL}{note.pk}/replies/", {"body": "First"}, format="json").json()
    other = APIClient()
    other.force_authenticate(groupmate)

    assert (
        other.patch(f"{URL}{note.pk}/replies/{reply['id']}/", {"body": "Hijack"}, format="json").status_code
        == 403
    )
    edited = api.patch(f"{URL}{note.pk}/replies/{reply['id']}/", {"body": "Second"}, format="json").json()
    assert edited["edited"] is True
    assert edited["body"] == "Second"
    assert api.delete(f"{URL}{note.pk}/replies/{reply['id']}/").status_code == 204
    thread = api.get(f"{URL}{note.pk}/").json()["replies"]
    assert thread == [{**thread[0], "deleted": True, "body": "", "body_html": ""}]
    assert api.post(f"{URL}{note.pk}/replies/", {"body": "   "}, format="json").status_code == 400


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"paragraph": "p-2"}, lambda a: a.paragraph_anchor == "p-2"),
        ({"author": "groupmate"}, lambda a: a.author.username == "groupmate"),
        ({"tag": "evidence"}, lambda a: a.tags.filter(name="evidence").exists()),
        ({"motivation": "questioning"}, lambda a: a.motivation == "questioning"),
        ({"visibility": "group"}, lambda a: a.visibility == "group"),
        ({"q": "sanctions"}, lambda a: "sanctions" in (a.body + a.exact).lower()),
        ({"claim": "c-02-1"}, lambda a: a.claim_id is not None and a.claim.key == "c-02-1"),
        (
            {"created_after": "2027-01-02T00:00:00Z"},
            lambda a: a.created_at >= dt.datetime(2027, 1, 2, tzinfo=dt.UTC),
        ),
    ],
)
def test_filters(api, course, author, groupmate, group_a, paper, params, keep, time_machine):
    p2 = paper.paragraphs.get(anchor="p-2")
    claim = Claim.objects.get(key="c-02-1")
    time_machine.move_to("2027-01-01T12:00:00Z")
    AnnotationFactory(course=course, author=author, motivation="questioning", body="About sanctions")
    time_machine.move_to("2027-01-03T12:00:00Z")
    tagged = AnnotationFactory(
        course=course, author=groupmate, paragraph=p2, visibility="group", group=group_a
    )
    tagged.tags.create(name="evidence")
    AnnotationFactory(
        course=course, author=author, paragraph=p2, claim=claim, start=claim.start, end=claim.end
    )

    data = api.get(URL, {**params, "course": course.pk}).json()

    wanted = {a.pk for a in Annotation.objects.all() if keep(a)}
    assert wanted
    assert {a["id"] for a in data["results"]} == wanted


def test_a_bad_filter_is_a_400(api):
    response = api.get(URL, {"created_after": "yesterday", "motivation": "shouting"})

    assert response.status_code == 400
    assert set(response.json()) == {"created_after", "motivation"}


def test_the_list_runs_a_fixed_number_of_queries(api, course, author, groupmate):
    AnnotationFactory(course=course, author=author)
    before = queries_for(api, URL)
    for _ in range(10):
        note = AnnotationFactory(course=course, author=groupmate)
        note.tags.create(name=f"tag{note.pk}")
        note.replies.create(author=author, body="r", body_html="<p>r</p>")

    assert queries_for(api, URL) == before <= 10


def test_helpful_is_once_per_member_and_counted(api, course, author, groupmate):
    note = AnnotationFactory(course=course, author=author)
    other = APIClient()
    other.force_authenticate(groupmate)

    first = other.post(f"{URL}{note.pk}/helpful/").json()
    again = other.post(f"{URL}{note.pk}/helpful/").json()
    mine = api.post(f"{URL}{note.pk}/helpful/").json()

    assert first == {"helpful": True, "helpful_count": 1}
    assert again == {"helpful": False, "helpful_count": 0}
    assert mine == {"helpful": True, "helpful_count": 1}
    assert api.get(f"{URL}{note.pk}/").json()["helpful_count"] == 1
