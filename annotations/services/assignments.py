"""Writes for assignments: setting them, extensions, grades and their release."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.markdown import render
from annotations.models import Annotation, Challenge, Claim, Course, Membership, Section
from annotations.models.assignments import REQUIREMENTS, Assignment, Extension, Grade
from annotations.models.courses import Role
from annotations.models.discussion import NotificationKind
from annotations.services.moderation import audit

NOT_INSTRUCTOR = _("Only the course's instructors can set, change or release assignments.")
NOT_STAFF = _("Only the course's TAs and instructors can grade or grant extensions.")
NOTHING_REQUIRED = _(
    "Ask for at least one piece of work: annotations, challenges, sources, replies or links."
)
DUE_BEFORE_OPEN = _("The due date must come after the opening date.")
LATE_BEFORE_DUE = _("The late window must end after the due date.")
SECTION_ELSEWHERE = _("These sections are not part of the course's reading: {}.")
CLAIM_ELSEWHERE = _("These claims are not part of the course's reading: {}.")
HAS_GRADES = _("This assignment has grades; it cannot be deleted. Change its dates or requirements instead.")
NOT_A_STUDENT = _("{} is not a student of this course.")
EXTENSION_TOO_EARLY = _("An extension must end after the assignment's due date ({}).")
SCORE_TOO_HIGH = _("A score cannot be more than the assignment's {} points.")
SCORE_NEGATIVE = _("A score cannot be negative.")
SCORE_NOT_A_NUMBER = _("Give the score as a number, such as 8 or 7.5, or leave it empty.")
CONFLICT = _("Someone else changed this grade first; here is its current state.")
ALREADY_RELEASED = _("The grades of this assignment are already released.")
NOT_RELEASED = _("The grades of this assignment are not released.")

EDITABLE = (
    "title",
    "instructions",
    "opens_at",
    "due_at",
    "late_until",
    "late_penalty",
    "work_mode",
    "scoring",
    "points",
    "hide_peers_until_posted",
    "anonymous_to_peers",
    "premoderation",
    *(f"required_{kind}" for kind in REQUIREMENTS),
)


class GradeConflict(Exception):
    """A grade changed since ``expected_version`` was read; ``current`` is the grade now."""

    def __init__(self, current: Grade):
        super().__init__(CONFLICT)
        self.current = current
        self.message = CONFLICT


def _require_instructor(user, course: Course) -> None:
    if not permissions.can_manage_course(user, course):
        raise PermissionDenied(NOT_INSTRUCTOR)


def _require_staff(user, course: Course) -> None:
    if not permissions.can_teach(user, course):
        raise PermissionDenied(NOT_STAFF)


def _check_scope(course: Course, sections: Iterable[Section], claims: Iterable[Claim]) -> None:
    errors: dict[str, str] = {}
    stray = [s.title for s in sections if s.document_id != course.reading_id]
    if stray:
        errors["sections"] = SECTION_ELSEWHERE.format(", ".join(stray))
    stray = [c.key for c in claims if c.paragraph.document_id != course.reading_id]
    if stray:
        errors["claims"] = CLAIM_ELSEWHERE.format(", ".join(stray))
    if errors:
        raise ValidationError(errors)


def _check(assignment: Assignment) -> None:
    """The model's own checks, then the rules across fields, each on the field at fault."""
    errors: dict[str, list[str]] = {}
    try:
        # The constraints' rules are checked below, each on its own field with its own words
        # (the database still enforces them); Django's would add a second, cryptic message.
        assignment.full_clean(
            exclude=["course", "created_by", "grades_released_by"], validate_constraints=False
        )
    except ValidationError as error:
        errors = error.message_dict
    if assignment.opens_at and assignment.due_at and assignment.due_at <= assignment.opens_at:
        errors.setdefault("due_at", []).append(DUE_BEFORE_OPEN)
    if assignment.late_until and assignment.due_at and assignment.late_until < assignment.due_at:
        errors.setdefault("late_until", []).append(LATE_BEFORE_DUE)
    if not any(assignment.required().values()):
        errors.setdefault("__all__", []).append(NOTHING_REQUIRED)
    if errors:
        raise ValidationError(errors)


