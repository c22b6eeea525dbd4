"""link_propose, link_withdraw and link_decide: who may act, duplicates, decisions once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from annotations.models import Claim
from annotations.models.challenges import LinkProposal, ProposalStatus
from annotations.services import links as services
from tests.factories import ClaimFactory, DocumentFactory, EventFactory, ParagraphFactory
from timeline.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.get(key="c-20-8")


@pytest.fixture
def summit() -> Event:
    return Event.objects.get(key="moscow-summit-1997")


def propose(user, course, claim, event, relation="dates", note="Same meeting?") -> LinkProposal:
    return services.link_propose(
        user=user, course=course, claim=claim, event=event, relation=relation, note=note
    )


def test_a_member_proposes_a_link_that_waits_for_a_decision(author, course, claim, summit):
    proposal = propose(author, course, claim, summit)

    stored = LinkProposal.objects.get(pk=proposal.pk)
    assert (stored.proposer, stored.claim, stored.event, stored.relation) == (author, claim, summit, "dates")
    assert stored.status == ProposalStatus.PROPOSED
    assert stored.note == "Same meeting?"


@pytest.mark.parametrize("name", ["other_course_student", "other_instructor", "outsider"])
def test_it_refuses_a_proposal_from_someone_outside_the_course(request, name, course, claim, summit):
    with pytest.raises(PermissionDenied):
        propose(request.getfixturevalue(name), course, claim, summit)
    assert not LinkProposal.objects.exists()


def test_it_refuses_a_claim_from_another_reading(author, course, summit):
    other = ClaimFactory(paragraph=ParagraphFactory(document=DocumentFactory()))
    with pytest.raises(ValidationError) as error:
        propose(author, course, other, summit)
    assert error.value.message_dict == {"claim": [services.CLAIM_NOT_IN_READING]}


def test_it_refuses_the_same_link_twice_in_a_course(author, groupmate, course, claim, summit):
    propose(author, course, claim, summit)
    with pytest.raises(ValidationError) as error:
        propose(groupmate, course, claim, summit, relation="context")
    assert error.value.message_dict == {"event": [services.DUPLICATE_LINK]}
    assert LinkProposal.objects.count() == 1


def test_another_course_may_propose_the_same_link(
    author, other_course_student, course, other_course, claim, summit
):
    propose(author, course, claim, summit)
    propose(other_course_student, other_course, claim, summit)
    assert LinkProposal.objects.count() == 2


@pytest.mark.parametrize("name", ["ta", "instructor", "curator"])
def test_staff_accept_a_proposed_link_with_feedback(request, name, author, course, claim, summit):
    proposal = propose(author, course, claim, summit)
    decider = request.getfixturevalue(name)

    services.link_decide(user=decider, proposal=proposal, accept=True, feedback=" Well spotted. ")

    stored = LinkProposal.objects.get(pk=proposal.pk)
    assert stored.status == ProposalStatus.ACCEPTED
    assert (stored.feedback, stored.decided_by) == ("Well spotted.", decider)
    assert stored.decided_at is not None


@pytest.mark.parametrize("name", ["author", "groupmate", "other_instructor"])
def test_students_and_other_courses_staff_cannot_decide(request, name, author, course, claim, summit):
    proposal = propose(author, course, claim, summit)
    with pytest.raises(PermissionDenied):
        services.link_decide(user=request.getfixturevalue(name), proposal=proposal, accept=True)
    assert LinkProposal.objects.get(pk=proposal.pk).status == ProposalStatus.PROPOSED


def test_a_second_decision_is_refused_with_the_current_state(author, ta, instructor, course, claim, summit):
    proposal = propose(author, course, claim, summit)
    services.link_decide(user=ta, proposal=proposal, accept=False, feedback="Not the same treaty.")

    # The instructor acts on the copy read before the TA decided.
    with pytest.raises(services.AlreadyDecided) as error:
        services.link_decide(user=instructor, proposal=proposal, accept=True)

    assert error.value.status == ProposalStatus.DECLINED
    assert "declined" in error.value.message_dict["status"][0]
    stored = LinkProposal.objects.get(pk=proposal.pk)
    assert (stored.status, stored.decided_by, stored.feedback) == ("declined", ta, "Not the same treaty.")


def test_only_the_proposer_withdraws_and_only_while_proposed(author, groupmate, ta, course, claim, summit):
    proposal = propose(author, course, claim, summit)
    with pytest.raises(PermissionDenied):
        services.link_withdraw(user=groupmate, proposal=proposal)
    services.link_withdraw(user=author, proposal=proposal)
    assert not LinkProposal.objects.exists()

    decided = propose(author, course, claim, summit)
    decided = services.link_decide(user=ta, proposal=decided, accept=True)
    with pytest.raises(PermissionDenied):
        services.link_withdraw(user=author, proposal=decided)
    assert LinkProposal.objects.filter(pk=decided.pk).exists()


def test_a_claim_stating_april_2012_disagrees_with_the_1997_summit(author, course, claim, summit):
    assert claim.stated_date_iso == "2012-04"
    assert propose(author, course, claim, summit, relation="dates").date_disagrees is True


def test_a_matching_event_does_not_disagree(author, course, claim):
    april = EventFactory(date=dt.date(2012, 4, 20))
    assert propose(author, course, claim, april, relation="describes").date_disagrees is False


def test_a_context_link_never_disagrees(author, course, claim, summit):
    assert propose(author, course, claim, summit, relation="context").date_disagrees is False
