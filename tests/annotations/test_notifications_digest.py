"""The send_digests command: one e-mail per user, each notification in at most one digest."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from annotations.models import Notification, NotificationPreference
from annotations.models.discussion import Delivery
from annotations.services.notifications import notify

pytestmark = pytest.mark.django_db


def digest(user, kind="reply") -> None:
    if not user.email:
        user.email = f"{user.username}@example.org"
        user.save()
    NotificationPreference.objects.create(user=user, kind=kind, delivery=Delivery.DIGEST)


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_digests", *args, stdout=out)
    return out.getvalue()


def test_it_sends_one_digest_per_user_with_all_their_digested_notifications(course, author, groupmate, ta):
    digest(author)
    digest(groupmate)
    notify(recipient=author, kind="reply", actor=ta, course=course, message="First reply", url="/a/")
    notify(recipient=author, kind="reply", actor=ta, course=course, message="Second reply", url="/b/")
    notify(recipient=author, kind="mention", actor=ta, course=course, message="Not digested", url="/c/")
    notify(recipient=groupmate, kind="reply", actor=ta, course=course, message="Groupmate's reply", url="/d/")

    output = run()

    assert len(mail.outbox) == 2
    by_recipient = {message.to[0]: message.body for message in mail.outbox}
    assert "First reply" in by_recipient["author@example.org"]
    assert "Second reply" in by_recipient["author@example.org"]
    assert "Not digested" not in by_recipient["author@example.org"]
    assert "Groupmate's reply" in by_recipient["groupmate@example.org"]
    assert "author: 2 notification(s)" in output
    assert "Sent 2 digest(s) with 3 notification(s)." in output
    assert Notification.objects.get(text="Not digested").emailed_at is None


def test_it_never_sends_a_notification_twice(course, author, ta):
    digest(author)
    notify(recipient=author, kind="reply", actor=ta, course=course, message="Old reply", url="/a/")
    run()
    notify(recipient=author, kind="reply", actor=ta, course=course, message="New reply", url="/b/")

    run()
    output = run()

    assert len(mail.outbox) == 2
    assert "Old reply" not in mail.outbox[1].body
    assert "New reply" in mail.outbox[1].body
    assert "Sent 0 digest(s)" in output


def test_a_dry_run_sends_and_marks_nothing(course, author, ta):
    digest(author)
    notify(recipient=author, kind="reply", actor=ta, course=course, message="A reply", url="/a/")

    output = run("--dry-run")

    assert mail.outbox == []
    assert Notification.objects.get().emailed_at is None
    assert "Would send 1 digest(s) with 1 notification(s)." in output


def test_a_user_without_an_address_gets_no_digest(course, author, ta):
    NotificationPreference.objects.create(user=author, kind="reply", delivery=Delivery.DIGEST)
    notify(recipient=author, kind="reply", actor=ta, course=course, message="A reply", url="/a/")

    run()

    assert mail.outbox == []
