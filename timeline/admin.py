"""Admin for curating actors and events (site staff only, not course staff)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from annotations.models import ClaimEventLink
from scoproject.admin import SiteStaffOnlyAdmin
from timeline.models import Actor, Event


class ClaimLinkInline(admin.TabularInline):
    model = ClaimEventLink
    fk_name = "event"
    extra = 0
    autocomplete_fields = ["claim"]
    fields = ["claim", "relation", "note"]
    verbose_name = _("linked claim")
    verbose_name_plural = _("linked claims")


@admin.register(Actor)
class ActorAdmin(SiteStaffOnlyAdmin):
    list_display = ["name", "key", "kind", "iso_code"]
    list_filter = ["kind"]
    search_fields = ["name", "key", "iso_code", "description"]
    ordering = ["kind", "name"]


@admin.register(Event)
class EventAdmin(SiteStaffOnlyAdmin):
    list_display = ["title", "key", "date_display", "type", "place", "claim_count"]
    list_filter = [
        "type",
        "precision",
        ("participants", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["title", "key", "place", "description"]
    date_hierarchy = "date"
    autocomplete_fields = ["participants", "sources"]
    inlines = [ClaimLinkInline]
    fieldsets = [
        (None, {"fields": ["key", "title", "type", "place", "description"]}),
        (_("When"), {"fields": [("date", "precision"), ("end_date", "end_precision")]}),
        (_("Who and where from"), {"fields": ["participants", "sources"]}),
    ]

    @admin.display(description=_("date"))
    def date_display(self, event: Event) -> str:
        return event.date_display

    @admin.display(description=_("claims"), ordering="n_claims")
    def claim_count(self, event: Event) -> int:
        return event.n_claims

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).annotate(n_claims=Count("claim_links"))
