"""Discussion threads and their posts under /api/v1/threads/ and /api/v1/posts/.

Reads go through ``selectors.thread_list`` and ``selectors.post_list`` (the visibility
rule); writes through ``services.threads``. A thread or post the user cannot see is a 404;
an act they may not do on one they see is a 403.
"""

from __future__ import annotations

import django_filters
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import selectors
from annotations.api.filters import IdFilter
from annotations.api.lean import LeanListSerializer, iso_datetime, prefetched
from annotations.api.moderation import ModeratedFields
from annotations.models import Annotation, Challenge, Claim, CourseGroup, Post, Thread, ThreadVisit
from annotations.services import threads as services
from scoproject.pagination import CursorPagination
from timeline.models import Event


class ThreadFilter(django_filters.FilterSet):
    course = IdFilter(field_name="course_id", lookup_expr="exact")
    group = IdFilter(field_name="group_id", lookup_expr="exact")
    claim = django_filters.CharFilter(field_name="claim__key", lookup_expr="exact", label="Claim key")
    event = IdFilter(field_name="event_id", lookup_expr="exact")
    annotation = IdFilter(field_name="annotation_id", lookup_expr="exact")
    challenge = IdFilter(field_name="challenge_id", lookup_expr="exact")
    author = django_filters.CharFilter(field_name="author__username", lookup_expr="exact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    unread = django_filters.BooleanFilter(method="filter_unread", label="With posts you have not read")

    class Meta:
        model = Thread
        fields: list[str] = []

    def filter_unread(self, queryset: QuerySet[Thread], name: str, value: bool | None) -> QuerySet[Thread]:
        if value is None:
            return queryset
        last_read = ThreadVisit.objects.filter(user=self.request.user, thread=OuterRef("pk")).values(
            "last_read_at"
        )[:1]
        queryset = queryset.annotate(last_read=Subquery(last_read))
        # New posts the user may read, not the thread's last post: a post hidden or waiting
        # for approval since the last visit must not make the thread look unread.
        news = Post.objects.filter(
            selectors.readable_posts_q(self.request.user), thread=OuterRef("pk")
        ).exclude(author=self.request.user)
        unread = Q(last_read__isnull=True, has_posts=True) | Q(has_news=True)
        queryset = queryset.annotate(
            has_posts=Exists(news), has_news=Exists(news.filter(created_at__gt=OuterRef("last_read")))
        )
        return queryset.filter(unread) if value else queryset.exclude(unread)


class PostFilter(django_filters.FilterSet):
    thread = IdFilter(field_name="thread_id", lookup_expr="exact")
    course = IdFilter(field_name="thread__course_id", lookup_expr="exact")
    author = django_filters.CharFilter(field_name="author__username", lookup_expr="exact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    unread = django_filters.BooleanFilter(
        method="filter_unread", label="Posted since you last read the thread"
    )

    class Meta:
        model = Post
        fields: list[str] = []

    def filter_unread(self, queryset: QuerySet[Post], name: str, value: bool | None) -> QuerySet[Post]:
        if value is None:
            return queryset
        last_read = ThreadVisit.objects.filter(user=self.request.user, thread=OuterRef("thread_id")).values(
            "last_read_at"
        )[:1]
        queryset = queryset.annotate(last_read=Subquery(last_read))
        unread = ~Q(author=self.request.user) & (Q(last_read__isnull=True) | Q(created_at__gt=F("last_read")))
        return queryset.filter(unread) if value else queryset.exclude(unread)


class ThreadSerializer(serializers.ModelSerializer):
    """The read shape."""

    author = serializers.CharField(source="author.username", read_only=True)
    claim = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)
    post_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Thread
        fields = [
            "id", "course", "group", "author", "title", "claim", "event", "annotation", "challenge",
            "pinned", "locked", "created_at", "last_post_at", "post_count",
        ]  # fmt: skip
        list_serializer_class = LeanListSerializer

    def represent_rows(self, rows: list[Thread]) -> list[dict]:
        """What the fields give for each row (see ``LeanListSerializer``)."""
        return [
            {
                "id": thread.id,
                "course": thread.course_id,
                "group": thread.group_id,
                "author": thread.author.username,
                "title": thread.title,
                "claim": thread.claim.key if thread.claim_id is not None else None,
                "event": thread.event_id,
                "annotation": thread.annotation_id,
                "challenge": thread.challenge_id,
                "pinned": thread.pinned,
                "locked": thread.locked,
                "created_at": iso_datetime(thread.created_at),
                "last_post_at": iso_datetime(thread.last_post_at),
                "post_count": thread.post_count,
            }
            for thread in rows
        ]


