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
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext

from annotations.models import Course, LanguagePreference, Notification, NotificationPreference
from annotations.models.challenges import ChallengeStatus, LinkProposal, ProposalStatus
from annotations.models.discussion import Delivery, NotificationKind

INVALID_DELIVERY = _("Choose in the app only, by e-mail or in a daily digest.")
UNKNOWN_KIND = _("There is no such kind of notification.")
UNKNOWN_LANGUAGE = _("Choose one of the languages the site speaks.")

# What notifications say, in the source language. A notification keeps its sentence and what
# fills it, so each reader sees it in their own language — in the app, in the API and in
# e-mails — whatever language its cause was written in.
REPLIED = gettext_noop("%(user)s replied to you in “%(thread)s”")
MENTIONED = gettext_noop("%(user)s mentioned you in “%(thread)s”")
GRADE_RELEASED = gettext_noop("Your grade for “%(assignment)s” is out.")
CHALLENGE_RESOLVED = {
    ChallengeStatus.UPHELD: gettext_noop("Your challenge on claim %(claim)s was upheld."),
    ChallengeStatus.PARTLY_UPHELD: gettext_noop("Your challenge on claim %(claim)s was partly upheld."),
    ChallengeStatus.REJECTED: gettext_noop("Your challenge on claim %(claim)s was rejected."),
}
LINK_DECIDED = {
    ProposalStatus.ACCEPTED: gettext_noop(
        "Your link from claim %(claim)s to event “%(event)s” was accepted."
    ),
    ProposalStatus.DECLINED: gettext_noop(
        "Your link from claim %(claim)s to event “%(event)s” was declined."
    ),
}
EVENT_DECIDED = {
    ProposalStatus.ACCEPTED: gettext_noop("Your proposed event “%(event)s” was accepted."),
    ProposalStatus.DECLINED: gettext_noop("Your proposed event “%(event)s” was declined."),
}
# By what was moderated (the kind of queue item) and what staff did.
MODERATION_NEWS = {
    "annotation": {
        "hide": gettext_noop("Your note was hidden by a moderator: %(reason)s"),
        "restore": gettext_noop("Your note is visible again."),
        "approve": gettext_noop("Your note was approved and is now visible."),
    },
    "post": {
        "hide": gettext_noop("Your post was hidden by a moderator: %(reason)s"),
        "restore": gettext_noop("Your post is visible again."),
        "approve": gettext_noop("Your post was approved and is now visible."),
    },
    "challenge": {
        "hide": gettext_noop("Your challenge was hidden by a moderator: %(reason)s"),
        "restore": gettext_noop("Your challenge is visible again."),
        "approve": gettext_noop("Your challenge was approved and is now visible."),
    },
    "source": {
        "hide": gettext_noop("Your source was hidden by a moderator: %(reason)s"),
        "restore": gettext_noop("Your source is visible again."),
        "approve": gettext_noop("Your source was approved and is now visible."),
    },
}
FLAG_NEWS = {
    "annotation": {
        "hide": gettext_noop("The note you flagged was hidden. Thank you."),
        "dismiss": gettext_noop("The note you flagged was reviewed; the flags were dismissed and it stays."),
        "review": gettext_noop("The note you flagged was reviewed; it stays."),
    },
    "post": {
        "hide": gettext_noop("The post you flagged was hidden. Thank you."),
        "dismiss": gettext_noop("The post you flagged was reviewed; the flags were dismissed and it stays."),
        "review": gettext_noop("The post you flagged was reviewed; it stays."),
    },
    "challenge": {
        "hide": gettext_noop("The challenge you flagged was hidden. Thank you."),
        "dismiss": gettext_noop(
            "The challenge you flagged was reviewed; the flags were dismissed and it stays."
        ),
        "review": gettext_noop("The challenge you flagged was reviewed; it stays."),
    },
    "source": {
        "hide": gettext_noop("The source you flagged was hidden. Thank you."),
        "dismiss": gettext_noop(
            "The source you flagged was reviewed; the flags were dismissed and it stays."
        ),
        "review": gettext_noop("The source you flagged was reviewed; it stays."),
    },
}


def _said(message: str, params: dict[str, object]) -> str:
    """The notification's sentence in the source language, as stored in ``Notification.text``."""
    return (message % params)[:300]


