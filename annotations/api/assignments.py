"""Assignments, their progress, grades and extensions under /api/v1/assignments/.

Reads go through ``selectors.assignment_list`` (the assignments of the courses the asker may
see), so an assignment of another course is a 404, as is a missing one. Writes go through
``services.assignments``: its ``PermissionDenied`` is a 403 and its ``ValidationError`` a
400 with a message per field (see ``scoproject.exceptions``). Counting and scoring are
``annotations.grading``'s. Every endpoint needs a signed-in user: anonymous requests get 401.

| endpoint | who | answers |
|---|---|---|
| ``GET assignments/``, ``GET assignments/{id}/`` | members of the course; site staff | 200 |
| ``POST assignments/`` | the course's instructors, site staff | 201; 400; 403 |
| ``PUT``/``PATCH``/``DELETE assignments/{id}/`` | instructors | 200/204; 400 (delete: has grades); 403 |
| ``GET assignments/{id}/progress/`` | TAs, instructors: every student; a student: their own row | 200; 403 |
| ``GET assignments/{id}/grades/`` | TAs, instructors: every student; a student: own row once released | 200 |
| ``PUT assignments/{id}/grades/{student_id}/`` | TAs, instructors | 200; 400; 403; 404; 409 |
| ``GET``/``POST assignments/{id}/extensions/`` | TAs, instructors | 200/201; 400; 403 |
| ``DELETE assignments/{id}/extensions/{student_id}/`` | TAs, instructors | 204; 403; 404 |
| ``POST assignments/{id}/release/``, ``.../withhold/`` | instructors | 200; 400; 403 |
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework import permissions as drf_permissions
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import grading, permissions, selectors
from annotations.api.filters import IdFilter
from annotations.api.lean import iso_datetime
from annotations.models import Claim, Section
from annotations.models.assignments import REQUIREMENTS, Assignment, Extension, Scoring, WorkMode
from annotations.models.courses import Role
from annotations.services import assignments as services

NO_SUCH_COURSE = "There is no course {} that you can see."
NO_SUCH_SECTIONS = "The course's reading has no section {}."
NO_SUCH_CLAIMS = "The course's reading has no claim {}."
NO_SUCH_GROUP = "Give the group as a number (its id)."
NOT_IN_COURSE = "Only the course's students, TAs and instructors can see its progress and grades."


class AssignmentFilter(django_filters.FilterSet):
    course = IdFilter(field_name="course_id", lookup_expr="exact")
    status = django_filters.ChoiceFilter(
        choices=Assignment.Status.choices, method="filter_status", label="Where it stands now"
    )
    due_after = django_filters.IsoDateTimeFilter(
        field_name="due_at", lookup_expr="gte", label="Due at or after (ISO 8601)"
    )
    due_before = django_filters.IsoDateTimeFilter(
        field_name="due_at", lookup_expr="lte", label="Due at or before (ISO 8601)"
    )

    class Meta:
        model = Assignment
        fields: list[str] = []

    def filter_status(self, queryset: QuerySet[Assignment], name: str, value: str) -> QuerySet[Assignment]:
        return queryset.in_status(value, timezone.now())


# -- read shapes --------------------------------------------------------------------------


class ScopeSerializer(serializers.Serializer):
    whole = serializers.BooleanField(help_text="Neither sections nor claims: the whole reading.")
    sections = serializers.ListField(child=serializers.CharField(), help_text="Section keys.")
    claims = serializers.ListField(child=serializers.CharField(), help_text="Claim keys.")
    description = serializers.CharField()


class RequirementsSerializer(serializers.Serializer):
    """How many pieces of each kind of work; 0 where the assignment does not ask for it."""

    annotations = serializers.IntegerField(min_value=0, max_value=32767, default=0)
    challenges = serializers.IntegerField(min_value=0, max_value=32767, default=0)
    sources = serializers.IntegerField(
        min_value=0, max_value=32767, default=0, help_text="Distinct sources cited in challenges."
    )
    replies = serializers.IntegerField(
        min_value=0, max_value=32767, default=0, help_text="Replies, challenge responses and posts."
    )
    links = serializers.IntegerField(
        min_value=0, max_value=32767, default=0, help_text="Claim–event links proposed, not declined."
    )


class AssignmentSerializer(serializers.ModelSerializer):
    """The read shape."""

    url = serializers.HyperlinkedIdentityField(view_name="api:assignment-detail")
    scope = serializers.SerializerMethodField()
    requirements = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id", "url", "course", "title", "instructions", "instructions_html", "scope", "opens_at",
            "due_at", "late_until", "late_penalty", "work_mode", "scoring", "points", "requirements",
            "hide_peers_until_posted", "anonymous_to_peers", "premoderation", "grades_released_at", "status",
            "created_at",
        ]  # fmt: skip

    @extend_schema_field(ScopeSerializer)
    def get_scope(self, assignment: Assignment) -> dict[str, Any]:
        sections = sorted(assignment.sections.all(), key=lambda section: section.order)
        claims = sorted(assignment.claims.all(), key=lambda claim: claim.key)
        whole = not sections and not claims
        return {
            "whole": whole,
            "sections": [section.key for section in sections],
            "claims": [claim.key for claim in claims],
            "description": assignment.describe_scope(),
        }

    @extend_schema_field(RequirementsSerializer)
    def get_requirements(self, assignment: Assignment) -> dict[str, int]:
        return assignment.required()

    @extend_schema_field(serializers.ChoiceField(choices=Assignment.Status.choices))
    def get_status(self, assignment: Assignment) -> str:
        return assignment.status_at(self.context.get("now") or timezone.now())


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


class GroupBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class WindowSerializer(serializers.Serializer):
    opens_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(help_text="This student's due date (an extension moves it).")
    closes_at = serializers.DateTimeField(help_text="When work stops counting, even late.")
    extended = serializers.BooleanField()


class TallySerializer(serializers.Serializer):
    required = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    counted = serializers.IntegerField()
    missing = serializers.IntegerField()
    met = serializers.BooleanField()


def _shows_grade(serializer: serializers.Serializer, row: grading.Progress) -> bool:
    """Staff always see the grade; a student only once the grades are released."""
    return bool(serializer.context.get("staff")) or permissions.can_see_own_grade(
        serializer.context["request"].user, row.assignment
    )


SCORE = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)


class ProgressSerializer(serializers.Serializer):
    """One student's standing on the assignment (``grading.Progress``)."""

    student = PersonSerializer()
    group = GroupBriefSerializer(allow_null=True)
    window = WindowSerializer()
    tallies = serializers.DictField(
        child=TallySerializer(), help_text="One entry per requirement the assignment asks for."
    )
    late = serializers.BooleanField(help_text="Late work was needed to get this far.")
    complete = serializers.BooleanField()
    auto_score = serializers.DecimalField(max_digits=6, decimal_places=2)
    formula = serializers.CharField(help_text="How the automatic score was reached, in words.")
    score = serializers.SerializerMethodField(help_text="The grade; null for a student until released.")
    overridden = serializers.SerializerMethodField(
        help_text="Staff overrode the automatic score; null for a student until released."
    )
    graded = serializers.SerializerMethodField()

    @extend_schema_field(SCORE)
    def get_score(self, row: grading.Progress) -> str | None:
        return f"{row.score:.2f}" if _shows_grade(self, row) else None

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_overridden(self, row: grading.Progress) -> bool | None:
        return row.overridden if _shows_grade(self, row) else None

    @extend_schema_field(serializers.BooleanField())
    def get_graded(self, row: grading.Progress) -> bool:
        return row.grade is not None