def assignment_create(
    *,
    user,
    course: Course,
    title: str,
    opens_at: datetime,
    due_at: datetime,
    sections: Iterable[Section] = (),
    claims: Iterable[Claim] = (),
    **fields: Any,
) -> Assignment:
    """An instructor sets an assignment in their course.

    ``fields`` are the assignment's other settings (instructions, late window, penalty,
    work mode, scoring, points, the options and the ``required_*`` numbers).
    """
    _require_instructor(user, course)
    sections, claims = list(sections), list(claims)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown assignment fields: {', '.join(sorted(unknown))}")
    assignment = Assignment(
        course=course, title=title, opens_at=opens_at, due_at=due_at, created_by=user, **fields
    )
    assignment.instructions_html = render(assignment.instructions)
    _check(assignment)
    _check_scope(course, sections, claims)
    with transaction.atomic():
        assignment.save()
        assignment.sections.set(sections)
        assignment.claims.set(claims)
        anonymity_refresh(course=course)
    return assignment


def assignment_update(
    *,
    user,
    assignment: Assignment,
    sections: Iterable[Section] | None = None,
    claims: Iterable[Claim] | None = None,
    **fields: Any,
) -> Assignment:
    """An instructor changes an assignment; only the fields given change."""
    _require_instructor(user, assignment.course)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown assignment fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(assignment, name, value)
    assignment.instructions_html = render(assignment.instructions)
    sections = list(sections) if sections is not None else None
    claims = list(claims) if claims is not None else None
    try:
        _check(assignment)
        _check_scope(assignment.course, sections or [], claims or [])
    except ValidationError:
        # The caller's object goes back to what is stored: a refusal changes nothing.
        assignment.refresh_from_db()
        raise
    with transaction.atomic():
        assignment.save()
        if sections is not None:
            assignment.sections.set(sections)
        if claims is not None:
            assignment.claims.set(claims)
        anonymity_refresh(course=assignment.course)
    return assignment


def assignment_delete(*, user, assignment: Assignment) -> None:
    """An instructor deletes an assignment that has no grades yet (grades are never lost)."""
    _require_instructor(user, assignment.course)
    with transaction.atomic():
        if assignment.grades.exists():
            raise ValidationError(HAS_GRADES)
        course = assignment.course
        assignment.delete()
        anonymity_refresh(course=course)


def _student(course: Course, student) -> Membership:
    membership = Membership.objects.filter(course=course, user=student, role=Role.STUDENT).first()
    if membership is None:
        raise ValidationError({"student": NOT_A_STUDENT.format(student)})
    return membership


def extension_grant(
    *,
    user,
    assignment: Assignment,
    student,
    due_at: datetime,
    late_until: datetime | None = None,
    reason: str = "",
) -> Extension:
    """Staff give one student a later due date (replacing any earlier extension)."""
    _require_staff(user, assignment.course)
    _student(assignment.course, student)
    errors: dict[str, str] = {}
    if due_at <= assignment.due_at:
        errors["due_at"] = EXTENSION_TOO_EARLY.format(
            timezone.localtime(assignment.due_at).strftime("%Y-%m-%d %H:%M")
        )
    if late_until is not None and late_until < due_at:
        errors["late_until"] = LATE_BEFORE_DUE
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        earlier = Extension.objects.filter(assignment=assignment, student=student).first()
        extension, _ = Extension.objects.update_or_create(
            assignment=assignment,
            student=student,
            defaults={
                "due_at": due_at,
                "late_until": late_until,
                "reason": reason.strip(),
                "granted_by": user,
            },
        )
        audit(
            actor=user,
            course=assignment.course,
            action="grading.extension",
            target_type="extension",
            target_id=extension.pk,
            target_label=f"{student} on “{assignment}”",
            reason=extension.reason,
            before=_extension_state(earlier),
            after=_extension_state(extension),
        )
    return extension


