"""The course dashboard for staff.

TAs, instructors and site staff (``permissions.can_grade``); a student of the course gets a
403, anyone outside it a 404, an anonymous visitor the sign-in page. The numbers come from
``annotations.dashboard``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotations import dashboard, permissions, selectors

NOT_STAFF = "Only the course's TAs and instructors see its dashboard."


@login_required
@require_GET
def course_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    """Participation over time, annotations per paragraph, the most challenged claims, what
    waits for staff and the assignments' standing."""
    course = selectors.course_for_user(request.user, pk)
    if not permissions.can_grade(request.user, course):
        raise PermissionDenied(NOT_STAFF)
    return render(
        request,
        "annotations/dashboard/course.html",
        {
            "nav": "courses",
            "course": course,
            "participation": dashboard.participation(request.user, course),
            "heat_map": dashboard.heat_map(request.user, course),
            "heat_steps": range(dashboard.HEAT_STEPS + 1),
            "challenged": dashboard.most_challenged(request.user, course),
            "open_items": dashboard.open_items(request.user, course),
            "assignments": dashboard.assignments_summary(course),
        },
    )
