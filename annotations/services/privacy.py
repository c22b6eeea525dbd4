"""A person's own data: everything they wrote or were given, as JSON; and anonymising an
account on request while the course keeps its record.

The export holds only what the person may already read about themselves: their own work
(private notes included), their memberships, notifications, released grades and their
extensions. It never names who flagged their work, and never holds other students'
private work or withheld grades.

Anonymising replaces the username by a pseudonym (``former-student-<id>``) and clears the
names, e-mail address and password; the account is deactivated. The person's work, its
place in threads, grades and the audit log stay as they are (the audit log refers to the
account, so it shows the pseudonym from then on; its rows are never changed).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.models import (
    Annotation,
    AnnotationReply,
    Challenge,
    ChallengeResponse,
    EventProposal,
    Extension,
    Flag,
    Grade,
    LanguagePreference,
    LinkProposal,
    Membership,
    Notification,
    NotificationPreference,
    Post,
    Reaction,
    Source,
    Thread,
)
from annotations.services.moderation import audit

EXPORT_FORMAT = "sco-my-data"
EXPORT_VERSION = 1
PSEUDONYM_PREFIX = "former-student-"

NOT_SITE_STAFF = _("Only site staff can anonymise an account.")
NOT_YOURSELF = _("You cannot anonymise your own account.")
NOT_STAFF_ACCOUNTS = _("A site staff account cannot be anonymised; remove its staff rights first.")


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _work(item, **extra: Any) -> dict[str, Any]:
    """The fields every piece of one's own writing shares."""
    data = {
        "id": item.pk,
        "created_at": _when(item.created_at),
        "updated_at": _when(getattr(item, "updated_at", None)),
        "edited_at": _when(getattr(item, "edited_at", None)),
        "deleted_at": _when(getattr(item, "deleted_at", None)),
    }
    if hasattr(item, "moderation"):
        data["moderation"] = item.moderation
        data["moderation_reason"] = item.moderation_reason
    data.update(extra)
    return data


