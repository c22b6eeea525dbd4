"""Challenges under /api/v1/challenges/.

Reads go through ``selectors.challenge_list`` (the annotations' visibility rule); writes
through ``services.challenges``. Someone who cannot see a challenge gets a 404 for it;
someone who sees it but may not act gets a 403. Resolving or reopening carries the
``version`` the client saw: a stale one is a 409 with the challenge as it is now.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.http.request import split_domain_port
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import selectors
from annotations.api import w3c
from annotations.api.filters import IdFilter
from annotations.api.lean import LeanListSerializer, detail_urls, iso_datetime, prefetched
from annotations.api.moderation import ModeratedFields
from annotations.models import Claim
from annotations.models.annotation import Visibility
from annotations.models.challenges import (
    Challenge,
    ChallengeResponse,
    ChallengeSource,
    ChallengeStatus,
    Stance,
)
from annotations.selectors import shown_author
from annotations.services import challenges as services
from scoproject.pagination import CursorPagination


class ChallengeFilter(django_filters.FilterSet):
    claim = django_filters.CharFilter(field_name="claim__key", lookup_expr="exact", label="Claim key")
    stance = django_filters.ChoiceFilter(field_name="stance", lookup_expr="exact", choices=Stance.choices)
    status = django_filters.ChoiceFilter(
        field_name="status", lookup_expr="exact", choices=ChallengeStatus.choices
    )
    course = IdFilter(field_name="course_id", lookup_expr="exact")
    group = IdFilter(field_name="group_id", lookup_expr="exact")
    author = django_filters.CharFilter(method="filter_author", label="Author's username")

    class Meta:
        model = Challenge
        fields: list[str] = []

    def filter_author(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.authored_by(self.request.user, queryset, value.strip())


class CitationSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.key", read_only=True)
    citation = serializers.CharField(source="source.citation", read_only=True)
    url = serializers.CharField(source="source.url", read_only=True)

    class Meta:
        model = ChallengeSource
        fields = ["source", "citation", "url", "page", "quote", "url_fragment"]


class ResponseSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    body = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = ChallengeResponse
        fields = ["id", "author", "body", "body_html", "created_at", "edited_at", "deleted"]

    def get_body(self, response: ChallengeResponse) -> str:
        return "" if response.deleted_at else response.body

    def get_body_html(self, response: ChallengeResponse) -> str:
        return "" if response.deleted_at else response.body_html

    def get_deleted(self, response: ChallengeResponse) -> bool:
        return response.deleted_at is not None

    @staticmethod
    def represent(response: ChallengeResponse) -> dict:
        """What the fields give for ``response``, without their machinery (see ``LeanListSerializer``)."""
        deleted = response.deleted_at is not None
        # ``author_name``: the list's responses name their author without the user row.
        author = response.__dict__.get("author_name") or response.author.username
        return {
            "id": response.id,
            "author": author,
            "body": "" if deleted else response.body,
            "body_html": "" if deleted else response.body_html,
            "created_at": iso_datetime(response.created_at),
            "edited_at": iso_datetime(response.edited_at),
            "deleted": deleted,
        }


class ChallengeSerializer(ModeratedFields, serializers.ModelSerializer):
    """The read shape; work hidden from the asker keeps its place with no text."""

    url = serializers.HyperlinkedIdentityField(view_name="api:challenge-detail")
    author = serializers.SerializerMethodField(
        help_text="The author's username; null for a classmate's work made for an anonymous assignment."
    )
    group = serializers.SerializerMethodField()
    claim = serializers.SlugRelatedField(slug_field="key", read_only=True)
    resolved_by = serializers.SerializerMethodField()
    argument = serializers.SerializerMethodField()
    argument_html = serializers.SerializerMethodField()
    citations = serializers.SerializerMethodField()
    responses = ResponseSerializer(many=True, read_only=True)

    class Meta:
        model = Challenge
        fields = [
            "id", "url", "course", "group", "author", "claim", "stance", "argument", "argument_html",
            "visibility", "citations", "status", "feedback", "feedback_html", "resolved_by", "resolved_at",
            "version", "created_at", "updated_at", "edited_at", "responses", "moderation", "moderation_reason",
        ]  # fmt: skip
        list_serializer_class = LeanListSerializer

    def represent_rows(self, rows: list[Challenge]) -> list[dict]:
        """What the fields give for each row (see ``LeanListSerializer``)."""
        user = self.context["request"].user
        url = detail_urls(self.context, "api:challenge-detail")
        represented = []
        for challenge in rows:
            shown = self.may_read(challenge)
            citations = []
            if shown:
                for citation in prefetched(challenge, "citations"):
                    source = citation.source
                    citations.append(
                        {
                            "source": source.key,
                            "citation": source.citation,
                            "url": source.url,
                            "page": citation.page,
                            "quote": citation.quote,
                            "url_fragment": citation.url_fragment,
                        }
                    )
            represented.append(
                {
                    "id": challenge.id,
                    "url": url(challenge.pk),
                    "course": challenge.course_id,
                    "group": challenge.group.name if challenge.group else None,
                    "author": shown_author(user, challenge),
                    "claim": challenge.claim.key,
                    "stance": challenge.stance,
                    "argument": challenge.argument if shown else "",
                    "argument_html": challenge.argument_html if shown else "",
                    "visibility": challenge.visibility,
                    "citations": citations,
                    "status": challenge.status,
                    "feedback": challenge.feedback,
                    "feedback_html": challenge.feedback_html,
                    "resolved_by": self.get_resolved_by(challenge),
                    "resolved_at": iso_datetime(challenge.resolved_at),
                    "version": challenge.version,
                    "created_at": iso_datetime(challenge.created_at),
                    "updated_at": iso_datetime(challenge.updated_at),
                    "edited_at": iso_datetime(challenge.edited_at),
                    "responses": [
                        ResponseSerializer.represent(r) for r in prefetched(challenge, "responses")
                    ],
                    "moderation": challenge.moderation,
                    "moderation_reason": challenge.moderation_reason if shown else None,
                }
            )
        return represented

    def get_author(self, challenge: Challenge) -> str | None:
        return shown_author(self.context["request"].user, challenge)

    def get_argument(self, challenge: Challenge) -> str:
        return challenge.argument if self.may_read(challenge) else ""

    def get_argument_html(self, challenge: Challenge) -> str:
        return challenge.argument_html if self.may_read(challenge) else ""

    @extend_schema_field(CitationSerializer(many=True))
    def get_citations(self, challenge: Challenge) -> list:
        if not self.may_read(challenge):
            return []
        # One citation serializer for the whole list: building its fields is what costs.
        if not hasattr(self, "_citation"):
            self._citation = CitationSerializer(context=self.context)
        return [self._citation.to_representation(citation) for citation in challenge.citations.all()]

    def get_group(self, challenge: Challenge) -> str | None:
        return challenge.group.name if challenge.group else None

    def get_resolved_by(self, challenge: Challenge) -> str | None:
        return challenge.resolved_by.get_username() if challenge.resolved_by else None


class CitationWriteSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="The source's key.")
    page = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    quote = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    url_fragment = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class ChallengeCreateSerializer(serializers.Serializer):
    course = serializers.IntegerField()
    claim = serializers.CharField(help_text="The claim's key.")
    stance = serializers.ChoiceField(choices=Stance.choices)
    argument = serializers.CharField(max_length=20000, trim_whitespace=False)
    citations = CitationWriteSerializer(many=True, required=False, default=list)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.COURSE)


class ChallengeUpdateSerializer(serializers.Serializer):
    stance = serializers.ChoiceField(choices=Stance.choices, required=False)
    argument = serializers.CharField(max_length=20000, trim_whitespace=False, required=False)
    citations = CitationWriteSerializer(many=True, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class ResponseWriteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000, trim_whitespace=False)


class ResolveSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in services.RESOLUTIONS])
    feedback = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    version = serializers.IntegerField(help_text="The version you saw.")


class ReopenSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version you saw.")


CONFLICT_RESPONSE = OpenApiResponse(
    response=inline_serializer(
        "ChallengeConflict", {"detail": serializers.CharField(), "current": ChallengeSerializer()}
    ),
    description="The challenge changed since that version; `current` is its state now.",
)


def _cited_sources(user: Any, course_id: int, rows: list[dict]) -> list[dict]:
    """Source keys → sources the user may cite in the course (unknown keys are a 400)."""
    keys = [row["source"] for row in rows]
    found = {s.key: s for s in selectors.visible_sources(user).filter(key__in=keys)}
    missing = [key for key in keys if key not in found]
    if missing:
        raise serializers.ValidationError({"citations": [f"There is no source {missing[0]!r}."]})
    return [{**row, "source": found[row["source"]]} for row in rows]


# -- W3C ----------------------------------------------------------------------------------


def challenge_iri(challenge: Challenge, request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("api:challenge-detail", kwargs={"pk": challenge.pk}))


PDF_FRAGMENT = "http://tools.ietf.org/rfc/rfc3778"


def source_iri(source: Any, request: HttpRequest) -> str:
    """The source's URL, else its DOI as a URL, else a ``tag:`` IRI minted by this site."""
    if source.url:
        return source.url
    if source.doi:
        return f"https://doi.org/{source.doi}"
    domain, _port = split_domain_port(request.get_host())
    return f"tag:{domain.strip('[]')},{w3c.AGENT_TAG_DATE}:source:{source.key}"


