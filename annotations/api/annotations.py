"""Annotations and their replies under /api/v1/annotations/.

Reads go through ``selectors.annotation_list`` (the visibility rule); writes through the
services, which check who may act. Someone who cannot see an annotation gets a 404 for
it, whatever they try; someone who sees it but may not change it gets a 403.
"""

from __future__ import annotations

import django_filters
from django.db.models import BigIntegerField, QuerySet, Value
from django.db.models.functions import Cast
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import selectors
from annotations.anchoring import anchor
from annotations.api import w3c
from annotations.api.filters import IdFilter
from annotations.api.lean import LeanListSerializer, detail_urls, iso_datetime, prefetched
from annotations.api.moderation import ModeratedFields
from annotations.api.threads import HelpfulSerializer
from annotations.models import Annotation, AnnotationReply, Claim, Paragraph
from annotations.models.annotation import Motivation, Visibility
from annotations.search import annotations_matching
from annotations.selectors import shown_author
from annotations.services import annotations as services
from annotations.services.threads import reaction_toggle
from scoproject.pagination import CursorPagination

# Every order ends with the primary key, so that the list can be keyset-paginated.
ORDERINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "newest": ("Newest first", ("-created_at", "-pk")),
    "oldest": ("Oldest first", ("created_at", "pk")),
    "reading": ("Reading order", ("paragraph_anchor", "start", "created_at", "pk")),
}