class ThreadCreateSerializer(serializers.Serializer):
    course = serializers.IntegerField()
    group = serializers.IntegerField(required=False, allow_null=True)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000, trim_whitespace=False, help_text="The first post.")
    claim = serializers.CharField(required=False, allow_null=True, help_text="A claim's key.")
    event = serializers.IntegerField(required=False, allow_null=True)
    annotation = serializers.IntegerField(required=False, allow_null=True)
    challenge = serializers.IntegerField(required=False, allow_null=True)


class ThreadModerateSerializer(serializers.Serializer):
    pinned = serializers.BooleanField(required=False)
    locked = serializers.BooleanField(required=False)
    group = serializers.IntegerField(
        required=False, allow_null=True, help_text="Move; null: the whole course."
    )


class PostSerializer(ModeratedFields, serializers.ModelSerializer):
    """The read shape; a deleted post, or one hidden from the asker, keeps its place with no text."""

    author = serializers.CharField(source="author.username", read_only=True)
    body = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    mentions = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    helpful_count = serializers.IntegerField(read_only=True)
    edited = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = [
            "id", "thread", "parent", "author", "body", "body_html", "mentions", "helpful_count",
            "created_at", "edited", "edited_at", "deleted", "moderation", "moderation_reason",
        ]  # fmt: skip
        list_serializer_class = LeanListSerializer

    def represent_rows(self, rows: list[Post]) -> list[dict]:
        """What the fields give for each row (see ``LeanListSerializer``)."""
        represented = []
        for post in rows:
            shown = self.may_read(post)
            readable = shown and not post.deleted_at
            represented.append(
                {
                    "id": post.id,
                    "thread": post.thread_id,
                    "parent": post.parent_id,
                    "author": post.author.username,
                    "body": post.body if readable else "",
                    "body_html": post.body_html if readable else "",
                    "mentions": [user.username for user in prefetched(post, "mentions")],
                    "helpful_count": post.helpful_count,
                    "created_at": iso_datetime(post.created_at),
                    "edited": post.edited_at is not None,
                    "edited_at": iso_datetime(post.edited_at),
                    "deleted": post.deleted_at is not None,
                    "moderation": post.moderation,
                    "moderation_reason": post.moderation_reason if shown else None,
                }
            )
        return represented

    def get_body(self, post: Post) -> str:
        return "" if post.deleted_at or not self.may_read(post) else post.body

    def get_body_html(self, post: Post) -> str:
        return "" if post.deleted_at or not self.may_read(post) else post.body_html

    def get_edited(self, post: Post) -> bool:
        return post.edited_at is not None

    def get_deleted(self, post: Post) -> bool:
        return post.deleted_at is not None


class PostCreateSerializer(serializers.Serializer):
    thread = serializers.IntegerField()
    parent = serializers.IntegerField(required=False, allow_null=True)
    body = serializers.CharField(max_length=20000, trim_whitespace=False)


class PostUpdateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000, trim_whitespace=False)


class HelpfulSerializer(serializers.Serializer):
    helpful = serializers.BooleanField(help_text="Whether you now mark it helpful.")
    helpful_count = serializers.IntegerField()


def _one(model, field: str, value, **lookup):
    if value in (None, ""):
        return None
    found = model.objects.filter(**lookup).first()
    if found is None:
        raise serializers.ValidationError({field: [f"There is no {field} {value!r}."]})
    return found