def challenge_jsonld(challenge: Challenge, request: HttpRequest) -> dict[str, Any]:
    """A challenge as a W3C Web Annotation with motivation ``assessing``: the argument as a
    Markdown ``TextualBody``, one ``SpecificResource`` body per cited source (its pinpoint as
    selectors), and the claim's quote in its paragraph as the target."""
    claim = challenge.claim
    document = claim.paragraph.document
    text = claim.paragraph.text
    bodies: list[dict[str, Any]] = [
        {
            "type": "TextualBody",
            "value": challenge.argument,
            "format": "text/markdown",
            "purpose": "assessing",
        }
    ]
    for citation in challenge.citations.all():
        source = citation.source
        body: dict[str, Any] = {
            "type": "SpecificResource",
            "source": {"id": source_iri(source, request), "type": "Text", "label": source.citation},
        }
        selectors_: list[dict[str, Any]] = []
        if citation.quote:
            selectors_.append({"type": "TextQuoteSelector", "exact": citation.quote})
        if citation.url_fragment:
            selectors_.append({"type": "FragmentSelector", "value": citation.url_fragment.lstrip("#")})
        if citation.page:
            # RFC 3778's fragment names a page of a PDF; other pages read the same way.
            selectors_.append(
                {"type": "FragmentSelector", "value": f"page={citation.page}", "conformsTo": PDF_FRAGMENT}
            )
        if selectors_:
            body["selector"] = selectors_
        bodies.append(body)
    target = {
        "source": request.build_absolute_uri(f"{document.get_absolute_url()}#{claim.paragraph.anchor}"),
        "selector": [
            {
                "type": "TextQuoteSelector",
                "exact": claim.quote,
                "prefix": text[max(0, claim.start - 32) : claim.start],
                "suffix": text[claim.end : claim.end + 32],
            },
            {"type": "TextPositionSelector", "start": claim.start, "end": claim.end},
        ],
    }
    data = {
        "@context": w3c.ANNO_CONTEXT,
        "id": challenge_iri(challenge, request),
        "type": "Annotation",
        "motivation": "assessing",
        "created": w3c._timestamp(challenge.created_at),
        "modified": w3c._timestamp(challenge.updated_at),
    }
    if shown_author(request.user, challenge) is not None:
        data["creator"] = {
            "id": w3c.agent_iri(challenge.author, request),
            "type": "Person",
            "nickname": challenge.author.get_username(),
        }
    return {
        **data,
        "body": bodies,
        "target": [target, request.build_absolute_uri(claim.get_absolute_url())],
    }


