"""Endpoints for the reading's records (read-only) and for sources (read and add).

Sources:

| endpoint | who | answers |
|---|---|---|
| ``GET sources/``, ``GET sources/{key}/`` | everyone: the reading's sources; members (and site staff) also a course's | 200; 404 |
| ``POST sources/`` (course, kind, title, …) | members of the course | 201 added; 200 with ``reused: true`` when its DOI or URL is already there; 400; 401; 403 |
| ``POST sources/import/`` (course, format, text) | members of the course | 200 with ``added``, ``reused``, ``errors``; 400; 401; 403 |
| ``GET sources/bibliography/?course=&format=bibtex or csl-json`` | members, site staff | a file to download; 400; 404 |
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework import permissions as drf_permissions
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import selectors
from annotations.api import filters, serializers
from annotations.citations import bibliography_bibtex, bibliography_csl_json
from annotations.services.sources import source_add, sources_import

BIBLIOGRAPHY_FORMATS = {
    "bibtex": ("text/x-bibtex; charset=utf-8", "bib"),
    "csl-json": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
}
BIBLIOGRAPHY_FORMAT_UNKNOWN = "Choose bibtex or csl-json."


class DocumentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.DocumentSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.document_list().prefetch_related("sections__parent", "sections__document")


class ParagraphViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.ParagraphSerializer
    filterset_class = filters.ParagraphFilter

    def get_queryset(self):
        return selectors.paragraph_list()


class ClaimViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.ClaimSerializer
    filterset_class = filters.ClaimFilter
    lookup_field = "key"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self):
        claims = selectors.claim_list()
        return selectors.as_lists(claims) if self.action == "list" else claims


class SourceViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Sources you may see (``selectors.visible_sources``); members add to their course."""

    serializer_class = serializers.SourceSerializer
    filterset_class = filters.SourceFilter
    permission_classes = [drf_permissions.IsAuthenticatedOrReadOnly]
    lookup_field = "key"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self):
        return selectors.source_list(self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.SourceCreateSerializer
        if self.action == "import_sources":
            return serializers.SourceImportSerializer
        return serializers.SourceSerializer

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # ``?format=`` names the bibliography's format here, not one of DRF's renderers.
        if self.action == "bibliography":
            renderer = JSONRenderer()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        request=serializers.SourceCreateSerializer,
        responses={
            201: serializers.SourceAddedSerializer,
            200: OpenApiResponse(serializers.SourceAddedSerializer, description="Already there: reused."),
        },
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Add a source to a course, or get the one with the same DOI or URL (``reused``)."""
        payload = serializers.SourceCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        source, created = source_add(user=request.user, **fields)
        source.reused = not created
        data = serializers.SourceAddedSerializer(source, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=serializers.SourceImportSerializer, responses=serializers.SourceImportReportSerializer
    )
    @action(detail=False, methods=["post"], url_path="import", filter_backends=[], pagination_class=None)
    def import_sources(self, request: Request) -> Response:
        """Add every entry of a BibTeX or CSL-JSON text; bad entries are reported, not added."""
        payload = serializers.SourceImportSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        report = sources_import(user=request.user, **payload.validated_data)
        data = serializers.SourceImportReportSerializer(report, context={"request": request}).data
        return Response(data)

    @extend_schema(
        parameters=[
            OpenApiParameter("course", OpenApiTypes.INT, required=True, description="The course's id."),
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(BIBLIOGRAPHY_FORMATS), default="bibtex"),
        ],
        responses={
            (200, "text/x-bibtex"): OpenApiTypes.STR,
            (200, "application/vnd.citationstyles.csl+json"): OpenApiTypes.OBJECT,
        },
    )
    @action(
        detail=False,
        methods=["get"],
        filter_backends=[],
        pagination_class=None,
        permission_classes=[drf_permissions.AllowAny],
    )
    def bibliography(self, request: Request) -> HttpResponse:
        """A course's bibliography (its sources and the reading's) as BibTeX or CSL-JSON."""
        chosen = request.query_params.get("format", "bibtex")
        if chosen not in BIBLIOGRAPHY_FORMATS:
            raise exceptions.ValidationError({"format": [BIBLIOGRAPHY_FORMAT_UNKNOWN]})
        course = selectors.course_for_user(request.user, request.query_params.get("course"))
        sources = selectors.course_bibliography(course)
        content_type, extension = BIBLIOGRAPHY_FORMATS[chosen]
        if chosen == "bibtex":
            body = bibliography_bibtex(sources)
        else:
            body = json.dumps(bibliography_csl_json(sources), ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="course-{course.pk}-bibliography.{extension}"'
        )
        return response
