"""Notifications: in the app always, by e-mail or in a daily digest as each user chooses.

``notify`` is what other services call; e-mail goes out only after the transaction that
caused it commits, so a rolled-back act never sends mail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations.models import Course, Notification, NotificationPreference
from annotations.models.challenges import LinkProposal, ProposalStatus
from annotations.models.discussion import Delivery, NotificationKind

INVALID_DELIVERY = _("Choose in the app only, by e-mail or in a daily digest.")
UNKNOWN_KIND = _("There is no such kind of notification.")


def notifications_for(user) -> QuerySet[Notification]:
    """The user's own notifications, newest first; nobody sees anyone else's."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


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


def notify_many(
    *, recipients: Iterable, kind: str, actor, course: Course, text: str, url: str
) -> list[Notification]:
    """``notify`` for a whole class at once, in a fixed number of queries (the e-mails, for
    those who chose them, go out one by one after the commit)."""
    recipients = [r for r in recipients if r is not None and (actor is None or r.pk != actor.pk)]
    notifications = Notification.objects.bulk_create(
        [
            Notification(recipient=r, kind=kind, actor=actor, course=course, text=text[:300], url=url)
            for r in recipients
        ]
    )
    by_email = set(
        NotificationPreference.objects.filter(
            user__in=recipients, kind=kind, delivery=Delivery.EMAIL
        ).values_list("user_id", flat=True)
    )
    for notification, recipient in zip(notifications, recipients, strict=True):
        if recipient.pk in by_email and recipient.email:
            transaction.on_commit(lambda pk=notification.pk: _email(pk))
    return notifications


def _email(notification_pk: int) -> None:
    notification = Notification.objects.select_related("recipient").get(pk=notification_pk)
    send_mail(
        subject=f"[{notification.course.title}] {notification.text}",
        message=f"{notification.text}\n\n{settings.SITE_URL}{notification.url}\n",
        from_email=None,
        recipient_list=[notification.recipient.email],
    )
    Notification.objects.filter(pk=notification_pk).update(emailed_at=timezone.now())


def notify_challenge_resolved(*, challenge, actor) -> Notification | None:
    """Tell a challenge's author how staff resolved it."""
    outcome = challenge.get_status_display().lower()
    return notify(
        recipient=challenge.author,
        kind=NotificationKind.CHALLENGE_RESOLVED,
        actor=actor,
        course=challenge.course,
        text=f"Your challenge on claim {challenge.claim.key} was {outcome}.",
        url=reverse("challenges:claim", kwargs={"pk": challenge.course_id, "key": challenge.claim.key}),
    )


def notify_proposal_decided(*, proposal, actor) -> Notification | None:
    """Tell the proposer of a claim–event link or of an event whether staff accepted it."""
    outcome = "accepted" if proposal.status == ProposalStatus.ACCEPTED else "declined"
    if isinstance(proposal, LinkProposal):
        text = f"Your link from claim {proposal.claim.key} to event “{proposal.event.title}” was {outcome}."
        url = reverse("links:claim", kwargs={"pk": proposal.course_id, "key": proposal.claim.key})
    else:
        text = f"Your proposed event “{proposal.title}” was {outcome}."
        url = reverse("links:review", kwargs={"pk": proposal.course_id})
    return notify(
        recipient=proposal.proposer,
        kind=NotificationKind.LINK_DECIDED,
        actor=actor,
        course=proposal.course,
        text=text,
        url=url,
    )


def notification_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own unread notifications read: those in ``ids``, or all when ``ids`` is None.

    Others' notifications among ``ids`` are silently left alone; returns how many were marked.
    """
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def preferences_for(user) -> dict[str, str]:
    """Each notification kind with the user's chosen delivery (in the app only when unset)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, Delivery.IN_APP) for kind in NotificationKind.values}


def notification_preferences_set(*, user, deliveries: dict[str, str]) -> None:
    """Save the user's delivery per kind; unknown kinds or deliveries are refused."""
    errors = {kind: INVALID_DELIVERY for kind, value in deliveries.items() if value not in Delivery.values}
    errors.update({kind: UNKNOWN_KIND for kind in deliveries if kind not in NotificationKind.values})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for kind, delivery in deliveries.items():
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"delivery": delivery}
            )


