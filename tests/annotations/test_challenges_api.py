"""/api/v1/challenges/: who reads, writes, deletes and resolves; filters; the 409 on a
stale version; the W3C export; query counts."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Claim, Source
from annotations.models.annotation import Visibility
from annotations.models.challenges import Challenge, ChallengeResponse, Stance
from annotations.services import challenges as services
from tests.annotations.w3c_suite import Suite, report, suite_root

pytestmark = pytest.mark.django_db

URL = "/api/v1/challenges/"
JSONLD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
USERS = [
    "author", "groupmate", "other_group_student", "other_course_student", "ta", "instructor",
    "other_instructor", "curator", "outsider",
]  # fmt: skip


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.filter(paragraph__document=paper).order_by("key").first()


@pytest.fixture
def source() -> Source:
    return Source.objects.filter(course__isnull=True).order_by("key").first()


@pytest.fixture
def users(request) -> dict:
    return {name: request.getfixturevalue(name) for name in USERS}


def challenge_of(author, course, claim, source, visibility=Visibility.COURSE, stance=Stance.DISPUTES):
    return services.challenge_create(
        user=author, course=course, claim=claim, stance=stance, argument="The paper is *wrong* here.",
        citations=[{"source": source, "page": "7", "quote": "It was 2001.", "url_fragment": "#ch2"}],
        visibility=visibility,
    )  # fmt: skip


# Who sees a challenge of each visibility (the annotations' rule).
SEES = {
    Visibility.COURSE: {"author", "groupmate", "other_group_student", "ta", "instructor", "curator"},
    Visibility.GROUP: {"author", "groupmate", "ta", "instructor", "curator"},
    Visibility.PRIVATE: {"author"},
}


@pytest.mark.parametrize("visibility", list(SEES))
def test_who_reads_a_challenge(course, users, claim, source, visibility):
    challenge = challenge_of(users["author"], course, claim, source, visibility)
    for name, user in users.items():
        detail = client_for(user).get(f"{URL}{challenge.pk}/")
        listed = [row["id"] for row in client_for(user).get(URL).data["results"]]
        if name in SEES[visibility]:
            assert detail.status_code == 200, name
            assert detail.data["argument"] == "The paper is *wrong* here."
            assert listed == [challenge.pk], name
        else:
            assert detail.status_code == 404, name
            assert listed == [], name


def test_anonymous_gets_401(course, author, claim, source):
    challenge = challenge_of(author, course, claim, source)
    assert client_for(None).get(URL).status_code == 401
    assert client_for(None).get(f"{URL}{challenge.pk}/").status_code == 401
    assert client_for(None).post(URL, {}, format="json").status_code == 401


def test_token_auth_works(course, author, claim, source):
    challenge = challenge_of(author, course, claim, source)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=author).key}")
    assert [row["id"] for row in api.get(URL).data["results"]] == [challenge.pk]


def test_a_member_files_a_challenge(course, author, claim, source):
    response = client_for(author).post(
        URL,
        {
            "course": course.pk, "claim": claim.key, "stance": "qualifies", "argument": "Only in part.",
            "citations": [{"source": source.key, "page": "3", "quote": "q", "url_fragment": "#x"}],
            "visibility": "group",
        },
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.data
    assert response.data["author"] == "author"
    assert response.data["group"] == "Group A"
    assert response.data["citations"][0]["source"] == source.key
    assert response.data["citations"][0]["page"] == "3"
    assert (response.data["status"], response.data["version"]) == ("open", 1)
    assert Challenge.objects.get().stance == Stance.QUALIFIES


def test_a_dispute_without_a_source_is_refused_with_the_message(course, author, claim):
    response = client_for(author).post(
        URL, {"course": course.pk, "claim": claim.key, "stance": "disputes", "argument": "No."}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {"citations": [services.NEEDS_SOURCE]}
    assert not Challenge.objects.exists()


def test_unknown_claim_or_source_is_a_400(course, author, claim):
    bad_claim = client_for(author).post(
        URL, {"course": course.pk, "claim": "nope", "stance": "supports", "argument": "x"}, format="json"
    )
    bad_source = client_for(author).post(
        URL,
        {"course": course.pk, "claim": claim.key, "stance": "supports", "argument": "x",
         "citations": [{"source": "no-such-source"}]},
        format="json",
    )  # fmt: skip
    assert bad_claim.status_code == 400
    assert "claim" in bad_claim.data
    assert bad_source.status_code == 400
    assert "citations" in bad_source.data


@pytest.mark.parametrize(
    ("name", "code"), [("other_course_student", 404), ("outsider", 404), ("curator", 403), ("ta", 201)]
)
def test_who_may_file_in_a_course(request, course, claim, name, code):
    """Members file (staff too); site staff see the course but are not in it; others see no course."""
    user = request.getfixturevalue(name)
    response = client_for(user).post(
        URL, {"course": course.pk, "claim": claim.key, "stance": "supports", "argument": "x"}, format="json"
    )
    assert response.status_code == code


@pytest.mark.parametrize("name", USERS)
def test_only_the_author_edits_and_deletes(course, users, claim, source, name):
    challenge = challenge_of(users["author"], course, claim, source)
    client = client_for(users[name])
    patched = client.patch(f"{URL}{challenge.pk}/", {"argument": "Changed"}, format="json")
    deleted = client.delete(f"{URL}{challenge.pk}/")
    challenge.refresh_from_db()
    if name == "author":
        assert (patched.status_code, patched.data["argument"], patched.data["edited_at"] is not None) == (
            200, "Changed", True
        )  # fmt: skip
        assert deleted.status_code == 204
        assert challenge.deleted_at is not None
    else:
        expected = 403 if name in SEES[Visibility.COURSE] else 404
        assert (patched.status_code, deleted.status_code) == (expected, expected), name
        assert challenge.argument == "The paper is *wrong* here."
        assert challenge.deleted_at is None


@pytest.mark.parametrize("name", USERS)
def test_who_responds_in_the_thread(course, users, claim, source, name):
    challenge = challenge_of(users["author"], course, claim, source)
    response = client_for(users[name]).post(f"{URL}{challenge.pk}/responses/", {"body": "Hm"}, format="json")
    if name in SEES[Visibility.COURSE] - {"curator"}:
        assert response.status_code == 201
        assert response.data["author"] == name
        assert ChallengeResponse.objects.get().body == "Hm"
    else:
        assert response.status_code == (403 if name == "curator" else 404), name
        assert not ChallengeResponse.objects.exists()


@pytest.mark.parametrize("name", USERS)
def test_who_resolves(course, users, claim, source, name):
    challenge = challenge_of(users["author"], course, claim, source)
    response = client_for(users[name]).post(
        f"{URL}{challenge.pk}/resolve/", {"status": "upheld", "feedback": "Good", "version": 1}, format="json"
    )
    challenge.refresh_from_db()
    if name in {"ta", "instructor", "curator"}:
        assert response.status_code == 200
        assert (response.data["status"], response.data["version"], response.data["resolved_by"]) == (
            "upheld", 2, name
        )  # fmt: skip
        assert challenge.status == "upheld"
    else:
        assert response.status_code == (403 if name in SEES[Visibility.COURSE] else 404), name
        assert (challenge.status, challenge.version) == ("open", 1)


def test_resolving_twice_on_the_same_version_is_a_409_with_the_current_state(
    course, author, ta, instructor, claim, source
):
    challenge = challenge_of(author, course, claim, source)
    body = {"status": "rejected", "feedback": "No", "version": 1}
    first = client_for(ta).post(f"{URL}{challenge.pk}/resolve/", body, format="json")
    second = client_for(instructor).post(
        f"{URL}{challenge.pk}/resolve/", {**body, "status": "upheld"}, format="json"
    )

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.data["detail"] == services.CONFLICT
    assert (second.data["current"]["status"], second.data["current"]["version"]) == ("rejected", 2)
    assert second.data["current"]["resolved_by"] == "ta"
    challenge.refresh_from_db()
    assert (challenge.status, challenge.resolved_by, challenge.version) == ("rejected", ta, 2)


def test_reopen_then_resolve_again(course, author, ta, claim, source):
    challenge = challenge_of(author, course, claim, source)
    client = client_for(ta)
    client.post(f"{URL}{challenge.pk}/resolve/", {"status": "rejected", "version": 1}, format="json")
    stale = client.post(f"{URL}{challenge.pk}/reopen/", {"version": 1}, format="json")
    reopened = client.post(f"{URL}{challenge.pk}/reopen/", {"version": 2}, format="json")
    again = client.post(f"{URL}{challenge.pk}/resolve/", {"status": "upheld", "version": 3}, format="json")

    assert stale.status_code == 409
    assert stale.data["current"]["status"] == "rejected"
    assert (reopened.status_code, reopened.data["status"], reopened.data["version"]) == (200, "open", 3)
    assert (again.status_code, again.data["status"], again.data["version"]) == (200, "upheld", 4)


def test_students_cannot_reopen(course, author, ta, claim, source):
    challenge = challenge_of(author, course, claim, source)
    services.challenge_resolve(user=ta, challenge=challenge, status="rejected", expected_version=1)
    assert (
        client_for(author).post(f"{URL}{challenge.pk}/reopen/", {"version": 2}, format="json").status_code
        == 403
    )


def test_filters(course, author, groupmate, other_group_student, ta, claim, source, group_a, paper):
    other_claim = Claim.objects.filter(paragraph__document=paper).exclude(pk=claim.pk).order_by("key").first()
    dispute = challenge_of(author, course, claim, source)
    support = challenge_of(
        groupmate, course, other_claim, source, visibility=Visibility.GROUP, stance="supports"
    )
    services.challenge_resolve(user=ta, challenge=support, status="upheld", expected_version=1)
    client = client_for(ta)

    def ids(query: str) -> list[int]:
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.data
        return sorted(row["id"] for row in response.data["results"])

    assert ids(f"claim={claim.key}") == [dispute.pk]
    assert ids("stance=supports") == [support.pk]
    assert ids("status=open") == [dispute.pk]
    assert ids("status=upheld") == [support.pk]
    assert ids(f"course={course.pk}") == sorted([dispute.pk, support.pk])
    assert ids("author=groupmate") == [support.pk]
    assert ids(f"group={group_a.pk}") == [support.pk]
    assert client.get(f"{URL}?stance=nonsense").status_code == 400


def test_the_list_runs_a_bounded_number_of_queries(course, author, groupmate, ta, claim, source):
    def count() -> int:
        client = client_for(ta)
        with CaptureQueriesContext(connection) as context:
            response = client.get(URL)
        assert response.status_code == 200
        return len(context.captured_queries)

    challenge_of(author, course, claim, source)
    before = count()
    for n in range(5):
        more = challenge_of(groupmate if n % 2 else author, course, claim, source)
        services.challenge_respond(user=groupmate, challenge=more, body=f"reply {n}")
    assert count() == before


# -- W3C --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def suite() -> Suite:
    return Suite(suite_root())


def test_a_challenge_is_a_w3c_assessing_annotation_that_passes_every_must(
    suite, course, author, claim, source
):
    challenge = challenge_of(author, course, claim, source)
    response = client_for(author).get(f"{URL}{challenge.pk}/", HTTP_ACCEPT=JSONLD)
    assert response.status_code == 200
    assert response["Content-Type"] == JSONLD
    data = json.loads(response.content)

    assert data["motivation"] == "assessing"
    assert data["body"][0] == {
        "type": "TextualBody", "value": "The paper is *wrong* here.", "format": "text/markdown",
        "purpose": "assessing",
    }  # fmt: skip
    cited = data["body"][1]
    assert cited["type"] == "SpecificResource"
    assert cited["source"]["type"] == "Text"
    assert {"type": "TextQuoteSelector", "exact": "It was 2001."} in cited["selector"]
    span = data["target"][0]
    assert span["source"].endswith(f"#{claim.paragraph.anchor}")
    assert span["selector"][0]["exact"] == claim.quote
    assert span["selector"][1] == {"type": "TextPositionSelector", "start": claim.start, "end": claim.end}

    outcomes = suite.run("annotations/annotationMusts.test", data)
    assert outcomes
    assert all(o.status == "pass" for o in outcomes), report(outcomes)


def test_a_source_without_url_or_doi_gets_a_tag_iri(suite, course, author, claim):
    bare = Source.objects.create(
        key="bare-source", kind=Source.Kind.BOOK, authors=["Li, Wei"], year=1999, title="Bare"
    )
    challenge = challenge_of(author, course, claim, bare)
    data = json.loads(client_for(author).get(f"{URL}{challenge.pk}/", HTTP_ACCEPT=JSONLD).content)
    assert data["body"][1]["source"]["id"] == "tag:testserver,2026:source:bare-source"
    assert all(o.status == "pass" for o in suite.run("annotations/annotationMusts.test", data))


def test_the_w3c_export_is_404_for_those_who_cannot_see(course, author, other_course_student, claim, source):
    challenge = challenge_of(author, course, claim, source)
    response = client_for(other_course_student).get(f"{URL}{challenge.pk}/", HTTP_ACCEPT=JSONLD)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "code"), [("groupmate", 200), ("author", 403), ("other_course_student", 404)]
)
def test_only_a_responses_author_edits_or_deletes_it(
    request, course, author, groupmate, claim, source, name, code
):
    challenge = challenge_of(author, course, claim, source)
    reply = services.challenge_respond(user=groupmate, challenge=challenge, body="First thought")
    client = client_for(request.getfixturevalue(name))
    url = f"{URL}{challenge.pk}/responses/{reply.pk}/"

    edited = client.patch(url, {"body": "Second thought"}, format="json")
    deleted = client.delete(url)

    reply.refresh_from_db()
    if code == 200:
        assert (edited.status_code, edited.data["body"], deleted.status_code) == (200, "Second thought", 204)
        assert reply.deleted_at is not None
        assert client.get(f"{URL}{challenge.pk}/").data["responses"][0]["deleted"] is True
    else:
        assert (edited.status_code, deleted.status_code) == (code, code)
        assert (reply.body, reply.deleted_at) == ("First thought", None)


def test_changing_the_stance_to_a_dispute_without_sources_is_refused(course, author, claim):
    support = services.challenge_create(
        user=author, course=course, claim=claim, stance=Stance.SUPPORTS, argument="Right."
    )
    response = client_for(author).patch(f"{URL}{support.pk}/", {"stance": "disputes"}, format="json")
    assert response.status_code == 400
    assert response.data == {"citations": [services.NEEDS_SOURCE]}
    support.refresh_from_db()
    assert support.stance == Stance.SUPPORTS


def test_replacing_citations_through_the_api(course, author, claim, source):
    challenge = challenge_of(author, course, claim, source)
    other = Source.objects.filter(course__isnull=True).exclude(pk=source.pk).order_by("key").first()
    response = client_for(author).patch(
        f"{URL}{challenge.pk}/", {"citations": [{"source": other.key, "page": "1"}]}, format="json"
    )
    assert response.status_code == 200
    assert [(c["source"], c["page"]) for c in response.data["citations"]] == [(other.key, "1")]
