"""Moderation: flags, the review queue, the state of moderated work, and the audit log.

Nothing is destroyed by moderation: hiding sets a state on the work, which its author and
the course's staff still read (with the reason); restoring sets it back. Every moderation
and grading act is written to the append-only ``AuditEntry`` log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations.models.courses import Course

# The kinds of work that can be flagged and moderated, by the name of their field here.
MODERATED_KINDS = ("annotation", "post", "challenge", "source")


class FlagReason(models.TextChoices):
    OFF_TOPIC = "off_topic", _("off-topic")
    INAPPROPRIATE = "inappropriate", _("inappropriate")
    SPAM = "spam", _("spam")
    HARASSMENT = "harassment", _("harassment")
    OTHER = "other", _("other")


class ItemStatus(models.TextChoices):
    OPEN = "open", _("waiting for review")
    CLOSED = "closed", _("dealt with")


class Action(models.TextChoices):
    """What staff do to an item of the queue (and what the audit log records)."""

    HIDE = "hide", _("hide")
    RESTORE = "restore", _("restore")
    DISMISS = "dismiss", _("dismiss the flags")
    REVIEW = "review", _("mark reviewed")
    APPROVE = "approve", _("approve")


def _one_target() -> Q:
    """``kind`` names the one target field that is set."""
    condition = Q()
    for kind in MODERATED_KINDS:
        others = {f"{other}__isnull": True for other in MODERATED_KINDS if other != kind}
        condition |= Q(kind=kind, **{f"{kind}__isnull": False}, **others)
    return condition


class ModerationItem(models.Model):
    """One piece of work in a course's review queue: its flags and what staff did.

    Exactly one of ``annotation``, ``post``, ``challenge`` and ``source`` is set, once per
    piece of work. ``version`` grows with every act, so two moderators acting on the same
    state cannot both win.
    """

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="moderation_items")
    kind = models.CharField(max_length=10, choices=[(k, k) for k in MODERATED_KINDS])
    annotation = models.ForeignKey(
        "annotations.Annotation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    post = models.ForeignKey(
        "annotations.Post", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    challenge = models.ForeignKey(
        "annotations.Challenge", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.ForeignKey(
        "annotations.Source", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    flag_count = models.PositiveIntegerField(default=0, help_text=_("Open flags."))
    opened_at = models.DateTimeField(default=timezone.now, help_text=_("When it last entered the queue."))
    last_action = models.CharField(max_length=10, choices=Action.choices, blank=True)
    last_action_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_action_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-flag_count", "opened_at", "pk"]
        indexes = [
            models.Index(fields=["course", "status", "-flag_count", "opened_at"], name="moderation_queue_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=_one_target(), name="moderation_item_one_target"),
            *[
                models.UniqueConstraint(
                    fields=[kind],
                    condition=Q(**{f"{kind}__isnull": False}),
                    name=f"moderation_item_{kind}_once",
                )
                for kind in MODERATED_KINDS
            ],
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_id} in {self.course_id}"

    @property
    def target(self):
        return getattr(self, self.kind)

    @property
    def target_id(self) -> int:
        return getattr(self, f"{self.kind}_id")

    def excerpt(self, length: int = 200) -> str:
        """The start of the work's text on one line, for staff (who read hidden and waiting work)."""
        target = self.target
        text = {
            "annotation": lambda: target.body or target.exact,
            "post": lambda: target.body,
            "challenge": lambda: target.argument,
            "source": lambda: target.title or target.key,
        }[self.kind]()
        text = " ".join((text or "").split())
        return text if len(text) <= length else text[: length - 1] + "…"


class FlagStatus(models.TextChoices):
    OPEN = "open", _("open")
    UPHELD = "upheld", _("upheld: the work was hidden")
    DISMISSED = "dismissed", _("dismissed")
    REVIEWED = "reviewed", _("reviewed: the work stays")


class Flag(models.Model):
    """A member's report of a piece of work in their course; one per member and piece."""

    item = models.ForeignKey(ModerationItem, on_delete=models.PROTECT, related_name="flags")
    flagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flags")
    reason = models.CharField(max_length=20, choices=FlagReason.choices)
    text = models.CharField(max_length=500, blank=True, help_text=_("Required when the reason is “other”."))
    status = models.CharField(max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "flagger"], name="flag_once_per_user_and_item"),
            models.CheckConstraint(
                condition=~Q(reason=FlagReason.OTHER) | ~Q(text=""), name="flag_other_has_text"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flagger} flags {self.item}: {self.reason}"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditEntry(models.Model):
    """One moderation or grading act: who, when, what, why, and the state before and after.

    Append-only: rows are never changed or deleted (the model refuses, and on PostgreSQL a
    trigger refuses too). ``actor_name`` and ``target_label`` keep the record readable even
    if the people or the work it names change later.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # PROTECT: a row is never changed, so what it points at cannot go (people are anonymised, not deleted).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    action = models.CharField(max_length=40, db_index=True)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=40)
    target_label = models.CharField(max_length=300)
    reason = models.TextField(blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["course", "at"], name="audit_course_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_type} {self.target_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")
