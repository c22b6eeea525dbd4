"""Grade exports (Canvas and plain CSV) and the class's work as JSON."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError


grades_csv = grades_canvas_csv = assignment_work_json = course_work_json = _todo
