"""Writes for moderation: flags, the review queue's acts, pre-moderation, and the audit log.

Nothing here destroys anything. Hiding sets a state on the work (its author and the
course's staff still read it, with the reason); restoring sets it back. Each act on an item
of the queue carries the version the moderator saw: the later of two acts on the same state
raises ``ModerationConflict`` with the item as it is now, and writes nothing. Every act is
written to the append-only audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.models import Annotation, Challenge, Course, Membership, Post, Source
from annotations.models.courses import Role
from annotations.models.moderated import ModerationState
from annotations.models.moderation import (
    MODERATED_KINDS,
    Action,
    AuditEntry,
    Flag,
    FlagReason,
    FlagStatus,
    ItemStatus,
    ModerationItem,
)

NOT_A_MEMBER = _("Only members of this course can flag its work.")
OWN_WORK = _("You cannot flag your own work; edit or delete it instead.")
READING_SOURCE = _(
    "The reading's own sources are curated by site staff; only sources added in a course can be flagged."
)
ALREADY_FLAGGED = _("You have already flagged this.")
NEEDS_TEXT = _("Say what is wrong when the reason is “other”.")
UNKNOWN_REASON = _("Choose a reason: off-topic, inappropriate, spam, harassment or other.")
NOT_STAFF = _("Only the course's TAs and instructors can moderate it.")
NOT_INSTRUCTOR = _("Only the course's instructors can change its pre-moderation.")
NEEDS_REASON = _("Say why it is hidden: its author will read it.")
CONFLICT = _("Someone else acted on this item first; here is its current state.")
CANNOT = {
    Action.HIDE: _("It is already hidden."),
    Action.RESTORE: _("Only hidden work can be restored."),
    Action.DISMISS: _("There are no open flags to dismiss."),
    Action.REVIEW: _("There is nothing waiting for review."),
    Action.APPROVE: _("Only work awaiting approval can be approved."),
}
UNKNOWN_ACTION = _("Choose an act: hide, restore, dismiss the flags, mark reviewed or approve.")


class ModerationConflict(Exception):
    """An act on a stale version of an item; ``current`` is the item now."""

    def __init__(self, current: ModerationItem):
        super().__init__(CONFLICT)
        self.current = current
        self.message = CONFLICT


# -- the work a flag or an act is about ------------------------------------------------------


def kind_of(target: Any) -> str:
    for kind, model in (
        ("annotation", Annotation),
        ("post", Post),
        ("challenge", Challenge),
        ("source", Source),
    ):
        if isinstance(target, model):
            return kind
    raise TypeError(f"{type(target).__name__} cannot be moderated.")


def course_of(target: Any) -> Course | None:
    if isinstance(target, Post):
        return target.thread.course
    return target.course


def author_of(target: Any):
    return target.added_by if isinstance(target, Source) else target.author


def label_of(target: Any) -> str:
    """A short description of the work for the audit log and notifications (never its text)."""
    kind = kind_of(target)
    if kind == "annotation":
        return f"note {target.pk} on {target.paragraph_anchor} by {target.author}"
    if kind == "post":
        return f"post {target.pk} in “{target.thread.title}” by {target.author}"
    if kind == "challenge":
        return f"challenge {target.pk} of claim {target.claim.key} by {target.author}"
    return f"source {target.key} added by {target.added_by}"


def _model(kind: str):
    return {"annotation": Annotation, "post": Post, "challenge": Challenge, "source": Source}[kind]


def _locked(model, pk: int):
    rows = model.objects.all()
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return rows.get(pk=pk)


def _item_for(target: Any, course: Course) -> ModerationItem:
    """The queue's item for ``target``, made on first need (also under a race)."""
    kind = kind_of(target)
    try:
        with transaction.atomic():
            item, _ = ModerationItem.objects.get_or_create(
                **{kind: target},
                defaults={
                    "course": course,
                    "kind": kind,
                    "author": author_of(target),
                    "status": ItemStatus.CLOSED,
                },
            )
    except IntegrityError:
        item = ModerationItem.objects.get(**{kind: target})
    return item


