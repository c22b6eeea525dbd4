"""Filters for the reading's records, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from annotations.models import Claim, Paragraph, Section, Source
from annotations.search import claims_matching, sources_matching
from annotations.selectors import mismatched_claim_ids
from timeline.models import Actor, Event

# The largest id a row can have (a signed 64-bit integer). A larger number names no row, but
# would overflow the database's integer (a 500) before the query could say so.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An exact match on a row's id: a whole number up to ``MAX_ID``; anything else is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", -MAX_ID)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class ClaimFilter(django_filters.FilterSet):
    document = django_filters.CharFilter(field_name="paragraph__document__slug", lookup_expr="exact")
    section = django_filters.ModelChoiceFilter(
        queryset=Section.objects.order_by("document", "order"),
        to_field_name="key",
        method="filter_section",
        label="Section",
        help_text="A section's key; includes its subsections.",
    )
    paragraph = django_filters.CharFilter(
        field_name="paragraph__anchor", lookup_expr="exact", label="Paragraph anchor"
    )
    kind = django_filters.ChoiceFilter(field_name="kind", lookup_expr="exact", choices=Claim.Kind.choices)
    variable = django_filters.ChoiceFilter(
        field_name="variable",
        lookup_expr="exact",
        choices=Claim.Variable.choices,
        label="Variable",
    )
    step = django_filters.ChoiceFilter(
        field_name="step",
        lookup_expr="exact",
        choices=Claim.Step.choices,
        label="Institutionalization step",
    )
    actor = django_filters.ModelChoiceFilter(
        queryset=Actor.objects.order_by("name"),
        field_name="actors",
        to_field_name="key",
        label="Actor",
    )
    event = django_filters.ModelChoiceFilter(
        queryset=Event.objects.order_by("date"),
        field_name="events",
        to_field_name="key",
        label="Event",
    )
    source = django_filters.ModelChoiceFilter(
        # Claims cite the reading's own sources; a course's sources are not public.
        queryset=Source.objects.filter(course__isnull=True),
        field_name="cites",
        to_field_name="key",
        label="Cited source",
    )
    q = django_filters.CharFilter(
        method="filter_text",
        label="Search",
        help_text="Words in the quote, paraphrase or note.",
    )
    mismatch = django_filters.BooleanFilter(
        method="filter_mismatch",
        label="Date disagrees with the record",
        help_text="Claims that state a date a linked event's date contradicts.",
        widget=forms.NullBooleanSelect,
    )

    class Meta:
        model = Claim
        fields: list[str] = []

    def filter_section(self, queryset: QuerySet[Claim], name: str, value: Section | None) -> QuerySet[Claim]:
        if value is None:
            return queryset
        return queryset.filter(Q(paragraph__section=value) | Q(paragraph__section__parent=value))

    def filter_text(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        return claims_matching(queryset, value, rank=True)

    def filter_mismatch(self, queryset: QuerySet[Claim], name: str, value: bool | None) -> QuerySet[Claim]:
        if value is None:
            return queryset
        mismatched = mismatched_claim_ids()
        return queryset.filter(pk__in=mismatched) if value else queryset.exclude(pk__in=mismatched)


class ParagraphFilter(django_filters.FilterSet):
    document = django_filters.CharFilter(field_name="document__slug", lookup_expr="exact")
    section = django_filters.CharFilter(field_name="section__key", lookup_expr="exact")
    anchor = django_filters.CharFilter(field_name="anchor", lookup_expr="exact")

    class Meta:
        model = Paragraph
        fields: list[str] = []


class SourceFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(field_name="kind", lookup_expr="exact", choices=Source.Kind.choices)
    from_paper = django_filters.BooleanFilter(field_name="from_paper", lookup_expr="exact")
    year = django_filters.NumberFilter(field_name="year", lookup_expr="exact")
    course = IdFilter(
        field_name="course", lookup_expr="exact", label="Course", help_text="A course's id: its own sources."
    )
    q = django_filters.CharFilter(
        method="filter_text", label="Search", help_text="Words in the title, the authors or the reference."
    )

    class Meta:
        model = Source
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Source], name: str, value: str) -> QuerySet[Source]:
        return sources_matching(queryset, value, rank=True)
