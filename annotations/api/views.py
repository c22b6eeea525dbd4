"""Read-only endpoints for the reading's records."""

from __future__ import annotations

from rest_framework import viewsets

from annotations import selectors
from annotations.api import filters, serializers


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
        return selectors.claim_list()


class SourceViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.SourceSerializer
    filterset_class = filters.SourceFilter
    lookup_field = "key"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self):
        return selectors.source_list()
