"""Lean lists: the hot API lists build their rows' dicts directly.

A list of fifty rows through DRF's per-field machinery (a field object per value, its
``get_attribute`` walk, a reverse per URL) cost more than the queries behind it. A hot
list's serializer keeps its fields as the definition (the schema, one object, the
detail endpoints) and gives ``represent_rows``, which builds the same dicts directly;
tests/annotations/test_api_lists_lean.py holds the two equal on varied rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Manager
from rest_framework import serializers
from rest_framework.reverse import reverse

_DATETIME = serializers.DateTimeField()


def iso_datetime(value: Any) -> str | None:
    """A time as DRF's ``DateTimeField`` writes it (ISO 8601 in the current zone, ``Z`` for UTC)."""
    return _DATETIME.to_representation(value) if value else None


def prefetched(row: Any, relation: str) -> Iterable:
    """The related rows of ``row`` that a prefetch of ``relation`` fetched: the plain list of
    ``selectors.as_lists`` (``<relation>_list``), else the relation's prefetch cache, read
    without building its manager (a many-to-many manager costs more to build than its rows
    to serialize); a query through the manager if nothing was prefetched."""
    listed = row.__dict__.get(f"{relation}_list")
    if listed is not None:
        return listed
    cache = getattr(row, "_prefetched_objects_cache", None)
    if cache is not None and relation in cache:
        return cache[relation]
    return getattr(row, relation).all()


def detail_urls(context: dict, view_name: str, lookup: str = "pk") -> Callable[[Any], str]:
    """The absolute detail URL of a row from its lookup value, as ``HyperlinkedIdentityField``
    gives it in a serializer's ``context`` (its request, and the format suffix the list was
    asked with), with one ``reverse`` for the whole list instead of one per row."""
    request, format = context["request"], context.get("format")
    sentinel = "9876543210"  # a lookup value no other part of the URL holds
    url = reverse(view_name, kwargs={lookup: sentinel}, request=request, format=format)
    head, found, tail = url.rpartition(sentinel)
    if not found or sentinel in head:  # a value the route changed: reverse each row
        return lambda value: reverse(view_name, kwargs={lookup: value}, request=request, format=format)
    return lambda value: f"{head}{value}{tail}"


class LeanListSerializer(serializers.ListSerializer):
    """``many=True`` of a serializer that gives ``represent_rows(rows)``: the same list of
    dicts as its fields would give, built without their machinery. Without a request (whose
    user decides what is shown, and whose host the URLs name), the fields serialize as usual."""

    def to_representation(self, data: Iterable) -> list[dict]:
        rows = data.all() if isinstance(data, Manager) else data
        if self.context.get("request") is None:
            return super().to_representation(rows)
        return self.child.represent_rows(rows)
