"""The signed-in user's notifications under /api/v1/notifications/.

Each user sees only their own; anyone else's is a 404, and an anonymous request a 401.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.filters import IdFilter
from annotations.models import Notification
from annotations.models.discussion import NotificationKind
from annotations.services import notifications as services
from scoproject.pagination import CursorPagination


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="Only unread (true) or only read (false)"
    )
    kind = django_filters.ChoiceFilter(
        field_name="kind", lookup_expr="exact", choices=NotificationKind.choices
    )
    course = IdFilter(field_name="course_id", lookup_expr="exact")

    class Meta:
        model = Notification
        fields: list[str] = []


class NotificationSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    unread = serializers.SerializerMethodField()
    text = serializers.CharField(
        source="display_text", read_only=True, help_text="In the language of the request (Accept-Language)."
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "url", "course", "actor", "created_at", "read_at", "unread"]
        read_only_fields = fields

    def get_unread(self, obj: Notification) -> bool:
        return obj.read_at is None


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": "Give the ids to mark read, or all: true."})
        return attrs


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


@extend_schema_view(
    list=extend_schema(summary="Your notifications, newest first, filtered"),
    retrieve=extend_schema(summary="One of your notifications"),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    pagination_class = CursorPagination
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[Notification]:
        return services.notifications_for(self.request.user).select_related("actor")

    @extend_schema(
        summary="Mark notifications read: the given ids, or all",
        request=MarkReadSerializer,
        responses={200: MarkedSerializer},
    )
    @action(detail=False, methods=["post"], url_path="mark_read", serializer_class=MarkReadSerializer)
    def mark_read(self, request: Request) -> Response:
        payload = MarkReadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = None if payload.validated_data["all"] else payload.validated_data["ids"]
        marked = services.notification_mark_read(user=request.user, ids=ids)
        unread = services.notifications_for(request.user).filter(read_at__isnull=True).count()
        return Response({"marked": marked, "unread": unread})
