"""Actors and dated events: the timeline the reading narrates."""

from __future__ import annotations

import datetime as dt

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from timeline.dates import PartialDate, Precision, partial_display, partial_iso

key_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    _("Use lower-case letters, digits and single hyphens."),
)


class Actor(models.Model):
    """A state, organisation, person or group that the reading names."""

    class Kind(models.TextChoices):
        STATE = "state", _("state")
        ORGANISATION = "organisation", _("organisation")
        PERSON = "person", _("person")
        GROUP = "group", _("group")

    key = models.CharField(max_length=80, unique=True, validators=[key_validator], verbose_name=_("key"))
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    iso_code = models.CharField(
        _("ISO 3166 code"),
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Three capital letters (ISO 3166 alpha-3)."))],
        help_text=_("Alpha-3 code, for states only (SUN for the Soviet Union)."),
    )
    aliases = models.JSONField(default=list, blank=True, verbose_name=_("aliases"))
    description = models.TextField(blank=True, verbose_name=_("description"))

    class Meta:
        verbose_name = _("actor")
        verbose_name_plural = _("actors")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="state") | Q(iso_code=""),
                name="actor_iso_code_only_for_states",
            ),
            models.CheckConstraint(
                condition=~Q(kind="state") | ~Q(iso_code=""),
                name="actor_state_has_iso_code",
            ),
            models.UniqueConstraint(
                fields=["iso_code"],
                condition=~Q(iso_code=""),
                name="actor_iso_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("timeline:actor-detail", kwargs={"key": self.key})


class Event(models.Model):
    """Something that happened, on a date known to a year, a month or a day."""

    class Type(models.TextChoices):
        SUMMIT = "summit", _("summit")
        MINISTERIAL = "ministerial", _("ministerial meeting")
        AGREEMENT = "agreement", _("agreement")
        ACCESSION = "accession", _("accession")
        NEGOTIATION = "negotiation", _("negotiation")
        POLICY = "policy", _("policy")
        ATTACK = "attack", _("attack")
        CONFLICT = "conflict", _("conflict")
        STATEMENT = "statement", _("statement")
        OTHER = "other", _("other")

    key = models.CharField(max_length=80, unique=True, validators=[key_validator], verbose_name=_("key"))
    title = models.CharField(max_length=300, verbose_name=_("title"))
    date = models.DateField(
        help_text=_("The true date; the first day of its month or year when only those are known."),
        verbose_name=_("date"),
    )
    precision = models.CharField(
        max_length=5, choices=Precision.choices, default=Precision.DAY, verbose_name=_("precision")
    )
    end_date = models.DateField(null=True, blank=True, verbose_name=_("end date"))
    end_precision = models.CharField(
        max_length=5, choices=Precision.choices, blank=True, verbose_name=_("end precision")
    )
    place = models.CharField(max_length=200, blank=True, verbose_name=_("place"))
    type = models.CharField(max_length=20, choices=Type.choices, verbose_name=_("type"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    participants = models.ManyToManyField(
        Actor, related_name="events", blank=True, verbose_name=_("participants")
    )
    sources = models.ManyToManyField(
        "annotations.Source", related_name="events", blank=True, verbose_name=_("sources")
    )

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["date", "key"]
        indexes = [models.Index(fields=["date"], name="event_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("date")),
                name="event_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True, end_precision="")
                | Q(end_date__isnull=False) & ~Q(end_precision=""),
                name="event_end_date_has_precision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.date_iso})"

    def get_absolute_url(self) -> str:
        return reverse("timeline:event-detail", kwargs={"key": self.key})

    @property
    def partial_date(self) -> PartialDate:
        return PartialDate(self.date, self.precision)

    @property
    def date_iso(self) -> str:
        return partial_iso(self.date, self.precision)

    @property
    def end_date_iso(self) -> str:
        return partial_iso(self.end_date, self.end_precision) if self.end_date else ""

    @property
    def date_display(self) -> str:
        start = partial_display(self.date, self.precision)
        if self.end_date:
            return f"{start} – {partial_display(self.end_date, self.end_precision)}"
        return start

    @property
    def last_day(self) -> dt.date:
        """The last day the event may fall on, given its end and precision."""
        if self.end_date:
            return PartialDate(self.end_date, self.end_precision).last_day()
        return self.partial_date.last_day()