class GradeRowSerializer(serializers.Serializer):
    """One student's grade: the automatic score, staff's override and feedback."""

    student = PersonSerializer()
    auto_score = serializers.DecimalField(max_digits=6, decimal_places=2)
    score = serializers.SerializerMethodField(help_text="Staff's override; null keeps the automatic score.")
    final_score = serializers.DecimalField(
        source="score", max_digits=6, decimal_places=2, help_text="The override, else the automatic score."
    )
    feedback = serializers.SerializerMethodField()
    feedback_html = serializers.CharField()
    graded_by = serializers.SerializerMethodField()
    graded_at = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField(help_text="Send it back when grading; 0 before any grade.")

    @extend_schema_field(SCORE)
    def get_score(self, row: grading.Progress) -> str | None:
        return f"{row.grade.score:.2f}" if row.overridden else None

    @extend_schema_field(serializers.CharField())
    def get_feedback(self, row: grading.Progress) -> str:
        return row.grade.feedback if row.grade else ""

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_graded_by(self, row: grading.Progress) -> str | None:
        grader = row.grade.graded_by if row.grade else None
        return grader.get_username() if grader else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_graded_at(self, row: grading.Progress) -> str | None:
        moment = row.grade.graded_at if row.grade else None
        return serializers.DateTimeField().to_representation(moment) if moment else None

    @extend_schema_field(serializers.IntegerField())
    def get_version(self, row: grading.Progress) -> int:
        return row.grade.version if row.grade else 0