@extend_schema_view(
    list=extend_schema(summary="Threads you may see, filtered"),
    create=extend_schema(request=ThreadCreateSerializer, responses={201: ThreadSerializer}),
    partial_update=extend_schema(
        summary="Pin, lock or move a thread (the course's TAs and instructors)",
        request=ThreadModerateSerializer,
        responses=ThreadSerializer,
    ),
)
class ThreadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ThreadSerializer
    filterset_class = ThreadFilter
    pagination_class = CursorPagination
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Thread]:
        # Latest activity first, as the pages show; a thread without posts counts from its
        # creation, so that every key of the keyset order has a value.
        activity = Coalesce("last_post_at", "created_at")
        threads = selectors.thread_list(self.request.user).annotate(activity=activity)
        # A row names its author and claim; the rest it gives as ids.
        threads = selectors.lean_joins(threads, ["author", "claim"])
        return threads.order_by("-pinned", "-activity", "-pk")

    def page_rows(self, ids: QuerySet) -> QuerySet[Thread]:
        """One page of the list in full, from its threads' ids (``CursorPagination._rows``).

        The latest activity first is an order no index serves: the database sorts every
        visible thread of the course to cut a page. The ids come from the visible and
        filtered threads, so that sort reads the threads alone; their authors and claims
        (joined, a whole user table hashed for a few hundred threads) and the post counts
        are then read for the page's threads alone.
        """
        activity = Coalesce("last_post_at", "created_at")
        return selectors.thread_rows(self.request.user, ids).annotate(activity=activity)

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        thread = self.get_object()
        services.thread_mark_read(user=request.user, thread=thread)
        return Response(self.get_serializer(thread).data)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = ThreadCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        course = selectors.course_for_user(request.user, data["course"])
        group = _one(CourseGroup, "group", data.get("group"), pk=data.get("group"), course=course)
        thread = services.thread_create(
            user=request.user,
            course=course,
            title=data["title"],
            body=data["body"],
            group=group,
            claim=_one(Claim, "claim", data.get("claim"), key=data.get("claim")),
            event=_one(Event, "event", data.get("event"), pk=data.get("event")),
            annotation=_one(Annotation, "annotation", data.get("annotation"), pk=data.get("annotation")),
            challenge=_one(Challenge, "challenge", data.get("challenge"), pk=data.get("challenge")),
        )
        output = self.get_serializer(self.get_queryset().get(pk=thread.pk))
        return Response(output.data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        thread = self.get_object()
        incoming = ThreadModerateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        with transaction.atomic():  # pin, lock and move together, or not at all
            if "pinned" in data:
                services.thread_pin(user=request.user, thread=thread, pinned=data["pinned"])
            if "locked" in data:
                services.thread_lock(user=request.user, thread=thread, locked=data["locked"])
            if "group" in data:
                group = _one(
                    CourseGroup, "group", data["group"], pk=data["group"], course_id=thread.course_id
                )
                services.thread_move(user=request.user, thread=thread, group=group)
        return Response(self.get_serializer(self.get_queryset().get(pk=thread.pk)).data)


@extend_schema_view(
    list=extend_schema(summary="Posts of the threads you may see, filtered"),
    create=extend_schema(request=PostCreateSerializer, responses={201: PostSerializer}),
    partial_update=extend_schema(request=PostUpdateSerializer, responses=PostSerializer),
    destroy=extend_schema(summary="Delete your post (it stays as a tombstone for its replies)"),
)
class PostViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PostSerializer
    filterset_class = PostFilter
    pagination_class = CursorPagination
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Post]:
        # The thread: whether a hidden post's text may be read depends on its course.
        return selectors.post_list(self.request.user).select_related("thread").prefetch_related("mentions")

    def page_rows(self, ids: QuerySet) -> QuerySet[Post]:
        """One page of the list in full, from its posts' ids (``CursorPagination._rows``).

        A course's posts are ordered by time across its threads, which no index serves: the
        database sorts every visible post of the course to cut a page. The ids come from the
        visible and filtered posts, so that sort reads narrow rows; the author, the thread and
        the helpful count are then read for the page's posts alone.
        """
        return selectors.post_rows(ids)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = PostCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        thread = selectors.thread_for_user(request.user, data["thread"])
        parent = _one(Post, "parent", data.get("parent"), pk=data.get("parent"), thread=thread)
        post = services.post_create(user=request.user, thread=thread, body=data["body"], parent=parent)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=post.pk)).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        post = self.get_object()
        incoming = PostUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.post_edit(user=request.user, post=post, body=incoming.validated_data["body"])
        return Response(self.get_serializer(self.get_queryset().get(pk=post.pk)).data)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.post_delete(user=request.user, post=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=HelpfulSerializer)
    @action(detail=True, methods=["post"])
    def helpful(self, request: Request, pk: str | None = None) -> Response:
        """Mark the post helpful, or take your mark back (once per user)."""
        post = self.get_object()
        marked = services.reaction_toggle(user=request.user, post=post)
        return Response({"helpful": marked, "helpful_count": post.reactions.count()})