@dataclass
class DigestRun:
    users: int
    notifications: int


def digests_send(*, dry_run: bool = False, progress: Callable[[str], None] | None = None) -> DigestRun:
    """E-mail each user one digest of their notifications not yet e-mailed whose kind they digest.

    A notification is marked ``emailed_at`` as its digest is sent, so it is never sent twice;
    running again at once sends nothing. With ``dry_run`` nothing is sent or marked.
    """
    digested = NotificationPreference.objects.filter(delivery=Delivery.DIGEST)
    pending = (
        Notification.objects.filter(emailed_at__isnull=True)
        .filter(
            Exists(digested.filter(user=OuterRef("recipient"), kind=OuterRef("kind"))),
        )
        .exclude(recipient__email="")
        .select_related("recipient", "course")
        .order_by("recipient_id", "created_at", "pk")
    )
    by_user: dict[int, list[Notification]] = {}
    for notification in pending:
        by_user.setdefault(notification.recipient_id, []).append(notification)
    sent = 0
    for count, notifications in enumerate(by_user.values(), start=1):
        recipient = notifications[0].recipient
        if progress:
            progress(
                f"[{count}/{len(by_user)}] {recipient.get_username()}: {len(notifications)} notification(s)"
            )
        sent += len(notifications)
        if dry_run:
            continue
        with transaction.atomic():
            ids = [n.pk for n in notifications]
            # Claim the rows first, so a concurrent run cannot send the same ones again.
            claimed = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(
                emailed_at=timezone.now()
            )
            if claimed != len(ids):
                transaction.set_rollback(True)
                continue
            lines = [f"- [{n.course.title}] {n.text}\n  {settings.SITE_URL}{n.url}" for n in notifications]
            send_mail(
                subject=f"Your daily digest: {len(notifications)} notification(s)",
                message="\n".join(lines) + "\n",
                from_email=None,
                recipient_list=[recipient.email],
            )
    return DigestRun(users=len(by_user), notifications=sent)


MODERATION_NEWS = {
    "hide": "Your {what} was hidden by a moderator: {reason}",
    "restore": "Your {what} is visible again.",
    "approve": "Your {what} was approved and is now visible.",
}
FLAG_NEWS = {
    "hide": "The {what} you flagged was hidden. Thank you.",
    "dismiss": "The {what} you flagged was reviewed; the flags were dismissed and it stays.",
    "review": "The {what} you flagged was reviewed; it stays.",
}


def notify_moderated(*, item, target, action: str, actor, flaggers) -> None:
    """Tell the author what staff did to their work (with the reason when it is hidden) and
    the flaggers what came of their flags; nobody learns who flagged."""
    from annotations.services.moderation import author_of

    what = {"annotation": "note", "post": "post", "challenge": "challenge", "source": "source"}[item.kind]
    url = _work_url(item, target)
    author = author_of(target)
    if action in MODERATION_NEWS and author is not None:
        text = MODERATION_NEWS[action].format(what=what, reason=target.moderation_reason)
        notify(
            recipient=author, kind=NotificationKind.MODERATION, actor=actor, course=item.course,
            text=text[:300], url=url,
        )  # fmt: skip
    if action in FLAG_NEWS:
        for flagger in flaggers:
            notify(
                recipient=flagger, kind=NotificationKind.MODERATION, actor=actor, course=item.course,
                text=FLAG_NEWS[action].format(what=what), url=url,
            )  # fmt: skip


def _work_url(item, target) -> str:
    """Where the work is read in its course (a placeholder for those who may not read it)."""
    if item.kind == "annotation":
        return target.get_absolute_url()
    if item.kind == "post":
        url = reverse("threads:detail", args=[item.course_id, target.thread_id])
        return f"{url}?post={target.pk}#post-{target.pk}"
    if item.kind == "challenge":
        return (
            reverse("challenges:claim", kwargs={"pk": item.course_id, "key": target.claim.key})
            + f"#challenge-{target.pk}"
        )
    return reverse("annotations:course-sources", kwargs={"pk": item.course_id})
