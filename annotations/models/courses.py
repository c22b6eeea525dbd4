"""Courses, their groups and who belongs to them."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from annotations.models.reading import Document

# No 0/O or 1/I/L: codes are read aloud and copied from slides.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_join_code() -> str:
    """A fresh code such as ``K7QX-M2PD``."""
    part = lambda: "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(4))  # noqa: E731
    return f"{part()}-{part()}"


class Role(models.TextChoices):
    STUDENT = "student", _("student")
    TA = "ta", _("TA")
    INSTRUCTOR = "instructor", _("instructor")


class Course(models.Model):
    """A class working on one reading; student work lives inside one course."""

    title = models.CharField(max_length=200, verbose_name=_("title"))
    term = models.CharField(
        max_length=60, blank=True, help_text=_("For example “Spring 2027”."), verbose_name=_("term")
    )
    reading = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="courses", verbose_name=_("reading")
    )
    join_code = models.CharField(
        max_length=32, unique=True, default=new_join_code, verbose_name=_("join code")
    )
    join_enabled = models.BooleanField(
        default=True, help_text=_("Whether students can join with the code."), verbose_name=_("join enabled")
    )
    premoderation = models.BooleanField(
        default=False,
        help_text=_("Students' new work waits for a TA's or an instructor's approval."),
        verbose_name=_("premoderation"),
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

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["-created_at", "title"]
        constraints = [
            models.CheckConstraint(condition=~Q(join_code=""), name="course_join_code_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.term})" if self.term else self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:detail", kwargs={"pk": self.pk})


class CourseGroup(models.Model):
    """A group of students inside a course."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="groups", verbose_name=_("course")
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))

    class Meta:
        verbose_name_plural = _("groups")
        ordering = ["course", "name"]
        verbose_name = _("group")
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="group_name_unique_in_course"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a course; a student is in at most one of its groups."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("course")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT, verbose_name=_("role"))
    group = models.ForeignKey(
        CourseGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("group"),
    )
    joined_at = models.DateTimeField(auto_now_add=True, verbose_name=_("joined at"))
    premoderated = models.BooleanField(
        default=False,
        help_text=_("This student's new work waits for approval (after repeated abuse)."),
        verbose_name=_("premoderated"),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["course", "role", "user__username"]
        constraints = [
            # One membership per user and course, so one group per student and course.
            models.UniqueConstraint(fields=["course", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=Q(group__isnull=True) | Q(role=Role.STUDENT),
                name="membership_only_students_in_groups",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(user)s – %(role)s in %(course)s") % {
            "user": self.user, "role": self.get_role_display(), "course": self.course
        }  # fmt: skip

    @property
    def is_staff_role(self) -> bool:
        return self.role in (Role.TA, Role.INSTRUCTOR)
