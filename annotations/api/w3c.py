"""W3C Web Annotation: JSON-LD for one annotation, paged collections per course, import.

The shapes follow the Web Annotation Data Model (https://www.w3.org/TR/annotation-model/):

- an annotation: ``@context``, ``id`` (its API URL), ``type``, ``motivation``, ``created``,
  ``modified``, ``creator`` (a Person), ``body`` (the note as a Markdown ``TextualBody``
  plus one ``tagging`` body per tag; left out when there is neither) and ``target``: the
  paragraph of the reading (``…/read/<slug>/#p-<n>``) with a ``TextQuoteSelector`` and a
  ``TextPositionSelector`` whose offsets count in that paragraph's text. An annotation about
  a claim has the claim's page as a second target.
- a course's collection: an ``AnnotationCollection`` whose ``first`` and ``last`` are the
  IRIs of its ``AnnotationPage``s (``?page=N``, ``PAGE_SIZE`` annotations each, oldest first).

Only what the requesting user may see is served (``selectors.annotations_for_export``);
deleted annotations never are.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.http.request import split_domain_port
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors
from annotations.models import Annotation, Course
from annotations.models.annotation import Motivation, Visibility
from annotations.permissions import can_see_author
from annotations.services.importing import MAX_ITEMS, annotations_import

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
JSONLD_MEDIA_TYPE = f'application/ld+json; profile="{ANNO_CONTEXT}"'
PAGE_SIZE = 50
MAX_IMPORT_BYTES = 20 * 2**20
TOO_LARGE = "The import is larger than {limit} MB: split it."
# Agents get a tag: URI (RFC 4151): stable, minted by this site, and never a page that 404s.
AGENT_TAG_DATE = "2026"

# The purpose of the note's TextualBody: the motivation, except where the motivation names
# what the annotation does to the target rather than what the text says.
BODY_PURPOSE = {
    Motivation.HIGHLIGHTING: "commenting",
    Motivation.TAGGING: "commenting",
}


class JSONLDRenderer(JSONRenderer):
    """JSON-LD in the Web Annotation profile.

    The media type carries no ``profile`` parameter on purpose: DRF selects a renderer only
    when every parameter of its media type is in the Accept header, so this way both
    ``application/ld+json`` and ``application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"``
    select it. The response's Content-Type names the profile.
    """

    media_type = "application/ld+json"
    format = "jsonld"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        # An error body ({"detail": …}) is JSON-LD but no Web Annotation: no profile for it.
        if response is not None and response.status_code < 400:
            response["Content-Type"] = JSONLD_MEDIA_TYPE
        return super().render(data, accepted_media_type, renderer_context)


class ImportJSONParser(BaseParser):
    """JSON for imports, up to ``MAX_IMPORT_BYTES``.

    DRF's ``JSONParser`` holds every body to Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (2.5 MB), and a Hypothesis export of a few thousand notes is larger: this parser reads
    the body itself, with its own bound.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        raw = stream.read(MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES:
            raise ParseError(TOO_LARGE.format(limit=MAX_IMPORT_BYTES // 2**20))
        try:
            # JSON is UTF-8 (RFC 8259); files saved on Windows may start with a byte-order mark.
            return json.loads(raw.decode("utf-8-sig"), parse_constant=_no_constant)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None


class ImportJSONLDParser(ImportJSONParser):
    """W3C collections and annotations are often posted as ``application/ld+json``."""

    media_type = "application/ld+json"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _timestamp(moment: dt.datetime) -> str:
    """An xsd:dateTime in UTC, e.g. ``2027-03-01T09:30:00.000Z``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def agent_iri(user: Any, request: HttpRequest) -> str:
    """A stable IRI for a user of this site, such as ``tag:example.org,2026:user:42``."""
    domain, _port = split_domain_port(request.get_host())
    # An IPv6 literal keeps no brackets: they are not allowed in a URI's path.
    return f"tag:{domain.strip('[]')},{AGENT_TAG_DATE}:user:{user.pk}"


def paragraph_iri(annotation: Annotation, request: HttpRequest) -> str:
    """The annotated paragraph in the public reading, e.g. ``…/read/<slug>/#p-5``.

    Built from ``paragraph_anchor`` so that it survives the paragraph row.
    """
    return request.build_absolute_uri(
        f"{annotation.document.get_absolute_url()}#{annotation.paragraph_anchor}"
    )


def annotation_iri(annotation: Annotation, request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("api:annotation-detail", kwargs={"pk": annotation.pk}))


def _bodies(annotation: Annotation) -> list[dict[str, str]]:
    bodies = []
    if annotation.body.strip():
        bodies.append(
            {
                "type": "TextualBody",
                "value": annotation.body,
                "format": "text/markdown",
                "purpose": BODY_PURPOSE.get(annotation.motivation, annotation.motivation),
            }
        )
    bodies.extend(
        {"type": "TextualBody", "value": tag.name, "purpose": "tagging"} for tag in annotation.tags.all()
    )
    return bodies


def _annotation(annotation: Annotation, request: HttpRequest) -> dict[str, Any]:
    span: dict[str, Any] = {
        "source": paragraph_iri(annotation, request),
        "selector": [
            {
                "type": "TextQuoteSelector",
                "exact": annotation.exact,
                "prefix": annotation.prefix,
                "suffix": annotation.suffix,
            },
            {"type": "TextPositionSelector", "start": annotation.start, "end": annotation.end},
        ],
    }
    target: dict[str, Any] | list[Any] = span
    if annotation.claim is not None:
        target = [span, request.build_absolute_uri(annotation.claim.get_absolute_url())]
    data: dict[str, Any] = {
        "id": annotation_iri(annotation, request),
        "type": "Annotation",
        "motivation": annotation.motivation,
        "created": _timestamp(annotation.created_at),
        "modified": _timestamp(annotation.updated_at),
    }
    if can_see_author(request.user, annotation):
        data["creator"] = {
            "id": agent_iri(annotation.author, request),
            "type": "Person",
            "nickname": annotation.author.get_username(),
        }
    bodies = _bodies(annotation)
    if bodies:
        data["body"] = bodies
    data["target"] = target
    return data


# The JSON-LD form's outline in the OpenAPI schema; the W3C test schemas check the rest.
WEB_ANNOTATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A W3C Web Annotation (JSON-LD).",
    "properties": {
        "@context": {"type": "string"},
        "id": {"type": "string", "format": "uri"},
        "type": {"type": "string"},
    },
    "required": ["@context", "id", "type"],
}


def jsonld_retrieve_responses(serializer: type[serializers.Serializer]) -> dict[tuple[int, str], Any]:
    """The responses of a retrieve that ``JSONLDOnRetrieveMixin`` serves in two forms: the
    serializer's JSON, and the W3C Web Annotation for ``Accept: application/ld+json``."""
    return {(200, "application/json"): serializer, (200, JSONLDRenderer.media_type): WEB_ANNOTATION_SCHEMA}


class JSONLDOnRetrieveMixin:
    """For viewsets whose single objects also have a W3C JSON-LD form (lists do not)."""

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.action == "retrieve":
            renderers.append(JSONLDRenderer())
        return renderers

    def finalize_response(self, request, response, *args, **kwargs):
        # An error (a 404, a 401…) is not a Web Annotation: it goes out as the plain JSON it
        # is, and as the schema documents it, whatever form was asked for.
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), JSONLDRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def annotation_jsonld(annotation: Annotation, request: HttpRequest) -> dict[str, Any]:
    """One annotation as a W3C Web Annotation (JSON-LD); a deleted one (a tombstone) is never
    exported, whoever asks: ``Http404``.

    Needs ``author``, ``document``, ``claim`` and ``tags`` loaded to avoid a query each.
    """
    if annotation.deleted_at is not None:
        raise Http404("No such annotation.")
    return {"@context": ANNO_CONTEXT, **_annotation(annotation, request)}


# -- collections --------------------------------------------------------------------


def collection_iri(course: Course, request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("api:course-annotation-collection", kwargs={"pk": course.pk}))


def _page_iri(collection: str, number: int) -> str:
    return f"{collection}?page={number}"


def collection_jsonld(course: Course, total: int, request: HttpRequest) -> dict[str, Any]:
    """The collection's description: how many annotations (``total``), and its first and
    last pages."""
    collection = collection_iri(course, request)
    data: dict[str, Any] = {
        "@context": ANNO_CONTEXT,
        "id": collection,
        "type": "AnnotationCollection",
        "label": _label(course),
        "total": total,
    }
    # An empty collection has no pages, so neither first nor last (model §5.1).
    if total:
        data["first"] = _page_iri(collection, 1)
        data["last"] = _page_iri(collection, math.ceil(total / PAGE_SIZE))
    return data


def page_jsonld(course: Course, paginator: Paginator, number: int, request: HttpRequest) -> dict[str, Any]:
    """Page ``number`` of the collection; ``Http404`` with a reason when there is no such page."""
    if not paginator.num_pages:
        raise Http404("This collection is empty, so it has no pages.")
    try:
        page = paginator.page(number)
    except EmptyPage:
        raise Http404(
            f"There is no page {number}: this collection has pages 1 to {paginator.num_pages}."
        ) from None
    collection = collection_iri(course, request)
    data: dict[str, Any] = {
        "@context": ANNO_CONTEXT,
        "id": _page_iri(collection, number),
        "type": "AnnotationPage",
        "partOf": {
            "id": collection,
            "type": "AnnotationCollection",
            "label": _label(course),
            "total": paginator.count,
        },
        "startIndex": page.start_index() - 1,
        "items": [_annotation(annotation, request) for annotation in page.object_list],
    }
    if page.has_next():
        data["next"] = _page_iri(collection, page.next_page_number())
    if page.has_previous():
        data["prev"] = _page_iri(collection, page.previous_page_number())
    return data


def _label(course: Course) -> str:
    return f"Annotations in {course}"


def _page_number(raw: str) -> int:
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if number < 1:
        raise Http404(f"“{raw}” is not a page: pages are numbered 1, 2, 3…")
    return number


class _IdPaginator(Paginator):
    """Counts and pages the annotations' ids alone, then reads the one page's rows by id.

    A deep page skips its thousands of earlier rows as ids in index order, rather than as
    joined rows sorted whole; only the page's ``PAGE_SIZE`` rows are joined and read.
    """

    def __init__(self, annotations: QuerySet[Annotation], total: int) -> None:
        self.annotations = annotations
        ids = annotations.prefetch_related(None).values_list("pk", flat=True)
        super().__init__(ids, PAGE_SIZE, allow_empty_first_page=False)
        self.count = total  # counted by ``selectors.export_total``, in parts

    def page(self, number: int | str) -> Page:
        page = super().page(number)
        # One query: the page's slice of ids is a subquery of the rows' (in the same order).
        page.object_list = list(self.annotations.filter(pk__in=page.object_list))
        return page


COLLECTION_EXAMPLE = {
    "@context": ANNO_CONTEXT,
    "id": "https://example.org/api/v1/courses/3/annotations/",
    "type": "AnnotationCollection",
    "label": "Annotations in SCO Seminar (Spring 2027)",
    "total": 120,
    "first": "https://example.org/api/v1/courses/3/annotations/?page=1",
    "last": "https://example.org/api/v1/courses/3/annotations/?page=3",
}

PAGE_EXAMPLE = {
    "@context": ANNO_CONTEXT,
    "id": "https://example.org/api/v1/courses/3/annotations/?page=2",
    "type": "AnnotationPage",
    "partOf": {
        "id": "https://example.org/api/v1/courses/3/annotations/",
        "type": "AnnotationCollection",
        "label": "Annotations in SCO Seminar (Spring 2027)",
        "total": 120,
    },
    "startIndex": 50,
    "items": [
        {
            "id": "https://example.org/api/v1/annotations/81/",
            "type": "Annotation",
            "motivation": "questioning",
            "created": "2027-03-01T09:30:00.000Z",
            "modified": "2027-03-01T09:30:00.000Z",
            "creator": {"id": "tag:example.org,2026:user:7", "type": "Person", "nickname": "student1"},
            "body": [
                {
                    "type": "TextualBody",
                    "value": "Was it **April**?",
                    "format": "text/markdown",
                    "purpose": "questioning",
                },
                {"type": "TextualBody", "value": "dates", "purpose": "tagging"},
            ],
            "target": {
                "source": "https://example.org/read/sco-institutionalization/#p-5",
                "selector": [
                    {
                        "type": "TextQuoteSelector",
                        "exact": "in April 1990",
                        "prefix": "discussions on this topic ",
                        "suffix": ".",
                    },
                    {"type": "TextPositionSelector", "start": 512, "end": 525},
                ],
            },
        }
    ],
    "next": "https://example.org/api/v1/courses/3/annotations/?page=3",
    "prev": "https://example.org/api/v1/courses/3/annotations/?page=1",
}


class CourseAnnotationCollection(APIView):
    """A course's annotations that you may see, as a W3C ``AnnotationCollection``."""

    permission_classes = [permissions.IsAuthenticated]
    # JSON-LD first: it is what a Web Annotation client that accepts anything should get.
    renderer_classes = [JSONLDRenderer, JSONRenderer]

    @extend_schema(
        summary="A course's annotations as a W3C AnnotationCollection, or one of its pages",
        description=(
            "Without `page`: the `AnnotationCollection` (`total`, and `first`/`last` page IRIs when it "
            f"is not empty). With `page=N`: that `AnnotationPage` of at most {PAGE_SIZE} annotations, "
            "oldest first, with `next`/`prev`. Only what you may see in the course; deleted annotations "
            'never. Served as `application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"` '
            "(or `application/json` when asked)."
        ),
        parameters=[
            OpenApiParameter(
                "page",
                OpenApiTypes.INT,
                required=False,
                description="A page number, from 1 to the page the collection's `last` names.",
            )
        ],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="An AnnotationCollection, or an AnnotationPage when `page` is given.",
                examples=[
                    OpenApiExample("Collection", value=COLLECTION_EXAMPLE),
                    OpenApiExample("Page", value=PAGE_EXAMPLE),
                ],
            ),
            401: OpenApiResponse(description="Not signed in."),
            404: OpenApiResponse(description="No such course (or not yours), or no such page."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        course = selectors.course_for_user(request.user, pk)
        total = selectors.export_total(request.user, course)
        raw = request.query_params.get("page")
        if raw is None:
            return Response(collection_jsonld(course, total, request))
        number = _page_number(raw)
        paginator = _IdPaginator(selectors.annotations_for_export(request.user, course), total)
        return Response(page_jsonld(course, paginator, number, request))


# -- import -------------------------------------------------------------------------


class ImportedItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in what was sent, from 0.")
    status = serializers.ChoiceField(choices=["imported", "not_anchored", "invalid"])
    reason = serializers.ChoiceField(
        choices=["", "no_quote", "quote_not_found", "quote_ambiguous", "unsupported_shape", "not_valid"],
        help_text="Why it was not imported (empty when it was).",
    )
    message = serializers.CharField()
    origin = serializers.CharField(help_text="The item's original id, creator, date and page.")
    id = serializers.IntegerField(allow_null=True, help_text="The new annotation (null in a dry run).")
    paragraph = serializers.CharField(allow_null=True)
    start = serializers.IntegerField(allow_null=True)
    end = serializers.IntegerField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())


class ImportReportSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    not_imported = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    items = ImportedItemSerializer(many=True)


def _flag(raw: str | None) -> bool:
    return (raw or "").strip().lower() in {"1", "true", "yes", "on"}


class CourseAnnotationImport(APIView):
    """Import W3C annotations or a Hypothesis export into a course, anchoring each by its quote."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [ImportJSONParser, ImportJSONLDParser]

    @extend_schema(
        summary="Import W3C Web Annotations or a Hypothesis export into the course",
        description=(
            "The body is a W3C `AnnotationCollection` (with its first page embedded), an `AnnotationPage`, "
            "an annotation or a list of them, or a Hypothesis JSON export (a list of annotations, or "
            '`{"rows": [...]}`). Each item is anchored to the paragraph of the course\'s reading that '
            "contains its `TextQuoteSelector` quote (its prefix and suffix choose between several "
            "places) and written as yours, with the original id, creator, date and page kept in "
            "`imported_from`. Items that cannot be anchored or are not valid are reported with a "
            "reason and not written; the others are all written together. "
            f"At most {MAX_ITEMS:,} items. Members of the course only."
        ),
        parameters=[
            OpenApiParameter(
                "visibility",
                OpenApiTypes.STR,
                enum=Visibility.values,
                required=False,
                description='Who sees the imported annotations (default "private"); also read from '
                "a `visibility` field of a body that is an object.",
            ),
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                required=False,
                description="Report what would be imported, and write nothing.",
            ),
        ],
        request={"application/json": OpenApiTypes.ANY, "application/ld+json": OpenApiTypes.ANY},
        responses={
            201: OpenApiResponse(ImportReportSerializer, description="At least one annotation was written."),
            200: OpenApiResponse(
                ImportReportSerializer, description="Nothing was written (a dry run, or no item anchored)."
            ),
            400: OpenApiResponse(
                description="Not JSON, not a shape we read, too many items, or a bad visibility."
            ),
            401: OpenApiResponse(description="Not signed in."),
            403: OpenApiResponse(description="You see the course but are not a member of it."),
            404: OpenApiResponse(description="No such course (or not yours)."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        course = selectors.course_for_user(request.user, pk)
        data = request.data
        visibility = request.query_params.get("visibility")
        if visibility is None and isinstance(data, dict):
            visibility = data.get("visibility")
        report = annotations_import(
            user=request.user,
            course=course,
            data=data,
            visibility=visibility or Visibility.PRIVATE,
            dry_run=_flag(request.query_params.get("dry_run")),
        )
        code = status.HTTP_201_CREATED if report.imported and not report.dry_run else status.HTTP_200_OK
        return Response(report.as_dict(), status=code)