# -- the audit log -----------------------------------------------------------------------------


def audit(
    *,
    actor,
    course: Course | None,
    action: str,
    target_type: str,
    target_id: Any,
    target_label: str,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Append one entry to the audit log (call it inside the act's transaction)."""
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        course=course,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=target_label[:300],
        reason=reason,
        before=before or {},
        after=after or {},
    )


# -- flags -----------------------------------------------------------------------------------


def flag_create(*, user, target: Any, reason: str, text: str = "") -> Flag:
    """A member flags a piece of work of their course that they can see; once per member and piece."""
    course = course_of(target)
    if course is None:
        raise ValidationError(READING_SOURCE)
    if permissions.membership_of(user, course) is None or not permissions.can_view_work(user, target):
        raise PermissionDenied(NOT_A_MEMBER)
    if author_of(target) is not None and author_of(target).pk == user.pk:
        raise ValidationError(OWN_WORK)
    if reason not in FlagReason.values:
        raise ValidationError({"reason": UNKNOWN_REASON})
    text = (text or "").strip()
    if reason == FlagReason.OTHER and not text:
        raise ValidationError({"text": NEEDS_TEXT})
    item = _item_for(target, course)
    with transaction.atomic():
        item = _locked(ModerationItem, item.pk)
        if Flag.objects.filter(item=item, flagger=user).exists():
            raise ValidationError(ALREADY_FLAGGED)
        flag = Flag(item=item, flagger=user, reason=reason, text=text)
        flag.full_clean(exclude=["item", "flagger"])
        try:
            with transaction.atomic():
                flag.save()
        except IntegrityError:
            raise ValidationError(ALREADY_FLAGGED) from None
        changes: dict[str, Any] = {"flag_count": F("flag_count") + 1}
        if item.status == ItemStatus.CLOSED:
            changes.update(status=ItemStatus.OPEN, opened_at=timezone.now())
        ModerationItem.objects.filter(pk=item.pk).update(**changes)
    return flag


# -- acts on the queue -----------------------------------------------------------------------


def _state(item: ModerationItem, target: Any) -> dict[str, Any]:
    return {
        "moderation": target.moderation,
        "reason": target.moderation_reason,
        "item_status": item.status,
        "open_flags": item.flag_count,
        "version": item.version,
    }


def _check_action(action: str, item: ModerationItem, target: Any, reason: str) -> None:
    if action not in Action.values:
        raise ValidationError({"action": UNKNOWN_ACTION})
    possible = {
        Action.HIDE: target.moderation != ModerationState.HIDDEN,
        Action.RESTORE: target.moderation == ModerationState.HIDDEN,
        Action.DISMISS: item.flag_count > 0,
        Action.REVIEW: item.status == ItemStatus.OPEN,
        Action.APPROVE: target.moderation == ModerationState.PENDING,
    }[action]
    if not possible:
        raise ValidationError({"action": CANNOT[action]})
    if action == Action.HIDE and not reason.strip():
        raise ValidationError({"reason": NEEDS_REASON})


FLAG_OUTCOME = {
    Action.HIDE: FlagStatus.UPHELD,
    Action.DISMISS: FlagStatus.DISMISSED,
    Action.REVIEW: FlagStatus.REVIEWED,
}
NEW_STATE = {
    Action.HIDE: ModerationState.HIDDEN,
    Action.RESTORE: ModerationState.PUBLISHED,
    Action.APPROVE: ModerationState.PUBLISHED,
}


def moderate(
    *, user, item: ModerationItem, action: str, reason: str = "", expected_version: int
) -> ModerationItem:
    """Staff act on one item of their course's queue: hide, restore, dismiss the flags, mark
    it reviewed, or approve work awaiting approval.

    The item must still be at ``expected_version`` (else ``ModerationConflict``); the act,
    its audit entry and the notifications it sends are one transaction.
    """
    from annotations.services.notifications import notify_moderated

    if not permissions.can_moderate(user, item.course_id):
        raise PermissionDenied(NOT_STAFF)
    reason = (reason or "").strip()
    with transaction.atomic():
        current = _locked(ModerationItem, item.pk)
        if current.version != expected_version:
            raise ModerationConflict(current)
        target = _locked(_model(current.kind), current.target_id)
        _check_action(action, current, target, reason)
        before = _state(current, target)
        now = timezone.now()
        flaggers = []
        if action in FLAG_OUTCOME or (action == Action.APPROVE and current.flag_count == 0):
            open_flags = current.flags.filter(status=FlagStatus.OPEN)
            flaggers = [flag.flagger for flag in open_flags.select_related("flagger")]
            open_flags.update(status=FLAG_OUTCOME.get(action, FlagStatus.REVIEWED), closed_at=now)
            current.flag_count = 0
        if action in NEW_STATE:
            was_pending = target.moderation == ModerationState.PENDING
            target.moderation = NEW_STATE[action]
            target.moderation_reason = reason if action == Action.HIDE else ""
            target.moderated_by, target.moderated_at = user, now
            target.save(update_fields=["moderation", "moderation_reason", "moderated_by", "moderated_at"])
            if action == Action.APPROVE and was_pending:
                _published(target)
        current.status = ItemStatus.OPEN if current.flag_count else ItemStatus.CLOSED
        current.last_action, current.last_action_by, current.last_action_at = action, user, now
        written = ModerationItem.objects.filter(pk=current.pk, version=expected_version).update(
            status=current.status,
            flag_count=current.flag_count,
            last_action=action,
            last_action_by=user,
            last_action_at=now,
            version=expected_version + 1,
        )
        if not written:
            raise ModerationConflict(ModerationItem.objects.get(pk=current.pk))
        current.version = expected_version + 1
        audit(
            actor=user,
            course=current.course,
            action=f"moderation.{action}",
            target_type=current.kind,
            target_id=current.target_id,
            target_label=label_of(target),
            reason=reason,
            before=before,
            after=_state(current, target),
        )
        notify_moderated(item=current, target=target, action=action, actor=user, flaggers=flaggers)
    return current


@dataclass
class Outcome:
    """What a bulk act did to one item: ``done``, or the refusal and the item's current state."""

    item: ModerationItem
    done: bool
    message: str = ""


def moderate_many(
    *, user, acts: Iterable[tuple[ModerationItem, int]], action: str, reason: str = ""
) -> list[Outcome]:
    """The same act on several items, each with the version the moderator saw. Each item
    is its own transaction: a conflict or a refusal on one leaves the others done."""
    outcomes = []
    for item, version in acts:
        try:
            outcomes.append(
                Outcome(
                    moderate(user=user, item=item, action=action, reason=reason, expected_version=version),
                    True,
                )
            )
        except ModerationConflict as conflict:
            outcomes.append(Outcome(conflict.current, False, conflict.message))
        except ValidationError as error:
            outcomes.append(Outcome(item, False, " ".join(error.messages)))
        except PermissionDenied as error:
            outcomes.append(Outcome(item, False, str(error) or NOT_STAFF))
    return outcomes


def hide(*, user, target: Any, reason: str) -> ModerationItem:
    """Staff hide a piece of work straight from where they read it (not from the queue)."""
    course = course_of(target)
    if course is None or not permissions.can_moderate(user, course.pk):
        raise PermissionDenied(NOT_STAFF)
    item = _item_for(target, course)
    return moderate(user=user, item=item, action=Action.HIDE, reason=reason, expected_version=item.version)


# -- pre-moderation ------------------------------------------------------------------------------


def premoderated(*, user, course: Course, kind: str, paragraph_id=None, claim_id=None, thread=None) -> bool:
    """Whether new work by ``user`` of ``kind`` in ``course`` must wait for approval.

    Staff's work never waits. A student's does when the course is pre-moderated, when staff
    put that student under pre-moderation, or when an open pre-moderated assignment's scope
    covers it.
    """
    from annotations.grading import Scope

    membership = permissions.membership_of(user, course)
    if membership is None or membership.role != Role.STUDENT:
        return False
    if course.premoderation:
        return True
    # Read afresh: staff may have just put this student under pre-moderation.
    if Membership.objects.filter(pk=membership.pk, premoderated=True).exists():
        return True
    if kind == "source":
        return False
    now = timezone.now()
    open_now = course.assignments.filter(premoderation=True, opens_at__lte=now).filter(
        Q(late_until__gte=now) | Q(late_until__isnull=True, due_at__gte=now)
    )
    for assignment in open_now.prefetch_related("sections", "claims"):
        scope = Scope(assignment)
        if scope.whole:
            return True
        if kind == "post" and thread is not None:
            claim_id = thread.claim_id or (thread.challenge.claim_id if thread.challenge_id else None)
            if thread.annotation_id:
                paragraph_id, claim_id = (
                    thread.annotation.paragraph_id,
                    thread.annotation.claim_id or claim_id,
                )
        if claim_id is not None and claim_id in scope.claim_ids:
            return True
        if paragraph_id is not None and paragraph_id in scope.paragraph_ids:
            return True
    return False


def hold(target: Any) -> ModerationItem:
    """Put new work that waits for approval in its course's queue (call after saving it pending)."""
    course = course_of(target)
    item = _item_for(target, course)
    ModerationItem.objects.filter(pk=item.pk).update(status=ItemStatus.OPEN, opened_at=timezone.now())
    item.refresh_from_db()
    return item


def _published(target: Any) -> None:
    """What publishing approved work does that its creation held back: a post's mentions and
    reply notifications go out now."""
    if isinstance(target, Post):
        from annotations.services.threads import notify_post

        notify_post(target)


def course_set_premoderation(*, user, course: Course, enabled: bool) -> Course:
    """An instructor makes every student's new work in the course wait for approval, or not."""
    if not permissions.can_manage_course(user, course):
        raise PermissionDenied(NOT_INSTRUCTOR)
    with transaction.atomic():
        before = Course.objects.select_for_update().get(pk=course.pk).premoderation
        Course.objects.filter(pk=course.pk).update(premoderation=enabled)
        course.premoderation = enabled
        audit(
            actor=user,
            course=course,
            action="moderation.course_premoderation",
            target_type="course",
            target_id=course.pk,
            target_label=str(course),
            before={"premoderation": before},
            after={"premoderation": enabled},
        )
    return course


def membership_set_premoderated(
    *, user, membership: Membership, enabled: bool, reason: str = ""
) -> Membership:
    """Staff put one student's new work under pre-moderation (after repeated abuse), or lift it."""
    if not permissions.can_moderate(user, membership.course_id):
        raise PermissionDenied(NOT_STAFF)
    if membership.role != Role.STUDENT:
        raise ValidationError(_("Only students' work can be pre-moderated."))
    with transaction.atomic():
        before = Membership.objects.select_for_update().get(pk=membership.pk).premoderated
        Membership.objects.filter(pk=membership.pk).update(premoderated=enabled)
        membership.premoderated = enabled
        audit(
            actor=user,
            course=membership.course,
            action="moderation.student_premoderation",
            target_type="membership",
            target_id=membership.pk,
            target_label=f"{membership.user} in {membership.course}",
            reason=reason,
            before={"premoderated": before},
            after={"premoderated": enabled},
        )
    return membership


__all__ = [
    "MODERATED_KINDS",
    "ModerationConflict",
    "Outcome",
    "audit",
    "course_set_premoderation",
    "flag_create",
    "hide",
    "hold",
    "kind_of",
    "membership_set_premoderated",
    "moderate",
    "moderate_many",
    "premoderated",
]
