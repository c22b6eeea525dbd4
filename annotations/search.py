"""Text search over claims, annotations and sources.

On PostgreSQL, full-text search: English stemming ("institutionalize" finds
"institutionalization") and web-search syntax (words, "quoted phrases", -excluded, or).
Each searched model has one ``SearchVector`` below. Claims and sources, small tables, are
matched on that expression, served by a GIN expression index built from the same definition
(migration ``0010_search_indexes``, PostgreSQL only) so that the planner matches the two.
Annotations, a million rows at a large university, are matched on a stored column instead
(``search_vector``, kept by a trigger: migration ``0013_annotation_search_vector``), so that
ranking the matches reads each vector rather than parsing each note again. Its GIN index is
keyed by course as well (``btree_gin``, migration ``0015_annotation_course_search_index``):
a common word in one course costs that course's matches, not the whole table's. The index
can use the course only when it is compared as a bigint, which is why the visibility rule
and the API's course filter type their course ids. Results are ranked by relevance, then
by the primary key (newest first) to keep the order stable.

On SQLite, which has neither ``to_tsvector`` nor GIN, the documented fallback: every word
and every "quoted phrase" must appear in one of the fields, ignoring case; a word or a
phrase after ``-`` must not. No stemming and no ranking there: the caller's order stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import connection
from django.db.models import Expression, FloatField, Q, QuerySet
from django.db.models.expressions import Col
from django.db.models.functions import Cast

CONFIG = "english"
RANK = "search_rank"


@dataclass(frozen=True)
class Searchable:
    """The text fields of one model that search reads, and the name of their GIN expression
    index; or, with ``column``, the stored vector of those fields searched in their stead and
    the name of its GIN index."""

    fields: tuple[str, ...]
    index_name: str
    column: str = ""
    column_index_name: str = ""

    def vector(self) -> SearchVector:
        return SearchVector(*self.fields, config=CONFIG)

    def index(self) -> GinIndex:
        return GinIndex(self.vector(), name=self.index_name)

    def searched(self) -> Expression:
        """What a search matches and ranks: the stored column when there is one."""
        return StoredVector(self.column) if self.column else self.vector()


class StoredVector(Expression):
    """A ``tsvector`` column of the queried table that the model does not declare.

    The database fills it (a trigger) and only search reads it; leaving it out of the model
    keeps it out of every other query, every save and every backup.
    """

    output_field = SearchVectorField()

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def resolve_expression(self, query: Any = None, *args: Any, **kwargs: Any) -> Col:
        target = SearchVectorField()
        target.set_attributes_from_name(self.column)
        # The model names the column in the expression's identity, which a count of the
        # matches (a paginator's) hashes: a field without one cannot be hashed.
        target.model = query.model
        return Col(query.get_initial_alias(), target, self.output_field)


CLAIMS = Searchable(("quote", "paraphrase", "note"), "claim_search_idx")
# Its expression index (0010) gave way to the stored column (0013), indexed with the course (0015).
ANNOTATIONS = Searchable(("body", "exact"), "annotation_search_idx", "search_vector", "annotation_vector_idx")
SOURCES = Searchable(("title", "authors", "raw"), "source_search_idx")

# A "phrase" or a word, each possibly after a minus that excludes it.
_TERM = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


def claims_matching(queryset: QuerySet, text: str, *, rank: bool = False) -> QuerySet:
    """Claims of ``queryset`` whose quote, paraphrase or note match ``text``."""
    return matching(queryset, CLAIMS, text, rank=rank)


def annotations_matching(queryset: QuerySet, text: str, *, rank: bool = False) -> QuerySet:
    """Annotations of ``queryset`` whose note (body) or quoted span (exact) match ``text``."""
    return matching(queryset, ANNOTATIONS, text, rank=rank)


def sources_matching(queryset: QuerySet, text: str, *, rank: bool = False) -> QuerySet:
    """Sources of ``queryset`` whose title, authors or full reference match ``text``."""
    return matching(queryset, SOURCES, text, rank=rank)


def matching(queryset: QuerySet, searchable: Searchable, text: str, *, rank: bool = False) -> QuerySet:
    """The rows of ``queryset`` that match ``text`` in ``searchable``'s fields.

    With ``rank`` on PostgreSQL, the rows come best match first, then newest (highest pk)
    first, and carry their relevance as ``search_rank`` (a double, so that a cursor built
    from it compares equal to it). Blank text leaves ``queryset`` as it is.
    """
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor != "postgresql":
        return queryset.filter(_every_term(searchable.fields, text))
    query = SearchQuery(text, config=CONFIG, search_type="websearch")
    # The filter's left side must be the very column or expression the GIN index was built on.
    matched = queryset.alias(search_vector=searchable.searched()).filter(search_vector=query)
    if not rank:
        return matched
    relevance = Cast(SearchRank(searchable.searched(), query), FloatField())
    return matched.annotate(**{RANK: relevance}).order_by(f"-{RANK}", "-pk")


def _every_term(fields: tuple[str, ...], text: str) -> Q:
    condition = Q()
    for match in _TERM.finditer(text):
        minus, phrase = (match[1], match[2]) if match[2] is not None else (match[3], match[4])
        phrase = phrase.strip()
        if not phrase or phrase.lower() == "or":
            continue
        anywhere = Q()
        for field in fields:
            anywhere |= Q(**{f"{field}__icontains": phrase})
        condition &= ~anywhere if minus else anywhere
    return condition
