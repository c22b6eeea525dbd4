"""Annotations under /api/v1/annotations/."""

from __future__ import annotations

from rest_framework import viewsets


class AnnotationViewSet(viewsets.GenericViewSet):
    pass
