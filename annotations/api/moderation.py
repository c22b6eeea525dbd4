"""Flags and the review queue under /api/v1/flags/ and /api/v1/moderation/.

Writes go through ``services.moderation``, which checks who may act and writes the audit
log. ``flags/`` takes a member's report of a piece of work they can see (anything else is
a 404) and lists the flags a user raised, plus those of the courses they moderate.
``moderation/`` is the review queue of the courses the user moderates (the course's TAs and
instructors, site staff): a student of the course gets a 403, anyone else a 404.

A piece of work is named by ``kind`` and ``target``: the work's id for an annotation, a
post or a challenge, and the source's key for a source (as in ``/api/v1/sources/<key>/``).

Every act carries the ``version`` of the item the moderator saw: a stale one is a 409 with
the item as it is now, and nothing is written. ``moderation/act/`` acts on several items at
once; each item is its own transaction, and the answer is always a 200 listing, per item,
whether it was done and, if not, why (``conflict`` when its version moved) with its current
state: one stale item never undoes the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import permissions as rules
from annotations import selectors
from annotations.api.filters import IdFilter
from annotations.api.lean import LeanListSerializer, iso_datetime, prefetched
from annotations.models import Post
from annotations.models.moderated import ModerationState
from annotations.models.moderation import (
    MODERATED_KINDS,
    Action,
    Flag,
    FlagReason,
    FlagStatus,
    ItemStatus,
    ModerationItem,
)
from annotations.services import moderation as services
from scoproject.pagination import CursorPagination

KIND_CHOICES = [(kind, kind) for kind in MODERATED_KINDS]
NO_SUCH_ITEM = "No such item in a queue you moderate."
EXCERPT_LENGTH = 200


# -- naming the work ---------------------------------------------------------------------------


def work_for_user(user, kind: str, target: str) -> Any:
    """The piece of work a member names in a flag, if they can see it (else a 404)."""
    if kind == "source":
        return selectors.source_for_user(user, target)
    if kind == "annotation":
        return selectors.annotation_for_user(user, target)
    if kind == "challenge":
        return selectors.challenge_for_user(user, target)
    try:
        return selectors.visible_posts(user).select_related("thread__course").get(pk=int(target))
    except (ValueError, TypeError, Post.DoesNotExist):
        raise Http404("No such post.") from None


def target_name(item: ModerationItem) -> str:
    """How the API names an item's work: the source's key, else the work's id."""
    return item.source.key if item.kind == "source" else str(item.target_id)


# -- flags -----------------------------------------------------------------------------------


class FlagFilter(django_filters.FilterSet):
    course = IdFilter(field_name="item__course_id", lookup_expr="exact")
    reason = django_filters.ChoiceFilter(field_name="reason", lookup_expr="exact", choices=FlagReason.choices)
    status = django_filters.ChoiceFilter(field_name="status", lookup_expr="exact", choices=FlagStatus.choices)
    kind = django_filters.ChoiceFilter(field_name="item__kind", lookup_expr="exact", choices=KIND_CHOICES)

    class Meta:
        model = Flag
        fields: list[str] = []


class FlagSerializer(serializers.ModelSerializer):
    """The read shape of a flag."""

    course = serializers.IntegerField(source="item.course_id", read_only=True)
    kind = serializers.CharField(source="item.kind", read_only=True)
    target = serializers.SerializerMethodField(help_text="The work's id; a source's key.")
    flagger = serializers.CharField(source="flagger.username", read_only=True)
    # A plain string here: the choice set is named once, by ``FlagCreate.reason``.
    reason = serializers.CharField(
        read_only=True, help_text="off_topic, inappropriate, spam, harassment or other."
    )

    class Meta:
        model = Flag
        fields = [
            "id",
            "course",
            "kind",
            "target",
            "flagger",
            "reason",
            "text",
            "status",
            "created_at",
            "closed_at",
        ]
        list_serializer_class = LeanListSerializer

    def represent_rows(self, rows: Iterable[Flag]) -> list[dict]:
        """What the fields give for each row (see ``LeanListSerializer``)."""
        return [self.represent(flag) for flag in rows]

    @staticmethod
    def represent(flag: Flag) -> dict:
        """What the fields give for ``flag``, without their machinery."""
        item = flag.item
        return {
            "id": flag.id,
            "course": item.course_id,
            "kind": item.kind,
            "target": target_name(item),
            "flagger": flag.flagger.username,
            "reason": flag.reason,
            "text": flag.text,
            "status": flag.status,
            "created_at": iso_datetime(flag.created_at),
            "closed_at": iso_datetime(flag.closed_at),
        }

    def get_target(self, flag: Flag) -> str:
        return target_name(flag.item)


class FlagCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    target = serializers.CharField(max_length=100, help_text="The work's id; for a source, its key.")
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    text = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="Required for “other”."
    )


@extend_schema_view(
    list=extend_schema(summary="Flags you raised, and those of the courses you moderate"),
    retrieve=extend_schema(summary="One flag you raised or may moderate"),
    create=extend_schema(
        summary="Flag a piece of work of your course that you can see",
        request=FlagCreateSerializer,
        responses={201: FlagSerializer},
    ),
)
class FlagViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = FlagSerializer
    filterset_class = FlagFilter
    pagination_class = CursorPagination
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[Flag]:
        return selectors.flags_for_user(self.request.user)

    def page_rows(self, ids: QuerySet) -> QuerySet[Flag]:
        """A page in full from its flags' ids (``CursorPagination._rows``): the newest first
        are cut from the flags a reader may see (a course's several hundred) without joining
        each to its flagger and source; only the page's 50 are (ids read first, as for the
        review queue)."""
        return selectors.flag_rows([row["pk"] for row in ids])

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = FlagCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        work = work_for_user(request.user, data["kind"], data["target"].strip())
        flag = services.flag_create(user=request.user, target=work, reason=data["reason"], text=data["text"])
        return Response(
            self.get_serializer(selectors.flags_for_user(request.user).get(pk=flag.pk)).data,
            status=status.HTTP_201_CREATED,
        )


# -- the review queue ------------------------------------------------------------------------


class QueueFilter(django_filters.FilterSet):
    course = IdFilter(field_name="course_id", lookup_expr="exact")
    status = django_filters.ChoiceFilter(field_name="status", lookup_expr="exact", choices=ItemStatus.choices)
    kind = django_filters.ChoiceFilter(field_name="kind", lookup_expr="exact", choices=KIND_CHOICES)
    reason = django_filters.ChoiceFilter(
        method="filter_reason", choices=FlagReason.choices, label="Has a flag with this reason"
    )
    author = django_filters.CharFilter(field_name="author__username", lookup_expr="exact")
    opened_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = ModerationItem
        fields: list[str] = []

    def filter_reason(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Exists(Flag.objects.filter(item=OuterRef("pk"), reason=value)))


