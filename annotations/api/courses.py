"""Courses, memberships and groups under /api/v1/."""

from __future__ import annotations

from rest_framework import viewsets


class CourseViewSet(viewsets.GenericViewSet):
    pass


class GroupViewSet(viewsets.GenericViewSet):
    pass
