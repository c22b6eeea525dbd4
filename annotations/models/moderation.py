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
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from annotations.models.courses import Course

# The kinds of work that can be flagged and moderated, by the name of their field here.
MODERATED_KINDS = ("annotation", "post", "challenge", "source")
# Their names as people read them (the queue's "kind" column and filter).
MODERATED_KIND_CHOICES = [
    ("annotation", _("annotation")),
    ("post", _("post")),
    ("challenge", _("challenge")),
    ("source", _("source")),
]


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

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="moderation_items", verbose_name=_("course")
    )
    kind = models.CharField(max_length=10, choices=MODERATED_KIND_CHOICES, verbose_name=_("kind"))
    annotation = models.ForeignKey(
        "annotations.Annotation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("annotation"),
    )
    post = models.ForeignKey(
        "annotations.Post",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("post"),
    )
    challenge = models.ForeignKey(
        "annotations.Challenge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("challenge"),
    )
    source = models.ForeignKey(
        "annotations.Source",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    status = models.CharField(
        max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN, verbose_name=_("status")
    )
    flag_count = models.PositiveIntegerField(
        default=0, help_text=_("Open flags."), verbose_name=_("flag count")
    )
    opened_at = models.DateTimeField(
        default=timezone.now, help_text=_("When it last entered the queue."), verbose_name=_("opened at")
    )
    last_action = models.CharField(
        max_length=10, choices=Action.choices, blank=True, verbose_name=_("last action")
    )
    last_action_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last action by"),
    )
    last_action_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last action at"))
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))

    class Meta:
        verbose_name = _("moderation item")
        verbose_name_plural = _("moderation items")
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
        return gettext("%(kind)s %(id)s in %(course)s") % {
            "kind": self.get_kind_display(), "id": self.target_id, "course": self.course_id
        }  # fmt: skip

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

    item = models.ForeignKey(
        ModerationItem, on_delete=models.PROTECT, related_name="flags", verbose_name=_("item")
    )
    flagger = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flags", verbose_name=_("flagger")
    )
    reason = models.CharField(max_length=20, choices=FlagReason.choices, verbose_name=_("reason"))
    text = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("Required when the reason is “other”."),
        verbose_name=_("text"),
    )
    status = models.CharField(
        max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN, verbose_name=_("status")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["item", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "flagger"], name="flag_once_per_user_and_item"),
            models.CheckConstraint(
                condition=~Q(reason=FlagReason.OTHER) | ~Q(text=""), name="flag_other_has_text"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(flagger)s flags %(item)s: %(reason)s") % {
            "flagger": self.flagger, "item": self.item, "reason": self.get_reason_display()
        }  # fmt: skip


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

    at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("at"))
    # PROTECT: a row is never changed, so what it points at cannot go (people are anonymised, not deleted).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=pgettext_lazy("the person who acted", "actor"),
    )
    actor_name = models.CharField(max_length=150, verbose_name=_("actor name"))
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("course"),
    )
    action = models.CharField(max_length=40, db_index=True, verbose_name=_("action"))
    target_type = models.CharField(max_length=40, verbose_name=_("target type"))
    target_id = models.CharField(max_length=40, verbose_name=_("target ID"))
    target_label = models.CharField(max_length=300, verbose_name=_("target label"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    before = models.JSONField(default=dict, blank=True, verbose_name=_("before"))
    after = models.JSONField(default=dict, blank=True, verbose_name=_("after"))

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
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
