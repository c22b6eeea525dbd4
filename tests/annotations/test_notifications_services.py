"""notify, its hooks in resolving challenges and deciding proposals, and marking read."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from annotations.models import Claim, Notification, NotificationPreference, Source
from annotations.models.challenges import ChallengeStatus, Stance
from annotations.models.discussion import Delivery, NotificationKind
from annotations.services import challenges as challenge_services
from annotations.services import links as link_services
from annotations.services.notifications import notification_mark_read, notify
from timeline.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.get(key="c-20-8")


@pytest.fixture
def challenge(course, author, claim):
    source = Source.objects.filter(course__isnull=True).order_by("key").first()
    return challenge_services.challenge_create(
        user=author,
        course=course,
        claim=claim,
        stance=Stance.DISPUTES,
        argument="The record says otherwise.",
        citations=[{"source": source, "page": "12", "quote": "a passage", "url_fragment": ""}],
        visibility="course",
    )


@pytest.fixture
def proposal(course, author, claim):
    return link_services.link_propose(
        user=author,
        course=course,
        claim=claim,
        event=Event.objects.get(key="moscow-summit-1997"),
        relation="dates",
        note="Same meeting?",
    )


def test_a_resolved_challenge_notifies_its_author_only(course, author, groupmate, ta, claim, challenge):
    challenge_services.challenge_resolve(
        user=ta, challenge=challenge, status=ChallengeStatus.UPHELD, expected_version=1
    )

    notification = Notification.objects.get()
    assert (notification.recipient, notification.actor, notification.kind) == (
        author,
        ta,
        NotificationKind.CHALLENGE_RESOLVED,
    )
    assert notification.text == "Your challenge on claim c-20-8 was upheld."
    assert notification.url == reverse("challenges:claim", kwargs={"pk": course.pk, "key": claim.key})


@pytest.mark.parametrize(("accept", "word"), [(True, "accepted"), (False, "declined")])
def test_a_decided_link_notifies_its_proposer_only(course, author, instructor, proposal, accept, word):
    link_services.link_decide(user=instructor, proposal=proposal, accept=accept)

    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind) == (author, NotificationKind.LINK_DECIDED)
    assert word in notification.text
    assert "c-20-8" in notification.text


def test_a_decided_event_proposal_notifies_its_proposer(course, author, instructor):
    source = Source.objects.filter(course__isnull=True).order_by("key").first()
    proposal = link_services.event_propose(
        user=author, course=course, title="A new summit", date="2001-06-15", type="summit", source=source
    )
    link_services.event_decide(user=instructor, proposal=proposal, accept=False)

    notification = Notification.objects.get()
    assert notification.recipient == author
    assert notification.text == "Your proposed event “A new summit” was declined."


def test_nobody_is_notified_of_their_own_act(course, author):
    assert notify(recipient=author, kind="reply", actor=author, course=course, message="x", url="/") is None
    assert not Notification.objects.exists()


def test_an_email_preference_sends_one_mail_only_after_commit(
    course, author, ta, django_capture_on_commit_callbacks
):
    author.email = "author@example.org"
    author.save()
    NotificationPreference.objects.create(user=author, kind="reply", delivery=Delivery.EMAIL)

    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=author, kind="reply", actor=ta, course=course, message="A reply", url="/x/")
        assert mail.outbox == []

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["author@example.org"]
    assert "A reply" in mail.outbox[0].subject
    assert Notification.objects.get().emailed_at is not None


def test_no_mail_leaves_when_the_transaction_rolls_back(
    course, author, ta, django_capture_on_commit_callbacks
):
    author.email = "author@example.org"
    author.save()
    NotificationPreference.objects.create(user=author, kind="reply", delivery=Delivery.EMAIL)

    def reply_then_fail() -> None:
        with transaction.atomic():
            notify(recipient=author, kind="reply", actor=ta, course=course, message="A reply", url="/x/")
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        reply_then_fail()

    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_in_app_and_digest_preferences_send_no_mail_at_once(
    course, author, ta, django_capture_on_commit_callbacks
):
    author.email = "author@example.org"
    author.save()
    NotificationPreference.objects.create(user=author, kind="reply", delivery=Delivery.DIGEST)

    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=author, kind="reply", actor=ta, course=course, message="A reply", url="/x/")
        notify(recipient=author, kind="mention", actor=ta, course=course, message="A mention", url="/x/")

    assert mail.outbox == []


def test_marking_read_touches_only_the_users_own(course, author, groupmate, ta):
    mine = notify(recipient=author, kind="reply", actor=ta, course=course, message="a", url="/")
    also_mine = notify(recipient=author, kind="reply", actor=ta, course=course, message="b", url="/")
    theirs = notify(recipient=groupmate, kind="reply", actor=ta, course=course, message="c", url="/")

    assert notification_mark_read(user=author, ids=[mine.pk, theirs.pk]) == 1
    assert notification_mark_read(user=author) == 1

    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True))
    assert unread == {theirs.pk}
    assert also_mine.pk not in unread
