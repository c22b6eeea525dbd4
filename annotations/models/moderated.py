"""The moderation state every piece of student work carries (kept apart from the rest of
moderation so that any model module can use it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ModerationState(models.TextChoices):
    PUBLISHED = "published", _("published")
    PENDING = "pending", _("awaiting approval")
    HIDDEN = "hidden", _("hidden by a moderator")


class Moderated(models.Model):
    """The moderation state of a piece of student work (an abstract base for its model)."""

    moderation = models.CharField(
        max_length=10,
        choices=ModerationState.choices,
        default=ModerationState.PUBLISHED,
        db_index=True,
        verbose_name=_("moderation"),
    )
    moderation_reason = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("Why it was hidden, shown to its author and the staff."),
        verbose_name=_("moderation reason"),
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moderated by"),
    )
    moderated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("moderated at"))

    class Meta:
        abstract = True

    @property
    def is_hidden(self) -> bool:
        return self.moderation == ModerationState.HIDDEN

    @property
    def is_pending(self) -> bool:
        return self.moderation == ModerationState.PENDING