class AnnotationFilter(django_filters.FilterSet):
    course = IdFilter(field_name="course_id", method="filter_course")
    group = IdFilter(field_name="group_id", lookup_expr="exact")
    paragraph = django_filters.CharFilter(
        field_name="paragraph_anchor", lookup_expr="exact", label="Paragraph anchor"
    )
    claim = django_filters.CharFilter(field_name="claim__key", lookup_expr="exact", label="Claim key")
    author = django_filters.CharFilter(method="filter_author", label="Author's username")
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    motivation = django_filters.ChoiceFilter(
        field_name="motivation", lookup_expr="exact", choices=Motivation.choices
    )
    visibility = django_filters.ChoiceFilter(
        field_name="visibility", lookup_expr="exact", choices=Visibility.choices
    )
    q = django_filters.CharFilter(
        method="filter_text",
        label="Text in the note or the quote",
        help_text="Full-text search (best match first) on PostgreSQL; every word, ignoring case, on SQLite.",
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    # Declared after ``q``: an explicit order wins over the search's ranking.
    ordering = django_filters.ChoiceFilter(
        method="filter_ordering",
        choices=[(name, label) for name, (label, _keys) in ORDERINGS.items()],
        label="Order",
        help_text="Newest first unless searching (best match first) or asked otherwise.",
    )

    class Meta:
        model = Annotation
        fields: list[str] = []

    def filter_course(self, queryset: QuerySet[Annotation], name: str, value: int) -> QuerySet[Annotation]:
        # Typed as the column (bigint), not as a plain integer literal: only then can the
        # search's GIN index, keyed by course and words (btree_gin), use the course.
        return queryset.filter(course_id=Cast(Value(value), BigIntegerField()))

    def filter_author(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.authored_by(self.request.user, queryset, value.strip())

    def filter_tag(self, queryset: QuerySet[Annotation], name: str, value: str) -> QuerySet[Annotation]:
        return queryset.filter(tags__name=value.strip().lower().lstrip("#"))

    def filter_text(self, queryset: QuerySet[Annotation], name: str, value: str) -> QuerySet[Annotation]:
        return annotations_matching(queryset, value, rank=True)

    def filter_ordering(self, queryset: QuerySet[Annotation], name: str, value: str) -> QuerySet[Annotation]:
        return queryset.order_by(*ORDERINGS[value][1])


class ReplySerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    body = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    edited = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = AnnotationReply
        fields = ["id", "author", "body", "body_html", "created_at", "edited", "edited_at", "deleted"]

    @staticmethod
    def represent(reply: AnnotationReply) -> dict:
        """What the fields give for ``reply``, without their machinery (see ``LeanListSerializer``)."""
        deleted = reply.deleted_at is not None
        return {
            "id": reply.id,
            "author": reply.author.username,
            "body": "" if deleted else reply.body,
            "body_html": "" if deleted else reply.body_html,
            "created_at": iso_datetime(reply.created_at),
            "edited": reply.edited_at is not None,
            "edited_at": iso_datetime(reply.edited_at),
            "deleted": deleted,
        }

    def get_body(self, reply: AnnotationReply) -> str:
        return "" if reply.deleted_at else reply.body

    def get_body_html(self, reply: AnnotationReply) -> str:
        return "" if reply.deleted_at else reply.body_html

    def get_edited(self, reply: AnnotationReply) -> bool:
        return reply.edited_at is not None

    def get_deleted(self, reply: AnnotationReply) -> bool:
        return reply.deleted_at is not None


class TargetSerializer(serializers.Serializer):
    exact = serializers.CharField()
    prefix = serializers.CharField(allow_blank=True)
    suffix = serializers.CharField(allow_blank=True)
    start = serializers.IntegerField()
    end = serializers.IntegerField()


class AnchorSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["anchored", "reanchored", "orphaned"])
    start = serializers.IntegerField()
    end = serializers.IntegerField()


class AnnotationSerializer(ModeratedFields, serializers.ModelSerializer):
    """The read shape; work hidden from the asker keeps its place with no text."""

    url = serializers.HyperlinkedIdentityField(view_name="api:annotation-detail")
    author = serializers.SerializerMethodField(
        help_text="The author's username; null for a classmate's work made for an anonymous assignment."
    )
    group = serializers.SerializerMethodField()
    document = serializers.CharField(source="document.slug", read_only=True)
    paragraph = serializers.CharField(source="paragraph_anchor", read_only=True)
    claim = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)
    target = serializers.SerializerMethodField()
    anchor = serializers.SerializerMethodField()
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    body = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    edited = serializers.SerializerMethodField()
    replies = ReplySerializer(many=True, read_only=True)
    helpful_count = serializers.IntegerField(read_only=True, help_text="How many members marked it helpful.")

    class Meta:
        model = Annotation
        fields = [
            "id", "url", "course", "group", "author", "document", "paragraph", "claim", "target", "anchor",
            "motivation", "tags", "body", "body_html", "visibility", "created_at", "updated_at", "edited",
            "edited_at", "replies", "helpful_count", "moderation", "moderation_reason",
        ]  # fmt: skip
        list_serializer_class = LeanListSerializer

    def represent_rows(self, rows: list[Annotation]) -> list[dict]:
        """What the fields give for each row (see ``LeanListSerializer``)."""
        user = self.context["request"].user
        url = detail_urls(self.context, "api:annotation-detail")
        represented = []
        for annotation in rows:
            shown = self.may_read(annotation)
            represented.append(
                {
                    "id": annotation.id,
                    "url": url(annotation.pk),
                    "course": annotation.course_id,
                    "group": annotation.group.name if annotation.group else None,
                    "author": shown_author(user, annotation),
                    "document": annotation.document.slug,
                    "paragraph": annotation.paragraph_anchor,
                    "claim": annotation.claim.key if annotation.claim_id is not None else None,
                    "target": self.get_target(annotation),
                    "anchor": self.get_anchor(annotation),
                    "motivation": annotation.motivation,
                    "tags": [tag.name for tag in prefetched(annotation, "tags")],
                    "body": annotation.body if shown else "",
                    "body_html": annotation.body_html if shown else "",
                    "visibility": annotation.visibility,
                    "created_at": iso_datetime(annotation.created_at),
                    "updated_at": iso_datetime(annotation.updated_at),
                    "edited": annotation.edited_at is not None,
                    "edited_at": iso_datetime(annotation.edited_at),
                    "replies": [
                        ReplySerializer.represent(reply) for reply in prefetched(annotation, "replies")
                    ],
                    "helpful_count": annotation.helpful_count,
                    "moderation": annotation.moderation,
                    "moderation_reason": annotation.moderation_reason if shown else None,
                }
            )
        return represented

    def get_author(self, annotation: Annotation) -> str | None:
        return shown_author(self.context["request"].user, annotation)

    def get_body(self, annotation: Annotation) -> str:
        return annotation.body if self.may_read(annotation) else ""

    def get_body_html(self, annotation: Annotation) -> str:
        return annotation.body_html if self.may_read(annotation) else ""

    def get_group(self, annotation: Annotation) -> str | None:
        return annotation.group.name if annotation.group else None

    @extend_schema(responses=TargetSerializer)
    def get_target(self, annotation: Annotation) -> dict:
        shown = self.may_read(annotation)
        return {
            "exact": annotation.exact if shown else "",
            "prefix": annotation.prefix,
            "suffix": annotation.suffix,
            "start": annotation.start,
            "end": annotation.end,
        }

    @extend_schema(responses=AnchorSerializer)
    def get_anchor(self, annotation: Annotation) -> dict:
        """Where the quote is in the paragraph today."""
        found = anchor(
            annotation.paragraph.text if annotation.paragraph else None,
            exact=annotation.exact,
            prefix=annotation.prefix,
            suffix=annotation.suffix,
            start=annotation.start,
            end=annotation.end,
        )
        return {"status": found.status, "start": found.start, "end": found.end}

    def get_edited(self, annotation: Annotation) -> bool:
        return annotation.edited_at is not None