def user_data_export(*, user) -> dict[str, Any]:
    """Everything ``user`` has on this site that is theirs to read, as JSON-ready data."""
    annotations = (
        Annotation.objects.filter(author=user)
        .select_related("course", "group", "claim")
        .prefetch_related("tags")
        .order_by("pk")
    )
    challenges = (
        Challenge.objects.filter(author=user)
        .select_related("course", "claim")
        .prefetch_related("citations__source")
        .order_by("pk")
    )
    posts = (
        Post.objects.filter(author=user).select_related("thread").prefetch_related("revisions").order_by("pk")
    )
    # Grades are the person's only once released; a withheld grade is still the staff's draft.
    grades = (
        Grade.objects.filter(student=user, assignment__grades_released_at__isnull=False)
        .select_related("assignment__course")
        .order_by("pk")
    )
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "id": user.pk,
            "username": user.get_username(),
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
        },
        "memberships": [
            {
                "course": m.course.title,
                "course_id": m.course_id,
                "role": m.role,
                "group": m.group.name if m.group else None,
                "joined_at": _when(m.joined_at),
            }
            for m in Membership.objects.filter(user=user).select_related("course", "group").order_by("pk")
        ],
        "annotations": [
            _work(
                a,
                course_id=a.course_id,
                paragraph=a.paragraph_anchor,
                claim=a.claim.key if a.claim else None,
                exact=a.exact,
                prefix=a.prefix,
                suffix=a.suffix,
                start=a.start,
                end=a.end,
                motivation=a.motivation,
                visibility=a.visibility,
                tags=[t.name for t in a.tags.all()],
                body=a.body,
            )
            for a in annotations
        ],
        "annotation_replies": [
            _work(r, annotation_id=r.annotation_id, body=r.body)
            for r in AnnotationReply.objects.filter(author=user).order_by("pk")
        ],
        "challenges": [
            _work(
                c,
                course_id=c.course_id,
                claim=c.claim.key,
                stance=c.stance,
                argument=c.argument,
                visibility=c.visibility,
                status=c.status,
                feedback=c.feedback,
                resolved_at=_when(c.resolved_at),
                citations=[
                    {"source": s.source.key, "title": s.source.title, "page": s.page, "quote": s.quote}
                    for s in c.citations.all()
                ],
            )
            for c in challenges
        ],
        "challenge_responses": [
            _work(r, challenge_id=r.challenge_id, body=r.body)
            for r in ChallengeResponse.objects.filter(author=user).order_by("pk")
        ],
        "threads": [
            {"id": t.pk, "course_id": t.course_id, "title": t.title, "created_at": _when(t.created_at)}
            for t in Thread.objects.filter(author=user).order_by("pk")
        ],
        "posts": [
            _work(
                p,
                thread_id=p.thread_id,
                thread=p.thread.title,
                parent_id=p.parent_id,
                body=p.body,
                earlier_versions=[
                    {"body": r.body, "replaced_at": _when(r.replaced_at)} for r in p.revisions.all()
                ],
            )
            for p in posts
        ],
        "sources_added": [
            {
                "id": s.pk,
                "course_id": s.course_id,
                "key": s.key,
                "kind": s.kind,
                "title": s.title,
                "authors": s.authors,
                "year": s.year,
                "url": s.url,
                "doi": s.doi,
                "moderation": s.moderation,
                "created_at": _when(s.created_at),
            }
            for s in Source.objects.filter(added_by=user).order_by("pk")
        ],
        "link_proposals": [
            {
                "id": p.pk,
                "course_id": p.course_id,
                "claim": p.claim.key,
                "event": p.event.key,
                "relation": p.relation,
                "note": p.note,
                "status": p.status,
                "feedback": p.feedback,
                "created_at": _when(p.created_at),
            }
            for p in LinkProposal.objects.filter(proposer=user)
            .select_related("claim", "event")
            .order_by("pk")
        ],
        "event_proposals": [
            {
                "id": p.pk,
                "course_id": p.course_id,
                "title": p.title,
                "date": p.date.isoformat(),
                "description": p.description,
                "source": p.source.key,
                "status": p.status,
                "feedback": p.feedback,
                "created_at": _when(p.created_at),
            }
            for p in EventProposal.objects.filter(proposer=user).select_related("source").order_by("pk")
        ],
        # Flags this person raised; who flagged their own work is never part of it.
        "flags_raised": [
            {
                "id": f.pk,
                "kind": f.item.kind,
                "target_id": f.item.target_id,
                "reason": f.reason,
                "text": f.text,
                "status": f.status,
                "created_at": _when(f.created_at),
            }
            for f in Flag.objects.filter(flagger=user).select_related("item").order_by("pk")
        ],
        "reactions": [
            {
                "kind": r.kind,
                "post_id": r.post_id,
                "annotation_id": r.annotation_id,
                "created_at": _when(r.created_at),
            }
            for r in Reaction.objects.filter(user=user).order_by("pk")
        ],
        "notifications": [
            {
                "kind": n.kind,
                "course_id": n.course_id,
                "text": n.text,
                "url": n.url,
                "created_at": _when(n.created_at),
                "read_at": _when(n.read_at),
            }
            for n in Notification.objects.filter(recipient=user).order_by("pk")
        ],
        "notification_preferences": {
            p.kind: p.delivery for p in NotificationPreference.objects.filter(user=user).order_by("kind")
        },
        "language": LanguagePreference.objects.filter(user=user).values_list("language", flat=True).first(),
        "grades": [
            {
                "assignment": g.assignment.title,
                "assignment_id": g.assignment_id,
                "course_id": g.assignment.course_id,
                "score": str(g.score) if g.score is not None else None,
                "feedback": g.feedback,
                "graded_at": _when(g.graded_at),
                "released_at": _when(g.assignment.grades_released_at),
            }
            for g in grades
        ],
        "extensions": [
            {
                "assignment": e.assignment.title,
                "assignment_id": e.assignment_id,
                "due_at": _when(e.due_at),
                "late_until": _when(e.late_until),
                "reason": e.reason,
            }
            for e in Extension.objects.filter(student=user).select_related("assignment").order_by("pk")
        ],
    }


def pseudonym_for(user) -> str:
    """The stable name an anonymised account takes: the same account always gets the same one."""
    return f"{PSEUDONYM_PREFIX}{user.pk}"


def is_anonymised(user) -> bool:
    return user.get_username().startswith(PSEUDONYM_PREFIX) and not user.is_active and not user.email


def user_anonymise(*, actor, user):
    """Site staff anonymise ``user``: pseudonym, no names, e-mail or usable password, inactive.

    Their work, threads, grades and the audit log are untouched. Running it again on an
    anonymised account changes nothing. Refuses (``PermissionDenied``) anyone but site
    staff, one's own account and staff accounts.
    """
    if not permissions.can_anonymise_user(actor):
        raise PermissionDenied(NOT_SITE_STAFF)
    if actor.pk == user.pk:
        raise PermissionDenied(NOT_YOURSELF)
    if user.is_staff or user.is_superuser:
        raise PermissionDenied(NOT_STAFF_ACCOUNTS)
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.select_for_update().get(pk=user.pk)
        if is_anonymised(user):
            return user
        old_username = user.get_username()
        pseudonym = pseudonym_for(user)
        if user_model.objects.filter(username=pseudonym).exclude(pk=user.pk).exists():
            raise ValidationError(
                _("The pseudonym {pseudonym} is taken by another account.").format(pseudonym=pseudonym)
            )
        user.username = pseudonym
        user.first_name = ""
        user.last_name = ""
        user.email = ""
        user.set_unusable_password()
        user.is_active = False
        user.full_clean(exclude=["password"])
        user.save()
        # Ways back in and records naming the person, none of them their work or the audit log.
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog
        from rest_framework.authtoken.models import Token

        Token.objects.filter(user=user).delete()
        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            model.objects.filter(username=old_username).delete()
        audit(
            actor=actor,
            course=None,
            action="account.anonymise",
            target_type="user",
            target_id=user.pk,
            target_label=pseudonym,
        )
    return user
