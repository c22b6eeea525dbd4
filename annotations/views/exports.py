"""Grade exports (Canvas and plain CSV) and the class's work as JSON.

Staff only (``permissions.can_grade``: TAs, instructors, site staff): a student of the
course gets a 403, anyone outside it a 404, an anonymous visitor the sign-in page. The
rows and dicts come from ``annotations.exports``; these views only wrap them.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from annotations import exports, permissions, selectors
from annotations.grading import class_progress
from annotations.models import Assignment, Course

NOT_STAFF = "Only the course's TAs and instructors may export its grades and work."


def _gradable_assignment(request: HttpRequest, pk: int) -> Assignment:
    assignment = selectors.assignment_for_user(request.user, pk)
    if not permissions.can_grade(request.user, assignment.course):
        raise PermissionDenied(NOT_STAFF)
    return assignment


def _download(content: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Grades are personal data: no shared cache keeps a copy.
    response["Cache-Control"] = "private, no-store"
    return response


def _csv(assignment: Assignment, rows: list) -> HttpResponse:
    return _download(exports.csv_text(rows), exports.export_filename(assignment), "text/csv; charset=utf-8")


def _json(data: dict, filename: str) -> HttpResponse:
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    return _download(text, filename, "application/json; charset=utf-8")


@login_required
@require_GET
def grades_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Every student's tallies, scores, override and feedback, as a spreadsheet."""
    assignment = _gradable_assignment(request, pk)
    return _csv(assignment, exports.grades_rows(assignment, class_progress(assignment)))


@login_required
@require_GET
def grades_canvas_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The final scores in the layout Canvas's gradebook import reads (see ``exports.canvas_rows``)."""
    assignment = _gradable_assignment(request, pk)
    return _csv(assignment, exports.canvas_rows(assignment, class_progress(assignment)))


@login_required
@require_GET
def assignment_work_json(request: HttpRequest, pk: int) -> HttpResponse:
    """The assignment, each student's standing and the work that counts, as JSON."""
    assignment = _gradable_assignment(request, pk)
    filename = exports.export_filename(assignment, "work.json")
    return _json(exports.assignment_work(assignment), filename)


def _gradable_course(request: HttpRequest, pk: int) -> Course:
    course = selectors.course_for_user(request.user, pk)
    if not permissions.can_grade(request.user, course):
        raise PermissionDenied(NOT_STAFF)
    return course


@login_required
@require_GET
def course_work_json(request: HttpRequest, pk: int) -> HttpResponse:
    """Every piece of shared student work in the course, as JSON."""
    course = _gradable_course(request, pk)
    filename = f"{slugify(course.title) or f'course-{course.pk}'}-work.json"
    return _json(exports.course_work(request.user, course), filename)