class AnnotationCreateSerializer(serializers.Serializer):
    """The write shape for a new annotation: where it is, what it says, who sees it."""

    course = serializers.IntegerField()
    paragraph = serializers.CharField(help_text="The paragraph's anchor, e.g. p-5.")
    exact = serializers.CharField(
        required=False, trim_whitespace=False, help_text="The quoted text (TextQuoteSelector)."
    )
    prefix = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    suffix = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    start = serializers.IntegerField(required=False, help_text="TextPositionSelector start.")
    end = serializers.IntegerField(required=False, help_text="TextPositionSelector end.")
    claim = serializers.CharField(
        required=False, allow_null=True, help_text="The key of the claim the span falls in."
    )
    motivation = serializers.ChoiceField(choices=Motivation.choices, default=Motivation.COMMENTING)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=10)
    body = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20000, trim_whitespace=False
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)


class AnnotationUpdateSerializer(serializers.Serializer):
    motivation = serializers.ChoiceField(choices=Motivation.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=10)
    body = serializers.CharField(required=False, allow_blank=True, max_length=20000, trim_whitespace=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class ReplyWriteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000, trim_whitespace=False)


@extend_schema_view(
    list=extend_schema(summary="Annotations you may see, filtered"),
    retrieve=extend_schema(
        summary="One annotation; as W3C Web Annotation JSON-LD when asked with Accept: application/ld+json",
        responses=w3c.jsonld_retrieve_responses(AnnotationSerializer),
    ),
    create=extend_schema(request=AnnotationCreateSerializer, responses={201: AnnotationSerializer}),
    partial_update=extend_schema(request=AnnotationUpdateSerializer, responses=AnnotationSerializer),
    destroy=extend_schema(summary="Delete your annotation (it stays as a tombstone for its replies)"),
)
class AnnotationViewSet(
    w3c.JSONLDOnRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AnnotationSerializer
    filterset_class = AnnotationFilter
    pagination_class = CursorPagination
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Annotation]:
        annotations = selectors.annotation_list(self.request.user)
        if self.action == "list":
            annotations = selectors.as_lists(
                selectors.lean_joins(annotations, ["author", "paragraph", "claim"], ["group", "document"])
            )
        else:
            annotations = annotations.select_related("document")
        return annotations.order_by(*ORDERINGS["newest"][1])

    def page_rows(self, ids: QuerySet) -> QuerySet[Annotation] | None:
        """A search's page in full, from its annotations' ids (``CursorPagination._rows``);
        ``None`` (the page as it is) for a list that is not a search.

        Best match first is an order no index serves: the database ranks and sorts every
        visible match in the course to cut a page, a thousand rows for a common word. The
        ids come from the visible and filtered matches, so that sort reads narrow rows; the
        joins, the helpful count and the rank the cursor carries are then computed for the
        page's annotations alone (their rank is the same, from the same vector and query).
        """
        text = self.request.query_params.get("q", "").strip()
        if not text:
            return None
        return annotations_matching(selectors.annotation_rows(ids), text, rank=True)

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        annotation = self.get_object()
        if isinstance(request.accepted_renderer, w3c.JSONLDRenderer):
            return Response(w3c.annotation_jsonld(annotation, request))
        return Response(self.get_serializer(annotation).data)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = AnnotationCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        course = selectors.course_for_user(request.user, data["course"])
        paragraph = Paragraph.objects.filter(document_id=course.reading_id, anchor=data["paragraph"]).first()
        if paragraph is None:
            raise serializers.ValidationError(
                {"paragraph": [f"The course's reading has no paragraph {data['paragraph']!r}."]}
            )
        claim = None
        if data.get("claim"):
            claim = Claim.objects.filter(key=data["claim"]).first()
            if claim is None:
                raise serializers.ValidationError({"claim": [f"There is no claim {data['claim']!r}."]})
        annotation = services.annotation_create(
            user=request.user,
            course=course,
            paragraph=paragraph,
            exact=data.get("exact"),
            start=data.get("start"),
            end=data.get("end"),
            prefix=data.get("prefix"),
            suffix=data.get("suffix"),
            claim=claim,
            motivation=data["motivation"],
            tags=data.get("tags"),
            body=data["body"],
            visibility=data["visibility"],
        )
        output = self.get_serializer(self.get_queryset().get(pk=annotation.pk))
        return Response(output.data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        annotation = self.get_object()
        incoming = AnnotationUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.annotation_update(user=request.user, annotation=annotation, **incoming.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=annotation.pk)).data)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.annotation_delete(user=request.user, annotation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=HelpfulSerializer)
    @action(detail=True, methods=["post"])
    def helpful(self, request: Request, pk: str | None = None) -> Response:
        """Mark the annotation helpful, or take your mark back (once per user)."""
        annotation = self.get_object()
        marked = reaction_toggle(user=request.user, annotation=annotation)
        return Response({"helpful": marked, "helpful_count": annotation.reactions.count()})

    @extend_schema(request=ReplyWriteSerializer, responses={201: ReplySerializer})
    @action(detail=True, methods=["post"])
    def replies(self, request: Request, pk: str | None = None) -> Response:
        """Reply to an annotation you can see."""
        annotation = self.get_object()
        incoming = ReplyWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        reply = services.reply_create(
            user=request.user, annotation=annotation, body=incoming.validated_data["body"]
        )
        return Response(ReplySerializer(reply).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReplyWriteSerializer, responses={200: ReplySerializer, 204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"replies/(?P<reply_pk>\d+)")
    def reply(self, request: Request, pk: str | None = None, reply_pk: str | None = None) -> Response:
        """Edit or delete your reply (a deleted reply stays as a tombstone in the thread)."""
        annotation = self.get_object()
        reply = annotation.replies.filter(pk=reply_pk).first()
        if reply is None:
            raise Http404("No such reply.")
        if request.method == "DELETE":
            services.reply_delete(user=request.user, reply=reply)
            return Response(status=status.HTTP_204_NO_CONTENT)
        incoming = ReplyWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        reply = services.reply_update(user=request.user, reply=reply, body=incoming.validated_data["body"])
        return Response(ReplySerializer(reply).data)