# -- the class's reports, without the serializers' per-field machinery ----------------------
#
# A report has a line per student (300 in a big course), each with nested people, dates and
# tallies: through the serializers above, about 35,000 field calls a request. These build
# the same JSON directly; the serializers stay the documented shape, and the tests hold the
# two equal on varied lines and readers.

_DECIMAL = serializers.DecimalField(max_digits=6, decimal_places=2)


class _Written(dict):
    """Each value written once: scores and grading times repeat down a class's lines."""

    def __init__(self, write: Callable[[Any], Any]) -> None:
        super().__init__()
        self.write = write

    def __missing__(self, value: Any) -> Any:
        self[value] = written = self.write(value)
        return written


def progress_data(rows: list[grading.Standing], *, shows_grade: bool) -> list[dict[str, Any]]:
    """What ``ProgressSerializer`` gives for each of these students' ``Progress``
    (``shows_grade``: the reader may see the grade — staff, or a student once released)."""
    data = []
    windows: dict[grading.Window, dict[str, Any]] = {}  # most students share the assignment's
    decimal = _Written(_DECIMAL.to_representation)
    # Students with the same counts share one set of tallies (``class_standings``): each set
    # is written once, by identity, while ``rows`` holds them.
    tallies: dict[int, dict[str, Any]] = {}
    for row in rows:
        window = row.window
        if window not in windows:
            windows[window] = {
                "opens_at": iso_datetime(window.opens_at),
                "due_at": iso_datetime(window.due_at),
                "closes_at": iso_datetime(window.closes_at),
                "extended": window.extended,
            }
        if id(row.tallies) not in tallies:
            tallies[id(row.tallies)] = {
                kind: {
                    "required": tally.required,
                    "on_time": tally.on_time,
                    "late": tally.late,
                    "counted": tally.counted,
                    "missing": tally.missing,
                    "met": tally.met,
                }
                for kind, tally in row.tallies.items()
            }
        data.append(
            {
                "student": {"id": row.student_id, "username": row.username, "name": row.name},
                "group": None if row.group_id is None else {"id": row.group_id, "name": row.group_name},
                "window": windows[window],
                "tallies": tallies[id(row.tallies)],
                "late": row.late,
                "complete": row.complete,
                "auto_score": decimal[row.auto_score],
                "formula": row.formula,
                "score": f"{row.score:.2f}" if shows_grade else None,
                "overridden": (row.override is not None) if shows_grade else None,
                "graded": row.graded,
            }
        )
    return data


def grade_data(rows: list[grading.Standing]) -> list[dict[str, Any]]:
    """What ``GradeRowSerializer`` gives for each of these students' ``Progress``."""
    decimal, moment = _Written(_DECIMAL.to_representation), _Written(iso_datetime)
    return [
        {
            "student": {"id": row.student_id, "username": row.username, "name": row.name},
            "auto_score": decimal[row.auto_score],
            "score": None if row.override is None else f"{row.override:.2f}",
            "final_score": decimal[row.score],
            "feedback": row.feedback,
            "feedback_html": row.feedback_html,
            "graded_by": row.graded_by,
            "graded_at": moment[row.graded_at],
            "version": row.version,
        }
        for row in rows
    ]


