"""/api/v1/links/: list, filter, propose, withdraw and decide claim–event link proposals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Claim
from annotations.models.challenges import LinkProposal, ProposalStatus
from annotations.services import links as services
from tests.factories import EventFactory
from timeline.models import Event

pytestmark = pytest.mark.django_db

URL = "/api/v1/links/"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.get(key="c-20-8")


@pytest.fixture
def summit() -> Event:
    return Event.objects.get(key="moscow-summit-1997")


@pytest.fixture
def proposal(author, course, claim, summit) -> LinkProposal:
    return services.link_propose(
        user=author, course=course, claim=claim, event=summit, relation="dates", note="Same meeting?"
    )


def test_a_member_proposes_a_link_and_reads_its_date_check(author, course, claim, summit):
    response = client_for(author).post(
        URL,
        {"course": course.pk, "claim": "c-20-8", "event": "moscow-summit-1997", "relation": "dates"},
        format="json",
    )

    assert response.status_code == 201, response.data
    data = response.data
    assert (data["author"], data["claim"], data["event"], data["status"]) == (
        "author", "c-20-8", "moscow-summit-1997", "proposed",
    )  # fmt: skip
    assert (data["claim_stated_date"], data["event_date"]) == ("2012-04", "1997-04-24")
    assert data["date_disagrees"] is True
    assert LinkProposal.objects.filter(course=course, proposer=author).count() == 1


def test_a_duplicate_proposal_is_a_400_with_a_message(proposal, groupmate, course):
    response = client_for(groupmate).post(
        URL,
        {"course": course.pk, "claim": "c-20-8", "event": "moscow-summit-1997", "relation": "context"},
        format="json",
    )
    assert response.status_code == 400
    assert response.data == {"event": [services.DUPLICATE_LINK]}


def test_unknown_claim_and_bad_relation_are_field_errors(author, course):
    response = client_for(author).post(
        URL, {"course": course.pk, "claim": "nope", "event": "moscow-summit-1997", "relation": "dates"}
    )
    assert response.status_code == 400
    assert "claim" in response.data
    response = client_for(author).post(
        URL, {"course": course.pk, "claim": "c-20-8", "event": "moscow-summit-1997", "relation": "x"}
    )
    assert response.status_code == 400
    assert "relation" in response.data


def test_someone_outside_the_course_cannot_propose_in_it(other_course_student, course):
    response = client_for(other_course_student).post(
        URL, {"course": course.pk, "claim": "c-20-8", "event": "moscow-summit-1997", "relation": "dates"}
    )
    assert response.status_code == 404
    assert not LinkProposal.objects.exists()


@pytest.mark.parametrize(
    ("name", "seen"),
    [
        ("author", True),
        ("other_group_student", True),
        ("ta", True),
        ("instructor", True),
        ("curator", True),
        ("other_course_student", False),
        ("other_instructor", False),
        ("outsider", False),
    ],
)
def test_course_members_and_site_staff_see_the_proposals(request, name, seen, proposal):
    client = client_for(request.getfixturevalue(name))

    listed = client.get(URL)
    detail = client.get(f"{URL}{proposal.pk}/")

    assert [item["id"] for item in listed.data["results"]] == ([proposal.pk] if seen else [])
    assert detail.status_code == (200 if seen else 404)


def test_anonymous_gets_a_401(proposal):
    assert client_for(None).get(URL).status_code == 401
    assert client_for(None).post(f"{URL}{proposal.pk}/decide/", {"accept": True}).status_code == 401


def test_token_auth_works(author, proposal):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=author).key}")
    response = client.get(URL)
    assert [item["id"] for item in response.data["results"]] == [proposal.pk]


def test_the_ta_accepts_and_a_second_decision_gets_the_current_state(proposal, ta, instructor):
    accepted = client_for(ta).post(f"{URL}{proposal.pk}/decide/", {"accept": True, "feedback": "Yes."})
    assert accepted.status_code == 200
    assert (accepted.data["status"], accepted.data["decided_by"], accepted.data["feedback"]) == (
        "accepted", "ta", "Yes.",
    )  # fmt: skip

    again = client_for(instructor).post(f"{URL}{proposal.pk}/decide/", {"accept": False}, format="json")
    assert again.status_code == 409
    assert "accepted" in again.data["status"][0]
    assert again.data["current"]["status"] == "accepted"
    assert LinkProposal.objects.get(pk=proposal.pk).status == ProposalStatus.ACCEPTED


def test_students_cannot_decide(proposal, author, groupmate):
    for user in (author, groupmate):
        response = client_for(user).post(f"{URL}{proposal.pk}/decide/", {"accept": True})
        assert response.status_code == 403
    assert LinkProposal.objects.get(pk=proposal.pk).status == ProposalStatus.PROPOSED


def test_only_the_proposer_deletes_while_proposed(proposal, groupmate, author, ta):
    assert client_for(groupmate).delete(f"{URL}{proposal.pk}/").status_code == 403
    assert client_for(ta).delete(f"{URL}{proposal.pk}/").status_code == 403
    assert client_for(author).delete(f"{URL}{proposal.pk}/").status_code == 204
    assert not LinkProposal.objects.filter(pk=proposal.pk).exists()


def test_a_decided_proposal_cannot_be_deleted(proposal, author, ta):
    services.link_decide(user=ta, proposal=proposal, accept=False)
    assert client_for(author).delete(f"{URL}{proposal.pk}/").status_code == 403
    assert LinkProposal.objects.filter(pk=proposal.pk).exists()


def test_filters_narrow_the_list(proposal, author, groupmate, ta, course, claim):
    april = EventFactory(key="april-2012-meeting", date=dt.date(2012, 4, 20))
    matching = services.link_propose(
        user=groupmate, course=course, claim=claim, event=april, relation="dates"
    )
    context = services.link_propose(
        user=groupmate,
        course=course,
        claim=Claim.objects.get(key="c-20-9"),
        event=Event.objects.get(key="moscow-summit-1997"),
        relation="context",
    )
    services.link_decide(user=ta, proposal=matching, accept=True)
    client = client_for(author)

    def ids(query: str) -> set[int]:
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.data
        return {item["id"] for item in response.data["results"]}

    assert ids("mismatch=true") == {proposal.pk}
    assert ids("mismatch=false") == {matching.pk, context.pk}
    assert ids("claim=c-20-8") == {proposal.pk, matching.pk}
    assert ids("event=april-2012-meeting") == {matching.pk}
    assert ids("status=accepted") == {matching.pk}
    assert ids("author=author") == {proposal.pk}
    assert ids("relation=context") == {context.pk}
    assert ids(f"course={course.pk}") == {proposal.pk, matching.pk, context.pk}
    assert ids("course=999999") == set()


def test_the_list_runs_a_bounded_number_of_queries(proposal, author, groupmate, course, claim):
    client = client_for(author)

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"{URL}?mismatch=false").status_code == 200
        return len(context.captured_queries)

    before = count()
    for event in EventFactory.create_batch(5):
        services.link_propose(user=groupmate, course=course, claim=claim, event=event, relation="dates")
    assert count() == before