class QueueItemSerializer(serializers.ModelSerializer):
    """One item of the queue, as its moderators read it."""

    target = serializers.SerializerMethodField(help_text="The work's id; a source's key.")
    author = serializers.SerializerMethodField()
    # Plain strings in the schema: these choice sets are named once, by the fields that take them.
    state = serializers.SerializerMethodField(
        help_text="The work's moderation: published, pending or hidden."
    )
    reason = serializers.SerializerMethodField(help_text="Why it is hidden, as its author reads it.")
    excerpt = serializers.SerializerMethodField()
    kind = serializers.CharField(read_only=True, help_text="annotation, post, challenge or source.")
    flags = FlagSerializer(many=True, read_only=True)
    last_action = serializers.CharField(
        read_only=True, help_text="The last act: hide, restore, dismiss, review or approve; blank if none."
    )
    last_action_by = serializers.SerializerMethodField()

    class Meta:
        model = ModerationItem
        fields = [
            "id", "course", "kind", "target", "author", "state", "reason", "excerpt", "flag_count", "flags",
            "status", "opened_at", "last_action", "last_action_by", "last_action_at", "version",
        ]  # fmt: skip
        list_serializer_class = LeanListSerializer

    def represent_rows(self, rows: Iterable[ModerationItem]) -> list[dict]:
        """What the fields give for each row (see ``LeanListSerializer``)."""
        represented = []
        for item in rows:
            work = item.target
            represented.append(
                {
                    "id": item.id,
                    "course": item.course_id,
                    "kind": item.kind,
                    "target": target_name(item),
                    "author": self.get_author(item),
                    "state": work.moderation,
                    "reason": work.moderation_reason,
                    "excerpt": item.excerpt(EXCERPT_LENGTH),
                    "flag_count": item.flag_count,
                    "flags": [FlagSerializer.represent(flag) for flag in prefetched(item, "flags")],
                    "status": item.status,
                    "opened_at": iso_datetime(item.opened_at),
                    "last_action": item.last_action,
                    "last_action_by": self.get_last_action_by(item),
                    "last_action_at": iso_datetime(item.last_action_at),
                    "version": item.version,
                }
            )
        return represented

    def get_target(self, item: ModerationItem) -> str:
        return target_name(item)

    def get_author(self, item: ModerationItem) -> str | None:
        return item.author.get_username() if item.author else None

    def get_state(self, item: ModerationItem) -> str:
        return item.target.moderation

    def get_reason(self, item: ModerationItem) -> str:
        return item.target.moderation_reason

    def get_excerpt(self, item: ModerationItem) -> str:
        return item.excerpt(EXCERPT_LENGTH)

    def get_last_action_by(self, item: ModerationItem) -> str | None:
        return item.last_action_by.get_username() if item.last_action_by else None


class ActSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=Action.choices)
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="Required to hide."
    )
    version = serializers.IntegerField(help_text="The item's version you saw.")


class BulkItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The item's version you saw.")


class BulkActSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=Action.choices)
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="Required to hide."
    )
    items = BulkItemSerializer(many=True, allow_empty=False, max_length=500)

    def validate(self, data: dict) -> dict:
        # Said once for the whole act rather than refused item by item.
        if data["action"] == Action.HIDE and not data["reason"].strip():
            raise serializers.ValidationError({"reason": [services.NEEDS_REASON]})
        return data


class BulkOutcomeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    done = serializers.BooleanField()
    conflict = serializers.BooleanField(help_text="Not done because the item's version moved.")
    message = serializers.CharField(allow_blank=True)
    current = QueueItemSerializer(allow_null=True, help_text="The item as it is now; null if there is none.")


CONFLICT_RESPONSE = OpenApiResponse(
    response=inline_serializer(
        "ModerationConflict", {"detail": serializers.CharField(), "current": QueueItemSerializer()}
    ),
    description="The item changed since that version; `current` is its state now. Nothing was written.",
)


