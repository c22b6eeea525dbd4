"""Reads of the reading's records.

The paper's records are public, so these depend on nobody; they still live here so that
every list view and endpoint gets its rows, and its prefetching, from one place.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from annotations.models import (
    Claim,
    ClaimEventLink,
    Document,
    Paragraph,
    Section,
    Source,
)


def document_list() -> QuerySet[Document]:
    return Document.objects.all()


def document_for_reading(slug: str) -> Document:
    """A document with its sections and paragraphs, each paragraph with its claims."""
    claims = Claim.objects.only("key", "paragraph_id", "start", "end", "kind", "paraphrase")
    return get_object_or_404(
        Document.objects.prefetch_related(
            Prefetch("sections", Section.objects.order_by("order")),
            Prefetch(
                "paragraphs",
                Paragraph.objects.order_by("order").prefetch_related(
                    Prefetch("claims", claims.order_by("start"))
                ),
            ),
        ),
        slug=slug,
    )


def section_list() -> QuerySet[Section]:
    return Section.objects.select_related("document", "parent")


def paragraph_list() -> QuerySet[Paragraph]:
    return Paragraph.objects.select_related("document", "section").prefetch_related(
        Prefetch(
            "claims",
            Claim.objects.only("key", "paragraph_id", "start").order_by("start"),
        )
    )


def claim_list() -> QuerySet[Claim]:
    """Claims with everything a list or a detail shows, in reading order."""
    return Claim.objects.select_related("paragraph__section", "paragraph__document").prefetch_related(
        "actors",
        "cites",
        Prefetch(
            "event_links",
            ClaimEventLink.objects.select_related("event").order_by("event__date"),
        ),
    )


def claim_detail(key: str) -> Claim:
    return get_object_or_404(claim_list(), key=key)


def claims_matching(queryset: QuerySet[Claim], text: str) -> QuerySet[Claim]:
    """Claims whose quote, paraphrase or note match ``text``.

    On PostgreSQL this is full-text search (English stemming, web-search syntax: words,
    "quoted phrases", -excluded); on SQLite every word must appear somewhere, ignoring case.
    """
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = SearchVector("quote", "paraphrase", "note", config="english")
        return queryset.annotate(search=vector).filter(
            search=SearchQuery(text, config="english", search_type="websearch")
        )
    for word in text.split():
        word = word.strip('"')
        queryset = queryset.filter(
            Q(quote__icontains=word) | Q(paraphrase__icontains=word) | Q(note__icontains=word)
        )
    return queryset


def source_list() -> QuerySet[Source]:
    return Source.objects.prefetch_related(Prefetch("claims", Claim.objects.only("key")))
