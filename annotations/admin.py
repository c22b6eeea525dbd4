"""Admin for curating the reading's records (site staff)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from annotations.models import (
    Annotation,
    AnnotationReply,
    Claim,
    ClaimEventLink,
    Course,
    CourseGroup,
    Document,
    Membership,
    Paragraph,
    Section,
    Source,
    Tag,
)
from annotations.models.challenges import (
    Challenge,
    ChallengeResponse,
    ChallengeSource,
    Erratum,
    EventProposal,
    LinkProposal,
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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "group"]


class GroupInline(admin.TabularInline):
    model = CourseGroup
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "term", "reading", "join_code", "join_enabled", "member_count", "created_at"]
    list_filter = ["join_enabled", "term", "reading"]
    search_fields = ["title", "term", "join_code"]
    list_select_related = ["reading"]
    inlines = [GroupInline, MembershipInline]
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description="members", ordering="n_members")
    def member_count(self, course: Course) -> int:
        return course.n_members

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return super().get_queryset(request).annotate(n_members=Count("memberships"))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "role", "group", "joined_at"]
    list_filter = ["role", "course"]
    search_fields = ["user__username", "course__title"]
    list_select_related = ["user", "course", "group"]
    autocomplete_fields = ["user", "course"]


class ReplyInline(admin.TabularInline):
    model = AnnotationReply
    extra = 0
    fields = ["author", "body", "created_at", "edited_at", "deleted_at"]
    readonly_fields = ["author", "created_at", "edited_at", "deleted_at"]
    can_delete = False


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    """Site staff read every annotation here, including private ones and tombstones; the
    text students wrote is not edited in the admin."""

    list_display = [
        "pk",
        "author",
        "course",
        "paragraph_anchor",
        "motivation",
        "visibility",
        "created_at",
        "deleted_at",
    ]
    list_filter = ["visibility", "motivation", "course", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["body", "exact", "author__username"]
    list_select_related = ["author", "course"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "course", "author", "group", "document", "paragraph", "paragraph_anchor", "claim", "exact", "prefix",
        "suffix", "start", "end", "body", "body_html", "imported_from", "created_at", "updated_at", "edited_at",
        "deleted_at",
    ]  # fmt: skip
    fields = [*readonly_fields[:10], "motivation", "tags", "visibility", *readonly_fields[10:]]
    inlines = [ReplyInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(LinkProposal)
class LinkProposalAdmin(admin.ModelAdmin):
    """Read-mostly: decisions go through the course pages or the API, so the rules apply."""

    list_display = ["claim", "relation", "event", "course", "proposer", "status", "created_at"]
    list_filter = ["status", "relation", "course"]
    search_fields = ["claim__key", "event__key", "proposer__username", "note"]
    list_select_related = ["claim", "event", "course", "proposer"]
    raw_id_fields = ["claim", "event", "proposer", "decided_by"]
    readonly_fields = ["status", "decided_by", "decided_at", "created_at"]


@admin.register(EventProposal)
class EventProposalAdmin(admin.ModelAdmin):
    list_display = ["title", "date", "course", "proposer", "status", "event", "created_at"]
    list_filter = ["status", "type", "course"]
    search_fields = ["title", "proposer__username", "description"]
    list_select_related = ["course", "proposer", "event"]
    raw_id_fields = ["proposer", "source", "event", "decided_by"]
    readonly_fields = ["status", "decided_by", "decided_at", "event", "created_at"]


class ChallengeSourceInline(admin.TabularInline):
    model = ChallengeSource
    extra = 0
    fields = ["source", "page", "quote", "url_fragment"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ChallengeResponseInline(admin.TabularInline):
    model = ChallengeResponse
    extra = 0
    fields = ["author", "body", "created_at", "edited_at", "deleted_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    """Site staff read challenges here; students' text and resolutions change in the app,
    where the version check applies."""

    list_display = ["pk", "author", "course", "claim", "stance", "status", "visibility", "created_at"]
    list_filter = ["stance", "status", "visibility", "course"]
    search_fields = ["argument", "author__username", "claim__key"]
    list_select_related = ["author", "course", "claim"]
    readonly_fields = [
        "course", "author", "group", "claim", "stance", "argument", "visibility", "status", "feedback",
        "resolved_by", "resolved_at", "version", "created_at", "updated_at", "edited_at", "deleted_at",
    ]  # fmt: skip
    fields = readonly_fields
    inlines = [ChallengeSourceInline, ChallengeResponseInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Erratum)
class ErratumAdmin(admin.ModelAdmin):
    """Site staff confirm errata; a new one goes through ``erratum_confirm``."""

    list_display = ["claim", "confirmed_by", "confirmed_at"]
    list_select_related = ["claim", "confirmed_by"]
    search_fields = ["claim__key", "text"]
    autocomplete_fields = ["claim"]
    raw_id_fields = ["challenge"]
    fields = ["claim", "text", "challenge", "confirmed_by", "confirmed_at"]
    readonly_fields = ["confirmed_by", "confirmed_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Erratum | None = None) -> list[str]:
        # The claim of a confirmed erratum stays; its text may be corrected.
        return [*self.readonly_fields, "claim"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Erratum, form: object, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        from annotations.services.challenges import erratum_confirm

        confirmed = erratum_confirm(
            user=request.user, claim=obj.claim, text=obj.text, challenge=obj.challenge
        )
        obj.pk, obj.confirmed_by, obj.confirmed_at = (
            confirmed.pk,
            confirmed.confirmed_by,
            confirmed.confirmed_at,
        )


from annotations.models import Post, Thread  # noqa: E402


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    """Site staff read threads here and may pin or lock them (moving is on the thread's page); posts are students' words,
    read-only (moderation hides, never rewrites)."""

    list_display = ["pk", "title", "course", "group", "author", "pinned", "locked", "created_at"]
    list_filter = ["pinned", "locked", "course"]
    search_fields = ["title", "author__username"]
    list_select_related = ["course", "group", "author"]
    readonly_fields = [
        "title", "course", "group", "author", "claim", "event", "annotation", "challenge", "created_at",
        "last_post_at",
    ]  # fmt: skip
    fields = ["pinned", "locked", *readonly_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["pk", "thread", "author", "created_at", "edited_at", "deleted_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["body", "author__username"]
    list_select_related = ["thread", "author"]
    readonly_fields = [
        "thread", "parent", "author", "body", "body_html", "created_at", "updated_at", "edited_at", "deleted_at",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