@extend_schema_view(
    list=extend_schema(summary="The review queue of the courses you moderate, most flagged and oldest first"),
    retrieve=extend_schema(summary="One item of a queue you moderate"),
)
class ModerationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = QueueItemSerializer
    filterset_class = QueueFilter
    pagination_class = CursorPagination
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[ModerationItem]:
        return selectors.moderation_queue(self.request.user)

    def get_object(self) -> ModerationItem:
        return selectors.moderation_item_for(self.request.user, self.kwargs["pk"])

    def page_rows(self, ids: QuerySet) -> QuerySet[ModerationItem]:
        """A page in full from its items' ids (``CursorPagination._rows``).

        The queue's order (most flagged, then oldest) is sorted on the items alone, a course's
        few hundred narrow rows; only the page's 50 are then joined to their work, people and
        flags, instead of every item of the course before the sort. The ids are read first, in
        a query of their own: with the page's eight joins, a subquery of ids is joined last by
        PostgreSQL's planner (past its ``join_collapse_limit``), after every item of the queue
        (measured at a million notes: 146 ms, against 1 ms for the ids and 3 ms for the page).
        """
        return selectors.queue_item_rows([row["pk"] for row in ids])

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        course = request.query_params.get("course")
        if course:
            # Naming a course: the same 404 as elsewhere if it is not yours, a 403 to its students.
            found = selectors.course_for_user(request.user, course)
            if not rules.can_moderate(request.user, found.pk):
                raise PermissionDenied(services.NOT_STAFF)
        return super().list(request, *args, **kwargs)

    def _fresh(self, pk: int) -> dict:
        return self.get_serializer(selectors.moderation_queue(self.request.user).get(pk=pk)).data

    @extend_schema(request=ActSerializer, responses={200: QueueItemSerializer, 409: CONFLICT_RESPONSE})
    @action(detail=True, methods=["post"])
    def act(self, request: Request, pk: str | None = None) -> Response:
        """Hide, restore, dismiss the flags, mark reviewed or approve; ``version`` is the one you saw."""
        item = self.get_object()
        incoming = ActSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            services.moderate(
                user=request.user,
                item=item,
                action=data["action"],
                reason=data["reason"],
                expected_version=data["version"],
            )
        except services.ModerationConflict as conflict:
            return Response(
                {"detail": conflict.message, "current": self._fresh(conflict.current.pk)},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(self._fresh(item.pk))

    @extend_schema(
        operation_id="moderation_act_many",
        request=BulkActSerializer,
        responses={200: BulkOutcomeSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], url_path="act")
    def act_many(self, request: Request) -> Response:
        """The same act on several items, each with the version you saw. Always a 200: each
        result says whether its item was done, and if not why, with its current state."""
        if not selectors.moderated_courses(request.user).exists():
            raise PermissionDenied(services.NOT_STAFF)
        incoming = BulkActSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        wanted = [(row["id"], row["version"]) for row in data["items"]]
        found = selectors.moderation_queue(request.user).in_bulk([pk for pk, _ in wanted])
        acts = [(found[pk], version) for pk, version in wanted if pk in found]
        outcomes = iter(
            services.moderate_many(user=request.user, acts=acts, action=data["action"], reason=data["reason"])
        )
        now = selectors.moderation_queue(request.user).in_bulk(list(found))
        results = []
        for pk, _version in wanted:
            if pk not in found:
                results.append(
                    {"id": pk, "done": False, "conflict": False, "message": NO_SUCH_ITEM, "current": None}
                )
                continue
            outcome = next(outcomes)
            results.append(
                {
                    "id": pk,
                    "done": outcome.done,
                    "conflict": outcome.message == services.CONFLICT,
                    "message": outcome.message,
                    "current": self.get_serializer(now[pk]).data,
                }
            )
        return Response(results)


# -- the moderation fields of the work's own resources -------------------------------------


class ModeratedFields(serializers.Serializer):
    """``moderation`` for everyone who sees the work; ``moderation_reason`` only for those who
    may read hidden work (its author, the course's staff), else null. Mix into a
    ModelSerializer of a ``Moderated`` model and list both fields."""

    moderation = serializers.ChoiceField(choices=ModerationState.choices, read_only=True)
    moderation_reason = serializers.SerializerMethodField(
        help_text="Why it is hidden; shown to its author and the course's staff only."
    )

    def get_moderation_reason(self, work: Any) -> str | None:
        return work.moderation_reason if self.may_read(work) else None

    def may_read(self, work: Any) -> bool:
        """Whether the asker reads this work's text (published, or theirs, or staff); without
        a request to say who asks, only published work's."""
        if work.moderation == ModerationState.PUBLISHED:
            return True
        request = self.context.get("request")
        return request is not None and rules.can_read_moderated(request.user, work)
