"""Assignments of a course, per-student extensions and grades."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from annotations.models.courses import Course
from annotations.models.reading import Claim, Section

# The kinds of work an assignment asks for, in the order pages and exports show them.
REQUIREMENTS = ("annotations", "challenges", "sources", "replies", "links")


class WorkMode(models.TextChoices):
    INDIVIDUAL = "individual", _("individual work")
    GROUP = "group", _("group work: the group's work counts for each member")


class Scoring(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("all or nothing: full points when every requirement is met")
    SCALED = "scaled", _("scaled: points in proportion to the work done")


class Status(models.TextChoices):
    """Where an assignment stands at a moment, from its own dates (extensions aside)."""

    UPCOMING = "upcoming", _("upcoming")
    OPEN = "open", _("open")
    LATE = "late", _("late window")
    CLOSED = "closed", _("closed")


class AssignmentQuerySet(models.QuerySet):
    def in_status(self, status: str, now) -> AssignmentQuerySet:
        """The assignments whose ``status_at(now)`` is ``status``."""
        return self.filter(
            {
                Status.UPCOMING: Q(opens_at__gt=now),
                Status.OPEN: Q(opens_at__lte=now, due_at__gte=now),
                Status.LATE: Q(due_at__lt=now, late_until__gte=now),
                Status.CLOSED: Q(late_until__lt=now) | Q(late_until__isnull=True, due_at__lt=now),
            }[status]
        )


class Assignment(models.Model):
    """A task in a course: a scope of the reading, dates and the work it asks for.

    An empty scope (no sections, no claims) is the whole reading. Work counts when it is
    made between ``opens_at`` and the due date, and counts but is marked late until
    ``late_until``.
    """

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("course")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    instructions = models.TextField(blank=True, help_text=_("Markdown."), verbose_name=_("instructions"))
    instructions_html = models.TextField(blank=True, editable=False, verbose_name=_("instructions (HTML)"))
    sections = models.ManyToManyField(
        Section,
        blank=True,
        related_name="assignments",
        help_text=_(
            "Sections in scope, with their subsections. No sections and no claims: the whole reading."
        ),
        verbose_name=_("sections"),
    )
    claims = models.ManyToManyField(Claim, blank=True, related_name="assignments", verbose_name=_("claims"))
    opens_at = models.DateTimeField(verbose_name=_("opens at"))
    due_at = models.DateTimeField(verbose_name=_("due at"))
    late_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Work made after the due date and until then counts, marked late."),
        verbose_name=_("late until"),
    )
    late_penalty = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("Percent taken off the automatic score when late work was needed to meet it."),
        verbose_name=_("late penalty"),
    )
    work_mode = models.CharField(
        max_length=20, choices=WorkMode.choices, default=WorkMode.INDIVIDUAL, verbose_name=_("work mode")
    )
    required_annotations = models.PositiveSmallIntegerField(default=0, verbose_name=_("required annotations"))
    required_challenges = models.PositiveSmallIntegerField(default=0, verbose_name=_("required challenges"))
    required_sources = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Distinct sources cited in the student's challenges."),
        verbose_name=_("required sources"),
    )
    required_replies = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Replies to annotations, responses to challenges and posts in discussions."),
        verbose_name=_("required replies"),
    )
    required_links = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Claim–event links proposed (declined ones do not count)."),
        verbose_name=_("required links"),
    )
    scoring = models.CharField(
        max_length=20, choices=Scoring.choices, default=Scoring.SCALED, verbose_name=_("scoring")
    )
    points = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0.01"))],
        verbose_name=_("points"),
    )
    hide_peers_until_posted = models.BooleanField(
        default=False,
        help_text=_("A student sees classmates' work in the scope only after posting their own."),
        verbose_name=_("hide peers until posted"),
    )
    anonymous_to_peers = models.BooleanField(
        default=False,
        help_text=_("Students' names are hidden from classmates (never from staff)."),
        verbose_name=_("anonymous to peers"),
    )
    premoderation = models.BooleanField(
        default=False,
        help_text=_("Students' new work in the scope waits for approval while the assignment is open."),
        verbose_name=_("premoderation"),
    )
    grades_released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("grades released at"))
    grades_released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("grades released by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    Status = Status
    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["course", "due_at", "pk"]
        indexes = [models.Index(fields=["course", "opens_at"], name="assignment_course_open_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(due_at__gt=F("opens_at")), name="assignment_due_after_open"),
            models.CheckConstraint(
                condition=Q(late_until__isnull=True) | Q(late_until__gte=F("due_at")),
                name="assignment_late_window_after_due",
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="assignment_points_positive"),
            models.CheckConstraint(condition=Q(late_penalty__lte=100), name="assignment_penalty_at_most_100"),
            models.CheckConstraint(
                condition=Q(required_annotations__gt=0)
                | Q(required_challenges__gt=0)
                | Q(required_sources__gt=0)
                | Q(required_replies__gt=0)
                | Q(required_links__gt=0),
                name="assignment_requires_something",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("assignments:detail", kwargs={"pk": self.pk})

    @property
    def closes_at(self):
        """When work stops counting (the end of the late window, else the due date)."""
        return self.late_until or self.due_at

    @property
    def grades_released(self) -> bool:
        return self.grades_released_at is not None

    def status_at(self, now) -> str:
        """``Status`` at ``now`` (the same rule as ``Assignment.objects.in_status``)."""
        if now < self.opens_at:
            return Status.UPCOMING
        if now <= self.due_at:
            return Status.OPEN
        if now <= self.closes_at:
            return Status.LATE
        return Status.CLOSED

    def describe_scope(self) -> str:
        """The scope in words: its sections in reading order, then its claims' keys (from the
        prefetched ``sections`` and ``claims`` when they are)."""
        parts = [section.title for section in sorted(self.sections.all(), key=lambda s: s.order)]
        parts += sorted(claim.key for claim in self.claims.all())
        return ", ".join(parts) or "the whole reading"

    def required(self) -> dict[str, int]:
        """Each requirement's number, zero where the assignment does not ask for it."""
        return {kind: getattr(self, f"required_{kind}") for kind in REQUIREMENTS}


class Extension(models.Model):
    """A later due date (and late window) for one student."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("assignment")
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="extensions",
        verbose_name=_("student"),
    )
    due_at = models.DateTimeField(verbose_name=_("due at"))
    late_until = models.DateTimeField(null=True, blank=True, verbose_name=_("late until"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["assignment", "student__username"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "student"], name="extension_unique"),
            models.CheckConstraint(
                condition=Q(late_until__isnull=True) | Q(late_until__gte=F("due_at")),
                name="extension_late_window_after_due",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(student)s until %(due_at)s") % {
            "student": self.student,
            "due_at": f"{self.due_at:%Y-%m-%d %H:%M}",
        }


class Grade(models.Model):
    """Staff's grade of one student for one assignment: an override of the automatic
    score (or none, keeping the automatic one) and feedback.

    ``version`` grows with every change, so two graders never silently overwrite each other.
    """

    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="grades", verbose_name=_("assignment")
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grades", verbose_name=_("student")
    )
    score = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Overrides the automatic score; empty keeps the automatic score."),
        verbose_name=_("score"),
    )
    feedback = models.TextField(blank=True, help_text=_("Markdown."), verbose_name=_("feedback"))
    feedback_html = models.TextField(blank=True, editable=False, verbose_name=_("feedback (HTML)"))
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("graded by"),
    )
    graded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("graded at"))
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))

    class Meta:
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        ordering = ["assignment", "student__username"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "student"], name="grade_unique"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0), name="grade_score_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} – {self.assignment}"