class ExtensionSerializer(serializers.ModelSerializer):
    student = PersonSerializer(read_only=True)
    granted_by = serializers.SerializerMethodField()

    class Meta:
        model = Extension
        fields = ["student", "due_at", "late_until", "reason", "granted_by", "created_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_granted_by(self, extension: Extension) -> str | None:
        return extension.granted_by.get_username() if extension.granted_by else None


# -- write shapes -------------------------------------------------------------------------


class AssignmentWriteSerializer(serializers.Serializer):
    """The settings of an assignment. With PATCH only the fields sent change (and, inside
    ``requirements``, only the kinds sent); with PUT every field is set, to its default when
    left out."""

    title = serializers.CharField(max_length=200)
    instructions = serializers.CharField(
        allow_blank=True, default="", max_length=20000, help_text="Markdown."
    )
    sections = serializers.ListField(
        child=serializers.CharField(),
        default=list,
        help_text="Keys of sections of the course's reading (with their subsections).",
    )
    claims = serializers.ListField(
        child=serializers.CharField(), default=list, help_text="Keys of claims of the course's reading."
    )
    opens_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    late_until = serializers.DateTimeField(allow_null=True, default=None)
    late_penalty = serializers.IntegerField(min_value=0, max_value=100, default=0, help_text="Percent.")
    work_mode = serializers.ChoiceField(choices=WorkMode.choices, default=WorkMode.INDIVIDUAL)
    scoring = serializers.ChoiceField(choices=Scoring.choices, default=Scoring.SCALED)
    points = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0.01"), default=Decimal("10")
    )
    requirements = RequirementsSerializer(
        default=dict, help_text="How many of each kind of work; at least one must be more than 0."
    )
    hide_peers_until_posted = serializers.BooleanField(default=False)
    anonymous_to_peers = serializers.BooleanField(default=False)
    premoderation = serializers.BooleanField(
        default=False,
        help_text="Students' new work in the scope waits for approval while the assignment is open.",
    )


class AssignmentCreateSerializer(AssignmentWriteSerializer):
    course = serializers.IntegerField(help_text="The course's id.")


class GradeWriteSerializer(serializers.Serializer):
    score = serializers.CharField(
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="The override, as a number or a numeric string; null or empty keeps the automatic score.",
    )
    feedback = serializers.CharField(allow_blank=True, default="", max_length=20000, help_text="Markdown.")
    version = serializers.IntegerField(min_value=0, help_text="The version you saw (0 before any grade).")


class ExtensionWriteSerializer(serializers.Serializer):
    student = serializers.IntegerField(help_text="The student's user id.")
    due_at = serializers.DateTimeField()
    late_until = serializers.DateTimeField(allow_null=True, default=None)
    reason = serializers.CharField(allow_blank=True, default="", max_length=300)


CONFLICT_RESPONSE = OpenApiResponse(
    response=inline_serializer(
        "GradeConflict", {"detail": serializers.CharField(), "current": GradeRowSerializer()}
    ),
    description="The grade changed since that version; `current` is the grade now.",
)
STUDENT_ID = OpenApiParameter(
    "student_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The student's user id."
)
GROUP = OpenApiParameter(
    "group", OpenApiTypes.INT, description="Only the students of this group (staff; ignored for students)."
)


def _settings(data: dict[str, Any], current: Assignment | None = None) -> dict[str, Any]:
    """Validated write data → the service's keyword arguments (``required_*`` from
    ``requirements``, merged over the current numbers when only some kinds were sent)."""
    fields = {
        name: value for name, value in data.items() if name not in ("requirements", "sections", "claims")
    }
    if "requirements" in data:
        numbers = current.required() if current is not None else dict.fromkeys(REQUIREMENTS, 0)
        numbers.update(data["requirements"])
        fields.update({f"required_{kind}": number for kind, number in numbers.items()})
    return fields


def _scope(course: Any, data: dict[str, Any]) -> dict[str, list]:
    """Section and claim keys → rows of the course's reading; unknown keys are a 400 per field."""
    found: dict[str, list] = {}
    errors: dict[str, list[str]] = {}
    lookups = {
        "sections": (Section.objects.filter(document_id=course.reading_id), NO_SUCH_SECTIONS),
        "claims": (
            Claim.objects.filter(paragraph__document_id=course.reading_id).select_related("paragraph"),
            NO_SUCH_CLAIMS,
        ),
    }
    for name, (rows, message) in lookups.items():
        if name not in data:
            continue
        keys = list(dict.fromkeys(data[name]))
        by_key = {row.key: row for row in rows.filter(key__in=keys)}
        missing = [key for key in keys if key not in by_key]
        if missing:
            errors[name] = [message.format(", ".join(repr(key) for key in missing))]
        found[name] = [by_key[key] for key in keys if key in by_key]
    if errors:
        raise serializers.ValidationError(errors)
    return found


