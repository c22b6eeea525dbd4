"""The reading inside a course: annotating, replying, editing and deleting."""

from __future__ import annotations

from django.http import HttpResponse


def course_reading(request, pk):
    return HttpResponse("")


annotation_create = annotation_edit = annotation_delete = reply_create = reply_edit = reply_delete = (
    course_reading
)
