"""API pagination.

Small curated lists (the reading's records, courses, groups, assignments) use numbered
pages. The deep lists of student work use keyset ("cursor") pagination: each page is
found through an index from the position of the row before it, so page 1,000 costs what
page 1 costs, and no response runs a ``COUNT`` over a large table.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db.models import Field, Model, Q, QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination over the queryset's own ordering.

    The ordering is the one the selector (or a filter) gave the queryset, or ``ordering``
    when it has none. It must end with the primary key, so that it is unique, and name only
    non-null fields or annotations: the cursor holds the last row's value of every one of
    them, and the next page is the rows after that position in the full (lexicographic)
    order. Rows sharing a timestamp are therefore never skipped nor repeated, whatever
    their number. The response holds ``next``, ``previous`` and ``results``; never a count.

    A row whose ordering values change between two requests (a thread with a new post, a
    queue item with a new flag) moves in the order, as it would on a fresh first page.
    """

    ordering = ("-created_at", "-pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = "Invalid cursor."

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list | None:
        self.request = request
        self.view = view
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        if not self.page_size:
            return None
        self.keys = self._ordering_of(queryset)
        queryset = queryset.order_by(*self.keys)
        position, reverse = self._decode(request.query_params.get(self.cursor_query_param))

        if reverse:
            keys = [_flipped(key) for key in self.keys]
            rows = self._rows(self._after(queryset.order_by(*keys), keys, position), keys)
            self.has_previous = len(rows) > self.page_size
            rows = rows[: self.page_size][::-1]
            self.has_next = True
        else:
            rows = self._rows(self._after(queryset, self.keys, position), self.keys)
            self.has_next = len(rows) > self.page_size
            rows = rows[: self.page_size]
            self.has_previous = position is not None
        self.page = rows
        return rows

    def get_paginated_response(self, data: list) -> Response:
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        return self._link(self.page[-1], reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.page:
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self._link(self.page[0], reverse=True)

    def get_html_context(self) -> dict:
        return {"previous_url": self.get_previous_link(), "next_url": self.get_next_link()}

    # -- the ordering and the position ---------------------------------------------------------

    def _ordering_of(self, queryset: QuerySet) -> tuple[str, ...]:
        keys = tuple(str(key) for key in queryset.query.order_by) or tuple(self.ordering)
        self.fields = [self._field(queryset, key.lstrip("-")) for key in keys]
        # A foreign key's value is its column (``course_id``), not the related row.
        self.attnames = [
            key.lstrip("-") if key.lstrip("-") in queryset.query.annotations or key.lstrip("-") == "pk"
            else field.attname
            for key, field in zip(keys, self.fields, strict=True)
        ]  # fmt: skip
        if keys[-1].lstrip("-") not in ("pk", queryset.model._meta.pk.name):
            raise ImproperlyConfigured(f"Keyset pagination needs an ordering ending with the pk, not {keys}.")
        return keys

    @staticmethod
    def _field(queryset: QuerySet, name: str) -> Field:
        annotation = queryset.query.annotations.get(name)
        if annotation is not None:
            return annotation.output_field
        meta = queryset.model._meta
        try:
            field = meta.pk if name == "pk" else meta.get_field(name)
        except FieldDoesNotExist:
            raise ImproperlyConfigured(f"Keyset pagination cannot order by {name!r}.") from None
        if not field.concrete or field.null:
            raise ImproperlyConfigured(f"Keyset pagination needs a non-null column, not {name!r}.")
        return field

    def _rows(self, queryset: QuerySet, keys: list[str] | tuple[str, ...]) -> list:
        """The first ``page_size + 1`` rows of ``queryset`` in the order ``keys``.

        A view may give ``page_rows(ids)``: the full rows of the primary keys that ``ids``
        (a subquery) gives, or ``None`` to read the page as it is. The page's keys are then
        cut first from ``queryset`` without its joins and computed columns, and only those
        rows are read in full, in the same query: a list whose order the database must sort
        (no index serves it) then sorts narrow rows, and joins and computes for one page
        instead of for every row it sorts. The rows must carry every key of the order.
        """
        limit = self.page_size + 1
        page_rows = getattr(self.view, "page_rows", None)
        rows = page_rows(queryset.values("pk")[:limit]) if page_rows is not None else None
        if rows is None:
            return list(queryset[:limit])
        return list(rows.order_by(*keys))

    def _after(
        self, queryset: QuerySet, keys: list[str] | tuple[str, ...], position: list | None
    ) -> QuerySet:
        """The rows strictly after ``position`` in the order ``keys``."""
        if position is None:
            return queryset
        names = [key.lstrip("-") for key in keys]
        ops = ["lt" if key.startswith("-") else "gt" for key in keys]
        after = Q()
        for i, name in enumerate(names):
            tied = {names[j]: position[j] for j in range(i)}
            after |= Q(**tied, **{f"{name}__{ops[i]}": position[i]})
        # The redundant bound on the first key lets the database start its index scan at
        # the position instead of filtering every row before it.
        bound = {f"{names[0]}__{ops[0]}e": position[0]}
        return queryset.filter(Q(**bound) & after)

    def _link(self, row: Model, *, reverse: bool) -> str:
        values = [getattr(row, name) for name in self.attnames]
        payload = json.dumps({"p": values, "r": reverse}, default=_exact, separators=(",", ":"))
        cursor = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def _decode(self, cursor: str | None) -> tuple[list | None, bool]:
        if not cursor:
            return None, False
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
            values = payload["p"]
            if not isinstance(values, list) or len(values) != len(self.fields):
                raise ValueError
            position = [field.to_python(value) for field, value in zip(self.fields, values, strict=True)]
            if any(value is None for value in position):
                raise ValueError
            return position, bool(payload.get("r"))
        except (TypeError, ValueError, KeyError, binascii.Error, ValidationError):
            raise NotFound(self.invalid_cursor_message) from None


def _exact(value: object) -> str:
    """A cursor value as text that reads back as the same value: full microseconds for a
    time (Django's JSON encoder keeps milliseconds, which would skip rows), digits for a
    decimal, the text of anything else."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _flipped(key: str) -> str:
    return key[1:] if key.startswith("-") else f"-{key}"
