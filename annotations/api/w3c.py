"""W3C Web Annotation: JSON-LD for one annotation, paged collections per course, import."""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


def annotation_jsonld(annotation, request) -> dict:
    raise NotImplementedError


class CourseAnnotationCollection(APIView):
    pass


class CourseAnnotationImport(APIView):
    pass