def audit_extension(*, user, extension: Extension, action: str, assignment: Assignment | None = None) -> None:
    """Audit an extension changed outside ``extension_grant``/``extension_revoke`` (the admin's inline)."""
    assignment = assignment or extension.assignment
    audit(
        actor=user,
        course=assignment.course,
        action=action,
        target_type="extension",
        # A deleted row has lost its id; the student and the dates say which it was.
        target_id=extension.pk or "",
        target_label=f"{extension.student} on “{assignment}”",
        reason=extension.reason,
        after=_extension_state(extension) if action == "grading.extension" else {},
        before=_extension_state(extension) if action != "grading.extension" else {},
    )


def _extension_state(extension: Extension | None) -> dict[str, Any]:
    if extension is None:
        return {}
    return {
        "due_at": extension.due_at.isoformat(),
        "late_until": extension.late_until.isoformat() if extension.late_until else None,
    }


def extension_revoke(*, user, extension: Extension) -> None:
    _require_staff(user, extension.assignment.course)
    with transaction.atomic():
        audit(
            actor=user,
            course=extension.assignment.course,
            action="grading.extension_revoked",
            target_type="extension",
            target_id=extension.pk,
            target_label=f"{extension.student} on “{extension.assignment}”",
            before=_extension_state(extension),
        )
        extension.delete()


def score_from(value: Any, assignment: Assignment) -> Decimal | None:
    """A grade's score from what a grader typed: a number between 0 and the points, or ``None``."""
    if value is None or value == "":
        return None
    try:
        score = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({"score": SCORE_NOT_A_NUMBER}) from None
    if not score.is_finite():
        raise ValidationError({"score": SCORE_NOT_A_NUMBER})
    if score < 0:
        raise ValidationError({"score": SCORE_NEGATIVE})
    if score > assignment.points:
        raise ValidationError({"score": SCORE_TOO_HIGH.format(f"{assignment.points.normalize():f}")})
    return score.quantize(Decimal("0.01"))


def grade_set(
    *,
    user,
    assignment: Assignment,
    student,
    score: Any = None,
    feedback: str = "",
    expected_version: int | None = None,
) -> Grade:
    """Staff grade a student: an override of the automatic score (``None`` keeps the
    automatic score) and feedback.

    ``expected_version`` is the version the grader saw (0 when there was no grade yet);
    when someone else graded since, ``GradeConflict`` carries the grade as it is now and
    nothing is written. Without it the grade is written whatever its version.
    """
    _require_staff(user, assignment.course)
    _student(assignment.course, student)
    value = score_from(score, assignment)
    with transaction.atomic():
        rows = Grade.objects.all()
        if connection.features.has_select_for_update:
            rows = rows.select_for_update()
        grade, _created = rows.get_or_create(assignment=assignment, student=student, defaults={"version": 0})
        if expected_version is not None and grade.version != expected_version:
            # Raising rolls back a row created just now: nothing is written.
            raise GradeConflict(grade)
        written = Grade.objects.filter(pk=grade.pk, version=grade.version).update(
            score=value,
            feedback=feedback,
            feedback_html=render(feedback),
            graded_by=user,
            graded_at=timezone.now(),
            version=grade.version + 1,
        )
        if not written:
            raise GradeConflict(Grade.objects.get(pk=grade.pk))
        before = _grade_state(grade)
        grade.refresh_from_db()
        audit(
            actor=user,
            course=assignment.course,
            action="grading.grade",
            target_type="grade",
            target_id=grade.pk,
            target_label=f"{student} on “{assignment}”",
            reason=feedback,
            before=before,
            after=_grade_state(grade),
        )
    return grade


def _grade_state(grade: Grade) -> dict[str, Any]:
    return {
        "score": None if grade.score is None else str(grade.score),
        "feedback": grade.feedback,
        "version": grade.version,
    }


def _audit_assignment(user, assignment: Assignment, action: str, before: dict, after: dict, reason: str = ""):
    audit(
        actor=user,
        course=assignment.course,
        action=action,
        target_type="assignment",
        target_id=assignment.pk,
        target_label=str(assignment),
        reason=reason,
        before=before,
        after=after,
    )