def _write_errors(error: DjangoValidationError) -> serializers.ValidationError:
    """The service's errors on the API's field names: ``required_*`` and "nothing is
    required" belong to ``requirements``."""
    detail: dict[str, list[str]] = {}
    for field, messages in error.message_dict.items():
        if field.startswith("required_") or services.NOTHING_REQUIRED in messages:
            field = "requirements"
        elif field == "__all__":
            field = "non_field_errors"
        detail.setdefault(field, []).extend(messages)
    return serializers.ValidationError(detail)


@extend_schema_view(
    list=extend_schema(summary="Assignments of the courses you are in, filtered"),
    retrieve=extend_schema(summary="One assignment of a course you are in"),
    create=extend_schema(
        summary="Set an assignment in a course you teach (instructors)",
        request=AssignmentCreateSerializer,
        responses={201: AssignmentSerializer},
    ),
    update=extend_schema(
        summary="Replace an assignment's settings (instructors)",
        request=AssignmentWriteSerializer,
        responses=AssignmentSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of an assignment's settings (instructors)",
        request=AssignmentWriteSerializer,
        responses=AssignmentSerializer,
    ),
    destroy=extend_schema(
        summary="Delete an assignment that has no grades (instructors)",
        responses={204: None, 400: OpenApiResponse(description=services.HAS_GRADES)},
    ),
)
class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter
    permission_classes = [drf_permissions.IsAuthenticated]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Assignment]:
        return selectors.assignment_list(self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        # One "now" for a whole list, so every row's status is judged at the same moment.
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _assignment(self) -> Assignment:
        """The assignment in the URL, if the asker may see it (else 404), unfiltered."""
        return selectors.assignment_for_user(self.request.user, self.kwargs["pk"])

    def _fresh(self, assignment: Assignment) -> dict:
        return self.get_serializer(selectors.assignment_for_user(self.request.user, assignment.pk)).data

    # -- the assignment ---------------------------------------------------------------------

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = AssignmentCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        course = selectors.courses_for_user(request.user).filter(pk=data.pop("course")).first()
        if course is None:
            raise serializers.ValidationError(
                {"course": [NO_SUCH_COURSE.format(incoming.validated_data["course"])]}
            )
        if not permissions.can_set_assignments(request.user, course):
            # Before the keys are looked up: a TA or student learns nothing of the reading here.
            raise PermissionDenied(services.NOT_INSTRUCTOR)
        scope = _scope(course, data)
        try:
            assignment = services.assignment_create(
                user=request.user, course=course, **scope, **_settings(data)
            )
        except DjangoValidationError as error:
            raise _write_errors(error) from None
        return Response(self._fresh(assignment), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        assignment = self._assignment()
        if not permissions.can_set_assignments(request.user, assignment.course):
            raise PermissionDenied(services.NOT_INSTRUCTOR)
        partial = bool(kwargs.get("partial", False))
        incoming = AssignmentWriteSerializer(data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        scope = _scope(assignment.course, data)
        # PATCH merges the requirement numbers sent over the current ones; PUT replaces them all.
        settings = _settings(data, assignment if partial else None)
        try:
            services.assignment_update(user=request.user, assignment=assignment, **scope, **settings)
        except DjangoValidationError as error:
            raise _write_errors(error) from None
        return Response(self._fresh(assignment))

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.assignment_delete(user=request.user, assignment=self._assignment())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Show the grades and feedback to the students (instructors)", request=None)
    @action(detail=True, methods=["post"], filter_backends=[])
    def release(self, request: Request, pk: str | None = None) -> Response:
        assignment = services.grades_release(user=request.user, assignment=self._assignment())
        return Response(self._fresh(assignment))

    @extend_schema(summary="Hide released grades again (instructors)", request=None)
    @action(detail=True, methods=["post"], filter_backends=[])
    def withhold(self, request: Request, pk: str | None = None) -> Response:
        assignment = services.grades_withhold(user=request.user, assignment=self._assignment())
        return Response(self._fresh(assignment))

    # -- progress and grades ----------------------------------------------------------------

    def _rows(self, assignment: Assignment) -> tuple[list[grading.Standing], bool]:
        """Staff: every student's progress (``?group=`` narrows it); a student: their own
        row; anyone else in the course: 403. Also whether the asker is staff."""
        user = self.request.user
        if permissions.can_grade(user, assignment.course):
            group = self.request.query_params.get("group")
            if group is not None and not group.isdigit():
                raise serializers.ValidationError({"group": [NO_SUCH_GROUP]})
            group_id = int(group) if group is not None else None
            return grading.class_standings(assignment, group_id=group_id), True
        membership = permissions.membership_of(user, assignment.course)
        if membership is None or membership.role != Role.STUDENT:
            raise PermissionDenied(NOT_IN_COURSE)
        return grading.class_standings(assignment, students=[user.pk]), False

    @extend_schema(
        summary="Progress: every student's for staff, your own for a student",
        description=(
            "Counts per requirement (on time and late), the automatic score and how it was "
            "reached. A student's `score` and `overridden` are null until the grades are released."
        ),
        parameters=[GROUP],
        responses=ProgressSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def progress(self, request: Request, pk: str | None = None) -> Response:
        assignment = selectors.assignment_for_report(request.user, pk)
        rows, staff = self._rows(assignment)
        shows_grade = staff or permissions.can_see_own_grade(request.user, assignment)
        return Response(progress_data(rows, shows_grade=shows_grade))

    @extend_schema(
        summary="Grades: every student's for staff; your own for a student once released",
        parameters=[GROUP],
        responses=GradeRowSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def grades(self, request: Request, pk: str | None = None) -> Response:
        assignment = selectors.assignment_for_report(request.user, pk)
        rows, staff = self._rows(assignment)
        if not staff and not permissions.can_see_own_grade(request.user, assignment):
            rows = []
        return Response(grade_data(rows))

    @extend_schema(
        summary="Grade a student: override the automatic score (or not) and give feedback (staff)",
        parameters=[STUDENT_ID],
        request=GradeWriteSerializer,
        responses={200: GradeRowSerializer, 409: CONFLICT_RESPONSE},
    )
    @action(detail=True, methods=["put"], url_path=r"grades/(?P<student_id>\d+)", filter_backends=[])
    def grade(self, request: Request, pk: str | None = None, student_id: str | None = None) -> Response:
        assignment = self._assignment()
        if not permissions.can_grade(request.user, assignment.course):
            raise PermissionDenied(services.NOT_STAFF)
        student = selectors.student_of_course(assignment.course, student_id)
        incoming = GradeWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            services.grade_set(
                user=request.user,
                assignment=assignment,
                student=student,
                score=data["score"],
                feedback=data["feedback"],
                expected_version=data["version"],
            )
        except services.GradeConflict as conflict:
            return Response(
                {"detail": conflict.message, "current": self._grade_row(assignment, student)},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(self._grade_row(assignment, student))

    def _grade_row(self, assignment: Assignment, student: Any) -> dict:
        return GradeRowSerializer(grading.student_progress(assignment, student)).data

    # -- extensions -------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"], summary="The extensions granted (staff)", responses=ExtensionSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        summary="Give a student a later due date, replacing any earlier one (staff)",
        request=ExtensionWriteSerializer,
        responses={201: ExtensionSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def extensions(self, request: Request, pk: str | None = None) -> Response:
        assignment = self._assignment()
        if not permissions.can_grade(request.user, assignment.course):
            raise PermissionDenied(services.NOT_STAFF)
        if request.method == "GET":
            rows = assignment.extensions.select_related("student", "granted_by")
            return Response(ExtensionSerializer(rows, many=True).data)
        incoming = ExtensionWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        student_id = data.pop("student")
        try:
            student = selectors.student_of_course(assignment.course, student_id)
        except Http404:
            # A field of the body, not the URL: a 400 naming it.
            raise serializers.ValidationError(
                {"student": [services.NOT_A_STUDENT.format(f"User {student_id}")]}
            ) from None
        extension = services.extension_grant(
            user=request.user, assignment=assignment, student=student, **data
        )
        fresh = assignment.extensions.select_related("student", "granted_by").get(pk=extension.pk)
        return Response(ExtensionSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Take a student's extension back (staff)", parameters=[STUDENT_ID], responses={204: None}
    )
    @action(detail=True, methods=["delete"], url_path=r"extensions/(?P<student_id>\d+)", filter_backends=[])
    def extension(self, request: Request, pk: str | None = None, student_id: str | None = None) -> Response:
        assignment = self._assignment()
        if not permissions.can_grade(request.user, assignment.course):
            raise PermissionDenied(services.NOT_STAFF)
        extension = assignment.extensions.filter(student_id=student_id).first()
        if extension is None:
            raise Http404("This student has no extension.")
        services.extension_revoke(user=request.user, extension=extension)
        return Response(status=status.HTTP_204_NO_CONTENT)
