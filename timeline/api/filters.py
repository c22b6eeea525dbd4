"""Filters for actors and events, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django import forms

from timeline.models import Actor, Event

__all__ = ["ActorFilter", "Event", "EventFilter"]


class YearFilter(django_filters.NumberFilter):
    """A whole year a date can hold: year 0 or 2001.5 is a 400, not a failed date lookup."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 9999)
        kwargs.setdefault(
            "error_messages", {"invalid": "Enter a number. A year is a whole number, such as 2001."}
        )
        super().__init__(*args, **kwargs)


class EventFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        queryset=Actor.objects.order_by("name"),
        field_name="participants",
        to_field_name="key",
        label="Actor",
    )
    type = django_filters.ChoiceFilter(field_name="type", lookup_expr="exact", choices=Event.Type.choices)
    year_from = YearFilter(field_name="date__year", lookup_expr="gte", label="From year")
    year_to = YearFilter(field_name="date__year", lookup_expr="lte", label="To year")

    class Meta:
        model = Event
        fields: list[str] = []


class ActorFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(field_name="kind", lookup_expr="exact", choices=Actor.Kind.choices)
    iso_code = django_filters.CharFilter(field_name="iso_code", lookup_expr="iexact", label="ISO code")

    class Meta:
        model = Actor
        fields: list[str] = []
