"""Claim–event link proposals under /api/v1/links/ and event proposals under /api/v1/event-proposals/.

A course's proposals are seen by its members (every role) and site staff; anyone else gets
a 404. Members propose; the course's TAs and instructors (and site staff) decide. Deciding
a proposal that is no longer proposed is a 409 that carries the proposal as it now is.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import selectors
from annotations.api.filters import IdFilter
from annotations.models import Claim, ClaimEventLink, Source
from annotations.models.challenges import EventProposal, LinkProposal, ProposalStatus
from annotations.services import links as services
from scoproject.pagination import CursorPagination
from timeline.models import Event


class LinkProposalFilter(django_filters.FilterSet):
    claim = django_filters.CharFilter(field_name="claim__key", lookup_expr="exact", label="Claim key")
    event = django_filters.CharFilter(field_name="event__key", lookup_expr="exact", label="Event key")
    status = django_filters.ChoiceFilter(
        field_name="status", lookup_expr="exact", choices=ProposalStatus.choices
    )
    course = IdFilter(field_name="course_id", lookup_expr="exact")
    author = django_filters.CharFilter(
        field_name="proposer__username", lookup_expr="exact", label="Proposer's username"
    )
    relation = django_filters.ChoiceFilter(
        field_name="relation", lookup_expr="exact", choices=ClaimEventLink.Relation.choices
    )
    mismatch = django_filters.BooleanFilter(
        method="filter_mismatch", label="Whether the event's date disagrees with the claim's"
    )

    class Meta:
        model = LinkProposal
        fields: list[str] = []

    def filter_mismatch(
        self, queryset: QuerySet[LinkProposal], name: str, value: bool | None
    ) -> QuerySet[LinkProposal]:
        if value is None:
            return queryset
        ids = selectors.mismatched_proposal_ids(queryset)
        return queryset.filter(pk__in=ids) if value else queryset.exclude(pk__in=ids)


class EventProposalFilter(django_filters.FilterSet):
    course = IdFilter(field_name="course_id", lookup_expr="exact")
    status = django_filters.ChoiceFilter(
        field_name="status", lookup_expr="exact", choices=ProposalStatus.choices
    )
    author = django_filters.CharFilter(
        field_name="proposer__username", lookup_expr="exact", label="Proposer's username"
    )

    class Meta:
        model = EventProposal
        fields: list[str] = []


def _status_schema(enum_id: str) -> dict:
    # Each proposal kind names its status enum after itself (LinkProposalStatusEnum,
    # EventProposalStatusEnum), apart from the challenges' status.
    return {"type": "string", "enum": ProposalStatus.values, "x-spec-enum-id": enum_id}


@extend_schema_field(_status_schema("link-proposal-status"))
class LinkStatusField(serializers.CharField):
    pass


@extend_schema_field(_status_schema("event-proposal-status"))
class EventStatusField(serializers.CharField):
    pass


class LinkProposalSerializer(serializers.ModelSerializer):
    """The read shape."""

    status = LinkStatusField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:link-detail")
    author = serializers.CharField(source="proposer.username", read_only=True)
    claim = serializers.CharField(source="claim.key", read_only=True)
    claim_stated_date = serializers.CharField(source="claim.stated_date_iso", read_only=True)
    event = serializers.CharField(source="event.key", read_only=True)
    event_date = serializers.CharField(source="event.date_iso", read_only=True)
    date_disagrees = serializers.BooleanField(read_only=True)
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = LinkProposal
        fields = [
            "id", "url", "course", "author", "claim", "claim_stated_date", "event", "event_date",
            "relation", "note", "status", "date_disagrees", "feedback", "decided_by", "decided_at",
            "created_at",
        ]  # fmt: skip

    def get_decided_by(self, proposal: LinkProposal) -> str | None:
        return proposal.decided_by.username if proposal.decided_by else None


class LinkProposalCreateSerializer(serializers.Serializer):
    course = serializers.IntegerField()
    claim = serializers.CharField(help_text="The claim's key, e.g. c-20-8.")
    event = serializers.CharField(help_text="The event's key, e.g. moscow-summit-1997.")
    relation = serializers.ChoiceField(choices=ClaimEventLink.Relation.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class DecisionSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    feedback = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class EventProposalSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:event-proposal-detail")
    status = EventStatusField(read_only=True)
    author = serializers.CharField(source="proposer.username", read_only=True)
    date = serializers.SerializerMethodField()
    end_date = serializers.SerializerMethodField()
    source = serializers.CharField(source="source.key", read_only=True)
    event = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = EventProposal
        fields = [
            "id", "url", "course", "author", "title", "date", "precision", "end_date", "end_precision",
            "place", "type", "description", "source", "status", "feedback", "decided_by", "decided_at",
            "event", "created_at",
        ]  # fmt: skip

    def get_date(self, proposal: EventProposal) -> str:
        return Event(date=proposal.date, precision=proposal.precision).date_iso

    def get_end_date(self, proposal: EventProposal) -> str | None:
        if proposal.end_date is None:
            return None
        return Event(date=proposal.end_date, precision=proposal.end_precision).date_iso

    def get_event(self, proposal: EventProposal) -> str | None:
        """The key of the timeline event created on acceptance."""
        return proposal.event.key if proposal.event else None

    def get_decided_by(self, proposal: EventProposal) -> str | None:
        return proposal.decided_by.username if proposal.decided_by else None


class EventProposalCreateSerializer(serializers.Serializer):
    course = serializers.IntegerField()
    title = serializers.CharField(max_length=300)
    date = serializers.CharField(help_text="YYYY, YYYY-MM or YYYY-MM-DD.")
    end_date = serializers.CharField(required=False, allow_blank=True, default="")
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    type = serializers.ChoiceField(choices=Event.Type.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    source = serializers.CharField(help_text="The key of a source of the reading or of the course.")


def _already_decided(error: services.AlreadyDecided, current: dict) -> Response:
    # Someone decided first: a lost race is a 409 with the state that won, never a silent overwrite.
    return Response({"status": [error.messages[0]], "current": current}, status=status.HTTP_409_CONFLICT)


@extend_schema_view(
    list=extend_schema(summary="Claim–event link proposals of the courses you may see, filtered"),
    create=extend_schema(request=LinkProposalCreateSerializer, responses={201: LinkProposalSerializer}),
    destroy=extend_schema(summary="Withdraw your proposal while it is still proposed"),
)
class LinkViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = LinkProposalSerializer
    filterset_class = LinkProposalFilter
    pagination_class = CursorPagination
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[LinkProposal]:
        return selectors.link_proposal_list(self.request.user)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = LinkProposalCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        course = selectors.course_for_user(request.user, data["course"])
        claim = Claim.objects.select_related("paragraph").filter(key=data["claim"]).first()
        if claim is None:
            raise serializers.ValidationError({"claim": [f"There is no claim {data['claim']!r}."]})
        event = Event.objects.filter(key=data["event"]).first()
        if event is None:
            raise serializers.ValidationError({"event": [f"There is no event {data['event']!r}."]})
        proposal = services.link_propose(
            user=request.user,
            course=course,
            claim=claim,
            event=event,
            relation=data["relation"],
            note=data["note"],
        )
        output = self.get_serializer(self.get_queryset().get(pk=proposal.pk))
        return Response(output.data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.link_withdraw(user=request.user, proposal=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=DecisionSerializer, responses={200: LinkProposalSerializer, 409: OpenApiTypes.OBJECT}
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Accept or decline a proposed link (the course's TAs and instructors)."""
        proposal = self.get_object()
        incoming = DecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.link_decide(user=request.user, proposal=proposal, **incoming.validated_data)
        except services.AlreadyDecided as error:
            current = self.get_serializer(self.get_queryset().get(pk=proposal.pk)).data
            return _already_decided(error, current)
        return Response(self.get_serializer(self.get_queryset().get(pk=proposal.pk)).data)