def notifications_for(user) -> QuerySet[Notification]:
    """The user's own notifications, newest first; nobody sees anyone else's."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def delivery_for(user, kind: str) -> str:
    preference = NotificationPreference.objects.filter(user=user, kind=kind).first()
    return preference.delivery if preference else Delivery.IN_APP


def notify(
    *, recipient, kind: str, actor, course: Course, message: str, params: dict | None = None, url: str
) -> Notification | None:
    """Tell ``recipient`` about something ``actor`` did; nobody is told about their own acts.

    ``message`` is a sentence in the source language, marked for translation (``gettext_noop``),
    with ``%(name)s`` placeholders that ``params`` fills; it is translated when it is read.
    """
    if recipient is None or (actor is not None and recipient.pk == actor.pk):
        return None
    params = params or {}
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, actor=actor, course=course,
        text=_said(message, params), message=message, params=params, url=url,
    )  # fmt: skip
    if delivery_for(recipient, kind) == Delivery.EMAIL and recipient.email:
        transaction.on_commit(lambda: _email(notification.pk))
    return notification


def notify_many(
    *,
    recipients: Iterable,
    kind: str,
    actor,
    course: Course,
    message: str,
    params: dict | None = None,
    url: str,
) -> list[Notification]:
    """``notify`` for a whole class at once, in a fixed number of queries (the e-mails, for
    those who chose them, go out one by one after the commit)."""
    recipients = [r for r in recipients if r is not None and (actor is None or r.pk != actor.pk)]
    params = params or {}
    text = _said(message, params)
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                recipient=r,
                kind=kind,
                actor=actor,
                course=course,
                text=text,
                message=message,
                params=params,
                url=url,
            )
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


def language_of(user) -> str:
    """The language a user's e-mails are written in: the one they last chose or signed in with."""
    preference = LanguagePreference.objects.filter(user=user).values_list("language", flat=True).first()
    return preference or settings.LANGUAGE_CODE


def language_record(*, user, language: str) -> None:
    """Remember the language a user chose (or signed in with) for what is written to them later."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": UNKNOWN_LANGUAGE})
    LanguagePreference.objects.update_or_create(user=user, defaults={"language": language})


def _email(notification_pk: int) -> None:
    notification = Notification.objects.select_related("recipient", "course").get(pk=notification_pk)
    with translation.override(language_of(notification.recipient)):
        context = {"notification": notification, "site_url": settings.SITE_URL}
        send_mail(
            subject=f"[{notification.course.title}] {notification.display_text}",
            message=render_to_string("annotations/notifications/email.txt", context),
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
    Notification.objects.filter(pk=notification_pk).update(emailed_at=timezone.now())


def notify_challenge_resolved(*, challenge, actor) -> Notification | None:
    """Tell a challenge's author how staff resolved it."""
    return notify(
        recipient=challenge.author,
        kind=NotificationKind.CHALLENGE_RESOLVED,
        actor=actor,
        course=challenge.course,
        message=CHALLENGE_RESOLVED[challenge.status],
        params={"claim": challenge.claim.key},
        url=reverse("challenges:claim", kwargs={"pk": challenge.course_id, "key": challenge.claim.key}),
    )


def notify_proposal_decided(*, proposal, actor) -> Notification | None:
    """Tell the proposer of a claim–event link or of an event whether staff accepted it."""
    if isinstance(proposal, LinkProposal):
        message = LINK_DECIDED[proposal.status]
        params = {"claim": proposal.claim.key, "event": proposal.event.title}
        url = reverse("links:claim", kwargs={"pk": proposal.course_id, "key": proposal.claim.key})
    else:
        message, params = EVENT_DECIDED[proposal.status], {"event": proposal.title}
        url = reverse("links:review", kwargs={"pk": proposal.course_id})
    return notify(
        recipient=proposal.proposer,
        kind=NotificationKind.LINK_DECIDED,
        actor=actor,
        course=proposal.course,
        message=message,
        params=params,
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
    languages = dict(
        LanguagePreference.objects.filter(user__in=list(by_user)).values_list("user_id", "language")
    )
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
            with translation.override(languages.get(recipient.pk, settings.LANGUAGE_CODE)):
                count = len(notifications)
                subject = ngettext(
                    "Your daily digest: %(count)s notification",
                    "Your daily digest: %(count)s notifications",
                    count,
                ) % {"count": count}
                context = {"notifications": notifications, "site_url": settings.SITE_URL, "count": count}
                send_mail(
                    subject=subject,
                    message=render_to_string("annotations/notifications/digest_email.txt", context),
                    from_email=None,
                    recipient_list=[recipient.email],
                )
    return DigestRun(users=len(by_user), notifications=sent)


def notify_moderated(*, item, target, action: str, actor, flaggers) -> None:
    """Tell the author what staff did to their work (with the reason when it is hidden) and
    the flaggers what came of their flags; nobody learns who flagged."""
    from annotations.services.moderation import author_of

    url = _work_url(item, target)
    author = author_of(target)
    news = MODERATION_NEWS[item.kind]
    if action in news and author is not None:
        notify(
            recipient=author, kind=NotificationKind.MODERATION, actor=actor, course=item.course,
            message=news[action], params={"reason": target.moderation_reason}, url=url,
        )  # fmt: skip
    if action in FLAG_NEWS[item.kind]:
        for flagger in flaggers:
            notify(
                recipient=flagger, kind=NotificationKind.MODERATION, actor=actor, course=item.course,
                message=FLAG_NEWS[item.kind][action], url=url,
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
