"""Notifications: in the app always, by e-mail or in a daily digest as each user chooses.

``notify`` is what other services call; e-mail goes out only after the transaction that
caused it commits, so a rolled-back act never sends mail.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from annotations.models import Course, Notification, NotificationPreference
from annotations.models.discussion import Delivery


def delivery_for(user, kind: str) -> str:
    preference = NotificationPreference.objects.filter(user=user, kind=kind).first()
    return preference.delivery if preference else Delivery.IN_APP


def notify(*, recipient, kind: str, actor, course: Course, text: str, url: str) -> Notification | None:
    """Tell ``recipient`` about something ``actor`` did; nobody is told about their own acts."""
    if recipient is None or (actor is not None and recipient.pk == actor.pk):
        return None
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, actor=actor, course=course, text=text[:300], url=url
    )
    if delivery_for(recipient, kind) == Delivery.EMAIL and recipient.email:
        transaction.on_commit(lambda: _email(notification.pk))
    return notification


def _email(notification_pk: int) -> None:
    notification = Notification.objects.select_related("recipient").get(pk=notification_pk)
    send_mail(
        subject=f"[{notification.course.title}] {notification.text}",
        message=f"{notification.text}\n\n{settings.SITE_URL}{notification.url}\n",
        from_email=None,
        recipient_list=[notification.recipient.email],
    )
    Notification.objects.filter(pk=notification_pk).update(emailed_at=timezone.now())
