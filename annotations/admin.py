"""Admin for curating the reading's records (site staff)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from annotations.markdown import render
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
from annotations.models.assignments import Assignment, Extension, Grade
from annotations.models.challenges import (
    Challenge,
    ChallengeResponse,
    ChallengeSource,
    Erratum,
    EventProposal,
    LinkProposal,
)
from annotations.services import assignments as assignment_services


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


class ExtensionInline(admin.TabularInline):
    model = Extension
    extra = 0
    fields = ["student", "due_at", "late_until", "reason", "granted_by", "created_at"]
    readonly_fields = ["granted_by", "created_at"]
    autocomplete_fields = ["student"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Assignments, their extensions, and the release of their grades (grades themselves are
    changed one by one, below or in the app, where the version check applies)."""

    list_display = ["title", "course", "opens_at", "due_at", "late_until", "work_mode", "scoring", "released"]
    list_filter = ["course", "work_mode", "scoring", ("grades_released_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "course__title"]
    list_select_related = ["course"]
    filter_horizontal = ["sections"]
    autocomplete_fields = ["claims"]
    readonly_fields = ["grades_released_at", "grades_released_by", "created_by", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["course", "title", "instructions"]}),
        ("Scope (none chosen: the whole reading)", {"fields": ["sections", "claims"]}),
        ("Dates", {"fields": ["opens_at", "due_at", "late_until", "late_penalty"]}),
        (
            "Requirements and scoring",
            {
                "fields": [
                    "work_mode",
                    *(
                        f"required_{kind}"
                        for kind in ("annotations", "challenges", "sources", "replies", "links")
                    ),
                    "scoring",
                    "points",
                ]
            },
        ),
        ("Options", {"fields": ["hide_peers_until_posted", "anonymous_to_peers"]}),
        ("Record", {"fields": readonly_fields}),
    ]
    inlines = [ExtensionInline]
    actions = ["release_grades", "withhold_grades"]

    @admin.display(description="grades released", boolean=True)
    def released(self, assignment: Assignment) -> bool:
        return assignment.grades_released

    def save_model(self, request: HttpRequest, obj: Assignment, form, change: bool) -> None:
        obj.instructions_html = render(obj.instructions)
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            for extension in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
                Extension.objects.filter(pk=extension.pk).update(granted_by=request.user)
        # The scope may have changed: which work is anonymous follows it.
        assignment_services.anonymity_refresh(course=form.instance.course)

    def _each(self, request: HttpRequest, queryset: QuerySet[Assignment], act, done: str) -> None:
        for assignment in queryset.select_related("course"):
            try:
                act(user=request.user, assignment=assignment)
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, f"{assignment}: {' '.join(getattr(error, 'messages', [str(error)]))}")
            else:
                messages.success(request, f"{assignment}: {done}")

    @admin.action(description="Release the grades to the students")
    def release_grades(self, request: HttpRequest, queryset: QuerySet[Assignment]) -> None:
        self._each(request, queryset, assignment_services.grades_release, "grades released.")

    @admin.action(description="Withhold the grades again")
    def withhold_grades(self, request: HttpRequest, queryset: QuerySet[Assignment]) -> None:
        self._each(request, queryset, assignment_services.grades_withhold, "grades withheld.")


class GradeAdminForm(forms.ModelForm):
    # The version the grader saw, sent back with the form: a grade changed since is not overwritten.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = Grade
        fields = ["score", "feedback"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seen_version"].initial = self.instance.version

    def clean(self) -> dict:
        # The service checks again on save; checking here keeps the page, with its message, on a refusal.
        cleaned = super().clean()
        current = Grade.objects.filter(pk=self.instance.pk).values_list("version", "score").first()
        if current and cleaned.get("seen_version") != current[0]:
            raise ValidationError(
                f"{assignment_services.CONFLICT} Score: {current[1]}, version {current[0]}."
            )
        try:
            assignment_services.score_from(cleaned.get("score"), self.instance.assignment)
        except ValidationError as error:
            self.add_error("score", error.message_dict["score"])
        return cleaned


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    """Grades, changed through the grading service: the score must fit the assignment and a
    grade changed by someone else since the page was opened is not overwritten."""

    list_display = ["student", "assignment", "score", "graded_by", "graded_at", "version"]
    list_filter = ["assignment__course", "assignment"]
    search_fields = ["student__username", "assignment__title"]
    list_select_related = ["student", "assignment", "graded_by"]
    form = GradeAdminForm
    fields = [
        "assignment",
        "student",
        "score",
        "feedback",
        "seen_version",
        "graded_by",
        "graded_at",
        "version",
    ]
    readonly_fields = ["assignment", "student", "graded_by", "graded_at", "version"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Grade, form, change: bool) -> None:
        try:
            assignment_services.grade_set(
                user=request.user,
                assignment=obj.assignment,
                student=obj.student,
                score=obj.score,
                feedback=obj.feedback,
                expected_version=form.cleaned_data["seen_version"],
            )
        except assignment_services.GradeConflict as conflict:
            messages.error(
                request,
                f"{conflict.message} Score {conflict.current.score}, version {conflict.current.version}.",
            )
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
