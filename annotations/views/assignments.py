"""Assignment pages: list, set, edit, a student's progress, the class table, grading."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs) -> HttpResponse:
    raise NotImplementedError


assignment_list = assignment_create = assignment_detail = assignment_edit = assignment_delete = _todo
class_table = grade_edit = extension_grant = extension_revoke = grades_release = grades_withhold = _todo