@extend_schema_view(
    list=extend_schema(summary="Challenges you may see, filtered"),
    retrieve=extend_schema(
        summary="One challenge; as W3C Web Annotation JSON-LD when asked with Accept: application/ld+json",
        responses=w3c.jsonld_retrieve_responses(ChallengeSerializer),
    ),
    create=extend_schema(request=ChallengeCreateSerializer, responses={201: ChallengeSerializer}),
    partial_update=extend_schema(request=ChallengeUpdateSerializer, responses=ChallengeSerializer),
    destroy=extend_schema(summary="Delete your challenge (it stays as a tombstone for its thread)"),
)
class ChallengeViewSet(
    w3c.JSONLDOnRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ChallengeSerializer
    filterset_class = ChallengeFilter
    pagination_class = CursorPagination
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Challenge]:
        rows = selectors.challenge_list(self.request.user)
        if self.action == "list":
            rows = selectors.lean_joins(
                selectors.challenge_responses_named(rows), ["author", "claim"], ["group", "resolved_by"]
            )
            rows = selectors.as_lists(rows)
        else:
            # One challenge: its W3C form quotes the claim in its paragraph.
            rows = rows.select_related("claim__paragraph__document")
        return rows

    def _fresh(self, challenge: Challenge) -> dict:
        return self.get_serializer(selectors.challenge_list(self.request.user).get(pk=challenge.pk)).data

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        challenge = self.get_object()
        if isinstance(request.accepted_renderer, w3c.JSONLDRenderer):
            return Response(challenge_jsonld(challenge, request))
        return Response(self.get_serializer(challenge).data)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = ChallengeCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        course = selectors.course_for_user(request.user, data["course"])
        claim = Claim.objects.select_related("paragraph").filter(key=data["claim"]).first()
        if claim is None:
            raise serializers.ValidationError({"claim": [f"There is no claim {data['claim']!r}."]})
        challenge = services.challenge_create(
            user=request.user,
            course=course,
            claim=claim,
            stance=data["stance"],
            argument=data["argument"],
            citations=_cited_sources(request.user, course.pk, data["citations"]),
            visibility=data["visibility"],
        )
        return Response(self._fresh(challenge), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        challenge = self.get_object()
        incoming = ChallengeUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        if "citations" in data:
            data["citations"] = _cited_sources(request.user, challenge.course_id, data["citations"])
        services.challenge_update(user=request.user, challenge=challenge, **data)
        return Response(self._fresh(challenge))

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.challenge_delete(user=request.user, challenge=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ResponseWriteSerializer, responses={201: ResponseSerializer})
    @action(detail=True, methods=["post"])
    def responses(self, request: Request, pk: str | None = None) -> Response:
        """Respond in the thread of a challenge you can see."""
        challenge = self.get_object()
        incoming = ResponseWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        response = services.challenge_respond(
            user=request.user, challenge=challenge, body=incoming.validated_data["body"]
        )
        return Response(ResponseSerializer(response).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ResponseWriteSerializer, responses={200: ResponseSerializer, 204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"responses/(?P<response_pk>\d+)")
    def response(self, request: Request, pk: str | None = None, response_pk: str | None = None) -> Response:
        """Edit or delete your response (a deleted one stays as a tombstone in the thread)."""
        challenge = self.get_object()
        response = challenge.responses.filter(pk=response_pk).first()
        if response is None:
            raise Http404("No such response.")
        if request.method == "DELETE":
            services.response_delete(user=request.user, response=response)
            return Response(status=status.HTTP_204_NO_CONTENT)
        incoming = ResponseWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        response = services.response_update(
            user=request.user, response=response, body=incoming.validated_data["body"]
        )
        return Response(ResponseSerializer(response).data)

    @extend_schema(request=ResolveSerializer, responses={200: ChallengeSerializer, 409: CONFLICT_RESPONSE})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Staff resolve the challenge; ``version`` must be the one you saw."""
        challenge = self.get_object()
        incoming = ResolveSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            services.challenge_resolve(
                user=request.user,
                challenge=challenge,
                status=data["status"],
                feedback=data["feedback"],
                expected_version=data["version"],
            )
        except services.Conflict as conflict:
            return self._conflict(conflict)
        return Response(self._fresh(challenge))

    @extend_schema(request=ReopenSerializer, responses={200: ChallengeSerializer, 409: CONFLICT_RESPONSE})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        """Staff reopen a resolved challenge; ``version`` must be the one you saw."""
        challenge = self.get_object()
        incoming = ReopenSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.challenge_reopen(
                user=request.user, challenge=challenge, expected_version=incoming.validated_data["version"]
            )
        except services.Conflict as conflict:
            return self._conflict(conflict)
        return Response(self._fresh(challenge))

    def _conflict(self, conflict: services.Conflict) -> Response:
        return Response(
            {"detail": conflict.message, "current": self._fresh(conflict.current)},
            status=status.HTTP_409_CONFLICT,
        )