@extend_schema_view(
    list=extend_schema(summary="Event proposals of the courses you may see, filtered"),
    create=extend_schema(request=EventProposalCreateSerializer, responses={201: EventProposalSerializer}),
)
class EventProposalViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = EventProposalSerializer
    filterset_class = EventProposalFilter
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[EventProposal]:
        return selectors.event_proposal_list(self.request.user)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = EventProposalCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        course = selectors.course_for_user(request.user, data.pop("course"))
        key = data.pop("source")
        source = Source.objects.filter(key=key).first()
        if source is None:
            raise serializers.ValidationError({"source": [f"There is no source {key!r}."]})
        proposal = services.event_propose(user=request.user, course=course, source=source, **data)
        output = self.get_serializer(self.get_queryset().get(pk=proposal.pk))
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DecisionSerializer, responses={200: EventProposalSerializer, 409: OpenApiTypes.OBJECT}
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Accept a proposed event into the timeline, or decline it (the course's TAs and instructors)."""
        proposal = self.get_object()
        incoming = DecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.event_decide(user=request.user, proposal=proposal, **incoming.validated_data)
        except services.AlreadyDecided as error:
            current = self.get_serializer(self.get_queryset().get(pk=proposal.pk)).data
            return _already_decided(error, current)
        return Response(self.get_serializer(self.get_queryset().get(pk=proposal.pk)).data)