def grades_release(*, user, assignment: Assignment) -> Assignment:
    """An instructor shows the grades and feedback to the students; each is notified."""
    from annotations.services.notifications import GRADE_RELEASED, notify_many

    _require_instructor(user, assignment.course)
    with transaction.atomic():
        released = Assignment.objects.filter(pk=assignment.pk, grades_released_at__isnull=True).update(
            grades_released_at=timezone.now(), grades_released_by=user
        )
        if not released:
            raise ValidationError(ALREADY_RELEASED)
        assignment.refresh_from_db()
        _audit_assignment(
            user,
            assignment,
            "grading.release",
            {"grades_released_at": None},
            {"grades_released_at": assignment.grades_released_at.isoformat()},
        )
        url = reverse("assignments:detail", kwargs={"pk": assignment.pk})
        students = Membership.objects.filter(course=assignment.course, role=Role.STUDENT).select_related(
            "user"
        )
        notify_many(
            recipients=[membership.user for membership in students],
            kind=NotificationKind.GRADE_RELEASED,
            actor=user,
            course=assignment.course,
            message=GRADE_RELEASED,
            params={"assignment": assignment.title},
            url=url,
        )
    return assignment


def grades_withhold(*, user, assignment: Assignment) -> Assignment:
    """An instructor hides released grades again (to correct them, say)."""
    _require_instructor(user, assignment.course)
    with transaction.atomic():
        released_at = assignment.grades_released_at
        withheld = Assignment.objects.filter(pk=assignment.pk, grades_released_at__isnull=False).update(
            grades_released_at=None, grades_released_by=None
        )
        if not withheld:
            raise ValidationError(NOT_RELEASED)
        assignment.refresh_from_db()
        _audit_assignment(
            user,
            assignment,
            "grading.withhold",
            {"grades_released_at": released_at.isoformat() if released_at else None},
            {"grades_released_at": None},
        )
    return assignment


# -- anonymity ----------------------------------------------------------------------------


def _anonymous_q(assignment: Assignment, *, kind: str) -> Q:
    """Work of ``kind`` ("annotation" or "challenge") made for an anonymous assignment."""
    from annotations.grading import Scope

    scope = Scope(assignment)
    where = Q(created_at__gte=assignment.opens_at, created_at__lte=assignment.closes_at)
    if kind == "annotation":
        return where & scope.annotation_q()
    return where & scope.claim_q()


def anonymity_refresh(*, course: Course) -> None:
    """Mark the course's annotations and challenges made for an anonymous assignment
    (in its scope, while it is open), and unmark the rest; run whenever assignments change."""
    anonymous = list(
        course.assignments.filter(anonymous_to_peers=True).prefetch_related("sections", "claims")
    )
    for model, kind in ((Annotation, "annotation"), (Challenge, "challenge")):
        rows = model.objects.filter(course=course)
        if not anonymous:
            rows.filter(anonymous_to_peers=True).update(anonymous_to_peers=False)
            continue
        covered = Q()
        for assignment in anonymous:
            covered |= _anonymous_q(assignment, kind=kind)
        rows.filter(covered).exclude(anonymous_to_peers=True).update(anonymous_to_peers=True)
        rows.exclude(covered).filter(anonymous_to_peers=True).update(anonymous_to_peers=False)


def is_anonymous_work(*, course: Course, kind: str, paragraph_id: int | None, claim_id: int | None) -> bool:
    """Whether new work (made now) falls in an open anonymous assignment of the course."""
    from annotations.grading import Scope

    now = timezone.now()
    open_now = course.assignments.filter(anonymous_to_peers=True, opens_at__lte=now).filter(
        Q(late_until__gte=now) | Q(late_until__isnull=True, due_at__gte=now)
    )
    for assignment in open_now.prefetch_related("sections", "claims"):
        scope = Scope(assignment)
        if kind == "challenge" and scope.covers_claim(claim_id):
            return True
        if kind == "annotation" and (
            scope.whole
            or paragraph_id in scope.paragraph_ids
            or (claim_id is not None and claim_id in scope.claim_ids)
        ):
            return True
    return False
