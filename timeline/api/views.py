"""Read-only endpoints for actors, events and the TimelineJS export."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from timeline import selectors
from timeline.api import filters, serializers
from timeline.timelinejs import timeline_json


class ActorViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.ActorSerializer
    filterset_class = filters.ActorFilter
    lookup_field = "key"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self):
        return selectors.actor_list()


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.EventSerializer
    filterset_class = filters.EventFilter
    lookup_field = "key"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self):
        return selectors.event_list()


class TimelineJSView(APIView):
    """All events (filtered like ``/events/``) as a TimelineJS3 document."""

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("actor", str, description="An actor's key."),
            OpenApiParameter("type", str, enum=list(filters.Event.Type.values)),
            OpenApiParameter("year_from", int),
            OpenApiParameter("year_to", int),
        ],
    )
    def get(self, request: Request) -> Response:
        filterset = filters.EventFilter(request.query_params, queryset=selectors.event_list())
        if not filterset.is_valid():
            return Response(filterset.errors, status=400)
        data = timeline_json(
            filterset.qs,
            title="Timeline of the events the readings narrate",
            build_url=request.build_absolute_uri,
        )
        return Response(data)
