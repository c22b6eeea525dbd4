"""The course dashboard for staff."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def course_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError
