"""Admin for curating the reading's records (site staff)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from annotations.models import (
    Claim,
    ClaimEventLink,
    Document,
    Paragraph,
    Section,
    Source,
)


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0
    fields = ["order", "key", "title", "level", "parent"]
    show_change_link = True


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "language", "updated_at"]
    search_fields = ["title", "slug"]
    inlines = [SectionInline]


class ParagraphInline(admin.StackedInline):
    model = Paragraph
    extra = 0
    fields = ["anchor", "order", "text"]
    show_change_link = True


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["title", "document", "order", "level", "parent"]
    list_filter = ["document", "level"]
    search_fields = ["title", "key"]
    list_select_related = ["document", "parent"]
    inlines = [ParagraphInline]


class ClaimInline(admin.TabularInline):
    model = Claim
    extra = 0
    fields = ["key", "paraphrase", "kind", "start", "end"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Paragraph | None = None) -> bool:
        return False


@admin.register(Paragraph)
class ParagraphAdmin(admin.ModelAdmin):
    list_display = ["anchor", "document", "section", "excerpt", "claim_count"]
    list_filter = ["document", "section"]
    search_fields = ["anchor", "text"]
    list_select_related = ["document", "section"]
    inlines = [ClaimInline]

    @admin.display(description="text")
    def excerpt(self, paragraph: Paragraph) -> str:
        return paragraph.text[:100]

    @admin.display(description="claims", ordering="n_claims")
    def claim_count(self, paragraph: Paragraph) -> int:
        return paragraph.n_claims

    def get_queryset(self, request: HttpRequest) -> QuerySet[Paragraph]:
        return super().get_queryset(request).annotate(n_claims=Count("claims"))


class EventLinkInline(admin.TabularInline):
    model = ClaimEventLink
    fk_name = "claim"
    extra = 0
    autocomplete_fields = ["event"]
    fields = ["event", "relation", "note"]
    verbose_name = "linked event"


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ["key", "paraphrase", "kind", "variable", "step", "paragraph"]
    list_filter = [
        "kind",
        "variable",
        "step",
        "paragraph__document",
        "paragraph__section",
    ]
    search_fields = ["key", "quote", "paraphrase", "note"]
    list_select_related = ["paragraph"]
    autocomplete_fields = ["cites", "actors"]
    readonly_fields = ["start", "end"]
    inlines = [EventLinkInline]
    fieldsets = [
        (
            None,
            {"fields": ["key", "paragraph", "quote", ("start", "end"), "paraphrase"]},
        ),
        (
            "Analysis",
            {
                "fields": [
                    "kind",
                    "variable",
                    "step",
                    ("stated_date", "stated_precision"),
                    "note",
                ]
            },
        ),
        ("References", {"fields": ["cites", "actors"]}),
    ]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "citation",
        "kind",
        "year",
        "from_paper",
        "in_reference_list",
        "claim_count",
    ]
    list_filter = ["kind", "from_paper", "in_reference_list"]
    search_fields = ["key", "title", "raw", "container", "publisher"]
    # A URL typed without a scheme is taken to be https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="claims", ordering="n_claims")
    def claim_count(self, source: Source) -> int:
        return source.n_claims

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        return super().get_queryset(request).annotate(n_claims=Count("claims"))
