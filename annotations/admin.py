"""The admin: site staff curate the reading's records and the courses; a course's TAs and
instructors read and moderate their own courses' work here (``scoproject.admin`` holds the
rules), through the same services as the pages."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from annotations.exports import spreadsheet_safe
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
    Post,
    Section,
    Source,
    Tag,
    Thread,
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
from annotations.models.courses import Role
from annotations.models.moderated import ModerationState
from annotations.models.moderation import (
    MODERATED_KINDS,
    Action,
    AuditEntry,
    Flag,
    FlagReason,
    ModerationItem,
)
from annotations.permissions import can_anonymise_user
from annotations.services import assignments as assignment_services
from annotations.services import moderation as moderation_services
from annotations.services.privacy import user_anonymise
from annotations.templatetags.numbers import GroupedCount
from scoproject.admin import (
    TEACHING_ROLES,
    CourseScopedAdmin,
    ParentScopedInline,
    SiteStaffOnlyAdmin,
    taught_course_ids,
)

# The moderation state of student work: read here, changed only by the queue's acts.
MODERATION_FIELDS = ["moderation", "moderation_reason", "moderated_by", "moderated_at"]


class NotPrivateForCourseStaff:
    """Course staff never read private work (their pages hide it); site staff read it here."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.exclude(visibility="private")


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0
    fields = ["order", "key", "title", "level", "parent"]
    show_change_link = True


@admin.register(Document)
class DocumentAdmin(SiteStaffOnlyAdmin):
    list_display = ["title", "slug", "language", "updated_at"]
    search_fields = ["title", "slug"]
    inlines = [SectionInline]


class ParagraphInline(admin.StackedInline):
    model = Paragraph
    extra = 0
    fields = ["anchor", "order", "text"]
    show_change_link = True


@admin.register(Section)
class SectionAdmin(SiteStaffOnlyAdmin):
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
class ParagraphAdmin(SiteStaffOnlyAdmin):
    list_display = ["anchor", "document", "section", "excerpt", "claim_count"]
    list_filter = ["document", "section"]
    search_fields = ["anchor", "text"]
    list_select_related = ["document", "section"]
    inlines = [ClaimInline]

    @admin.display(description=_("text"))
    def excerpt(self, paragraph: Paragraph) -> str:
        return paragraph.text[:100]

    @admin.display(description=_("claims"), ordering="n_claims")
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
    verbose_name = _("linked event")
    verbose_name_plural = _("linked events")


@admin.register(Claim)
class ClaimAdmin(SiteStaffOnlyAdmin):
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
            _("Analysis"),
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
        (_("References"), {"fields": ["cites", "actors"]}),
    ]


@admin.register(Source)
class SourceAdmin(CourseScopedAdmin):
    """The reading's sources (no course) are curated by site staff; the sources a course's
    members added are read here by that course's staff, and moderated from the queue."""

    list_display = [
        "key",
        "citation",
        "kind",
        "year",
        "from_paper",
        "in_reference_list",
        "claim_count",
        "course",
        "moderation",
    ]
    list_filter = ["kind", "from_paper", "in_reference_list", "moderation", "course"]
    list_select_related = ["course"]
    readonly_fields = ["course", "added_by", *MODERATION_FIELDS]
    search_fields = ["key", "title", "raw", "container", "publisher"]
    # A URL typed without a scheme is taken to be https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=_("claims"), ordering="n_claims")
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
class CourseAdmin(SiteStaffOnlyAdmin):
    list_display = ["title", "term", "reading", "join_code", "join_enabled", "member_count", "created_at"]
    list_filter = ["join_enabled", "term", "reading"]
    search_fields = ["title", "term", "join_code"]
    list_select_related = ["reading"]
    inlines = [GroupInline, MembershipInline]
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description=_("members"), ordering="n_members")
    def member_count(self, course: Course) -> int:
        return course.n_members

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return super().get_queryset(request).annotate(n_members=Count("memberships"))


@admin.register(Membership)
class MembershipAdmin(SiteStaffOnlyAdmin):
    list_display = ["user", "course", "role", "group", "joined_at"]
    list_filter = ["role", "course"]
    search_fields = ["user__username", "course__title"]
    list_select_related = ["user", "course", "group"]
    autocomplete_fields = ["user", "course"]


class ReplyInline(ParentScopedInline, admin.TabularInline):
    model = AnnotationReply
    extra = 0
    fields = ["author", "body", "created_at", "edited_at", "deleted_at"]
    readonly_fields = ["author", "created_at", "edited_at", "deleted_at"]
    can_delete = False


@admin.register(Annotation)
class AnnotationAdmin(NotPrivateForCourseStaff, CourseScopedAdmin):
    """Site staff read every annotation here, including private ones and tombstones; course
    staff read their courses' shared ones (tombstones too). The text students wrote is not
    edited in the admin, and its moderation state changes only through the queue."""

    list_display = [
        "pk",
        "author",
        "course",
        "paragraph_anchor",
        "motivation",
        "visibility",
        "moderation",
        "created_at",
        "deleted_at",
    ]
    list_filter = [
        "visibility",
        "motivation",
        "moderation",
        "course",
        ("deleted_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["body", "exact", "author__username"]
    list_select_related = ["author", "course"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "course", "author", "group", "document", "paragraph", "paragraph_anchor", "claim", "exact", "prefix",
        "suffix", "start", "end", "body", "body_html", "imported_from", "created_at", "updated_at", "edited_at",
        "deleted_at", *MODERATION_FIELDS,
    ]  # fmt: skip
    fields = [*readonly_fields[:10], "motivation", "tags", "visibility", *readonly_fields[10:]]
    inlines = [ReplyInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Tag)
class TagAdmin(SiteStaffOnlyAdmin):
    search_fields = ["name"]


@admin.register(LinkProposal)
class LinkProposalAdmin(SiteStaffOnlyAdmin):
    """Read-mostly: decisions go through the course pages or the API, so the rules apply."""

    list_display = ["claim", "relation", "event", "course", "proposer", "status", "created_at"]
    list_filter = ["status", "relation", "course"]
    search_fields = ["claim__key", "event__key", "proposer__username", "note"]
    list_select_related = ["claim", "event", "course", "proposer"]
    raw_id_fields = ["claim", "event", "proposer", "decided_by"]
    readonly_fields = ["status", "decided_by", "decided_at", "created_at"]


@admin.register(EventProposal)
class EventProposalAdmin(SiteStaffOnlyAdmin):
    list_display = ["title", "date", "course", "proposer", "status", "event", "created_at"]
    list_filter = ["status", "type", "course"]
    search_fields = ["title", "proposer__username", "description"]
    list_select_related = ["course", "proposer", "event"]
    raw_id_fields = ["proposer", "source", "event", "decided_by"]
    readonly_fields = ["status", "decided_by", "decided_at", "event", "created_at"]


class ChallengeSourceInline(ParentScopedInline, admin.TabularInline):
    model = ChallengeSource
    extra = 0
    fields = ["source", "page", "quote", "url_fragment"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ChallengeResponseInline(ParentScopedInline, admin.TabularInline):
    model = ChallengeResponse
    extra = 0
    fields = ["author", "body", "created_at", "edited_at", "deleted_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Challenge)
class ChallengeAdmin(NotPrivateForCourseStaff, CourseScopedAdmin):
    """Site staff and course staff read challenges here; students' text and resolutions
    change in the app, where the version check applies, and moderation in the queue."""

    list_display = [
        "pk", "author", "course", "claim", "stance", "status", "visibility", "moderation", "created_at",
    ]  # fmt: skip
    list_filter = ["stance", "status", "visibility", "moderation", "course"]
    search_fields = ["argument", "author__username", "claim__key"]
    list_select_related = ["author", "course", "claim"]
    readonly_fields = [
        "course", "author", "group", "claim", "stance", "argument", "visibility", "status", "feedback",
        "resolved_by", "resolved_at", "version", "created_at", "updated_at", "edited_at", "deleted_at",
        *MODERATION_FIELDS,
    ]  # fmt: skip
    fields = readonly_fields
    inlines = [ChallengeSourceInline, ChallengeResponseInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Erratum)
class ErratumAdmin(SiteStaffOnlyAdmin):
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


@admin.register(Thread)
class ThreadAdmin(SiteStaffOnlyAdmin):
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
class PostAdmin(CourseScopedAdmin):
    """Posts are read here (tombstones too); moderation hides them from the queue, never
    rewrites them."""

    course_path = "thread__course"
    list_display = ["pk", "thread", "author", "moderation", "created_at", "edited_at", "deleted_at"]
    list_filter = ["moderation", "thread__course", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["body", "author__username"]
    list_select_related = ["thread", "author"]
    readonly_fields = [
        "thread", "parent", "author", "body", "body_html", "created_at", "updated_at", "edited_at", "deleted_at",
        *MODERATION_FIELDS,
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ExtensionInline(admin.TabularInline):
    model = Extension
    extra = 0
    fields = ["student", "due_at", "late_until", "reason", "granted_by", "created_at"]
    readonly_fields = ["granted_by", "created_at"]
    autocomplete_fields = ["student"]

    # Extensions follow their assignment: whoever may change it may grant them.
    def _parent_may(self, request: HttpRequest, obj: Assignment | None, change: bool = True) -> bool:
        parent = self.admin_site.get_model_admin(Assignment)
        return (
            parent.has_change_permission(request, obj) if change else parent.has_view_permission(request, obj)
        )

    def has_view_permission(self, request: HttpRequest, obj: Assignment | None = None) -> bool:
        return self._parent_may(request, obj, change=False)

    def has_add_permission(self, request: HttpRequest, obj: Assignment | None = None) -> bool:
        return self._parent_may(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Assignment | None = None) -> bool:
        return self._parent_may(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Assignment | None = None) -> bool:
        return self._parent_may(request, obj)

    def get_autocomplete_fields(self, request: HttpRequest) -> list[str]:
        # The people search is site staff's; course staff pick from their courses' members.
        return self.autocomplete_fields if request.user.is_superuser else []

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "student" and not request.user.is_superuser:
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(memberships__course__in=taught_course_ids(request, (Role.INSTRUCTOR,)))
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Assignment)
class AssignmentAdmin(CourseScopedAdmin):
    """Assignments, their extensions, and the release of their grades (grades themselves are
    changed one by one, below or in the app, where the version check applies). A course's
    instructors set its assignments here too; its TAs read them."""

    staff_change_roles = staff_add_roles = staff_delete_roles = (Role.INSTRUCTOR,)

    list_display = ["title", "course", "opens_at", "due_at", "late_until", "work_mode", "scoring", "released"]
    list_filter = ["course", "work_mode", "scoring", ("grades_released_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "course__title"]
    list_select_related = ["course"]
    filter_horizontal = ["sections"]
    autocomplete_fields = ["claims"]
    readonly_fields = ["grades_released_at", "grades_released_by", "created_by", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["course", "title", "instructions"]}),
        (_("Scope (none chosen: the whole reading)"), {"fields": ["sections", "claims"]}),
        (_("Dates"), {"fields": ["opens_at", "due_at", "late_until", "late_penalty"]}),
        (
            _("Requirements and scoring"),
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
        (_("Options"), {"fields": ["hide_peers_until_posted", "anonymous_to_peers"]}),
        (_("Record"), {"fields": readonly_fields}),
    ]
    inlines = [ExtensionInline]
    actions = ["release_grades", "withhold_grades"]

    def get_autocomplete_fields(self, request: HttpRequest) -> list[str]:
        # The claims search belongs to the records' admin, which is site staff's.
        return self.autocomplete_fields if request.user.is_superuser else []

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "course" and not request.user.is_superuser:
            kwargs["queryset"] = Course.objects.filter(pk__in=taught_course_ids(request, (Role.INSTRUCTOR,)))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("grades released"), boolean=True)
    def released(self, assignment: Assignment) -> bool:
        return assignment.grades_released

    def save_model(self, request: HttpRequest, obj: Assignment, form, change: bool) -> None:
        obj.instructions_html = render(obj.instructions)
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        assignment = form.instance
        for formset in formsets:
            # Extensions changed here are audited like those granted in the app.
            for extension in formset.new_objects + [obj for obj, _fields in formset.changed_objects]:
                Extension.objects.filter(pk=extension.pk).update(granted_by=request.user)
                assignment_services.audit_extension(
                    user=request.user, extension=extension, action="grading.extension"
                )
            for extension in formset.deleted_objects:
                assignment_services.audit_extension(
                    user=request.user,
                    extension=extension,
                    action="grading.extension_revoked",
                    assignment=assignment,
                )
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

    @admin.action(description=_("Release the grades to the students"))
    def release_grades(self, request: HttpRequest, queryset: QuerySet[Assignment]) -> None:
        self._each(request, queryset, assignment_services.grades_release, gettext("grades released."))

    @admin.action(description=_("Withhold the grades again"))
    def withhold_grades(self, request: HttpRequest, queryset: QuerySet[Assignment]) -> None:
        self._each(request, queryset, assignment_services.grades_withhold, gettext("grades withheld."))


def grade_state(score: object, version: int) -> str:
    """A grade's current score and version, told to a grader whose change came too late."""
    return gettext("Score: %(score)s, version %(version)s.") % {"score": score, "version": version}


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
            raise ValidationError(f"{assignment_services.CONFLICT} {grade_state(current[1], current[0])}")
        try:
            assignment_services.score_from(cleaned.get("score"), self.instance.assignment)
        except ValidationError as error:
            self.add_error("score", error.message_dict["score"])
        return cleaned


@admin.register(Grade)
class GradeAdmin(CourseScopedAdmin):
    """Grades, changed through the grading service: the score must fit the assignment and a
    grade changed by someone else since the page was opened is not overwritten. The course's
    TAs and instructors grade here too."""

    course_path = "assignment__course"
    staff_change_roles = TEACHING_ROLES

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
                f"{conflict.message} {grade_state(conflict.current.score, conflict.current.version)}",
            )
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))


# -- moderation: the review queue, flags and the audit log -----------------------------------------


class FlagReasonFilter(admin.SimpleListFilter):
    title = _("flag reason")
    parameter_name = "flag_reason"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(FlagReason.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in FlagReason.values:
            return queryset
        return queryset.filter(Exists(Flag.objects.filter(item=OuterRef("pk"), reason=self.value())))


class TargetStateFilter(admin.SimpleListFilter):
    title = _("state of the work")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(ModerationState.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in ModerationState.values:
            return queryset
        condition = Q()
        for kind in MODERATED_KINDS:
            condition |= Q(kind=kind, **{f"{kind}__moderation": self.value()})
        return queryset.filter(condition)


class FlagInline(ParentScopedInline, admin.TabularInline):
    model = Flag
    extra = 0
    fields = ["flagger", "reason", "text", "status", "created_at", "closed_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Flag]:
        return super().get_queryset(request).select_related("flagger")


class HideForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it hidden?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The authors read this reason, and so do the course's staff."),
    )


# The page between choosing "hide" and hiding: the reason, and the version of each item the
# moderator saw, so that an item someone else acted on meanwhile is reported, not overwritten.
HIDE_CONFIRMATION = "admin/annotations/moderationitem/hide_confirmation.html"


@admin.register(ModerationItem)
class ModerationItemAdmin(CourseScopedAdmin):
    """A course's review queue, most flagged and oldest first. Nothing is edited here: the
    acts are admin actions, done by ``moderate_many`` with the version of each item, so an
    item someone else acted on first is reported rather than overwritten."""

    list_display = [
        "kind", "author", "excerpt", "flag_count", "state", "status", "opened_at", "last_action", "course",
    ]  # fmt: skip
    list_filter = ["status", "kind", FlagReasonFilter, TargetStateFilter, "opened_at", "course"]
    search_fields = ["author__username"]
    list_select_related = ["author", "course", *MODERATED_KINDS]
    ordering = ["-flag_count", "opened_at", "pk"]
    readonly_fields = [
        "course", "kind", "annotation", "post", "challenge", "source", "author", "excerpt", "state", "status",
        "flag_count", "opened_at", "last_action", "last_action_by", "last_action_at", "version",
    ]  # fmt: skip
    fields = readonly_fields
    inlines = [FlagInline]
    actions = ["hide_items", "restore_items", "dismiss_flags", "mark_reviewed", "approve_items"]

    @admin.display(description=_("work"))
    def excerpt(self, item: ModerationItem) -> str:
        return item.excerpt(80)

    @admin.display(description=_("state"))
    def state(self, item: ModerationItem) -> str:
        return item.target.get_moderation_display()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        # The queue holds only the courses the user teaches; the service checks each item again.
        return self.has_view_permission(request)

    def _act(
        self,
        request: HttpRequest,
        acts: list[tuple[ModerationItem, int]],
        action: str,
        reason: str = "",
    ) -> None:
        done_as = dict(Action.choices)[action]
        for item, version in acts:
            label = gettext("%(kind)s %(id)s by %(author)s") % {
                "kind": item.get_kind_display(),
                "id": item.target_id,
                "author": item.author or gettext("(no author)"),
            }
            try:
                [outcome] = moderation_services.moderate_many(
                    user=request.user, acts=[(item, version)], action=action, reason=reason
                )
            except PermissionDenied as error:
                messages.error(request, f"{label}: {error}")
                continue
            if outcome.done:
                messages.success(
                    request, gettext("%(item)s: done (%(action)s).") % {"item": label, "action": done_as}
                )
            else:
                current = outcome.item
                now = ngettext(
                    "Now: %(status)s, %(count)s open flag, version %(version)s.",
                    "Now: %(status)s, %(count)s open flags, version %(version)s.",
                    current.flag_count,
                ) % {
                    "status": current.get_status_display(),
                    "count": GroupedCount(current.flag_count),
                    "version": current.version,
                }
                messages.error(request, f"{label}: {outcome.message} {now}")

    def _now(self, request: HttpRequest, queryset: QuerySet[ModerationItem], action: str) -> None:
        # The version is read as the action runs: the act is refused if the item moved since.
        self._act(request, [(item, item.version) for item in queryset.select_related("author")], action)

    @admin.action(description=_("Hide the selected work (asks for a reason)"), permissions=["moderate"])
    def hide_items(self, request: HttpRequest, queryset: QuerySet[ModerationItem]) -> TemplateResponse | None:
        items = list(queryset.select_related("author", *MODERATED_KINDS))
        form = HideForm(request.POST if request.POST.get("confirmed") else None)
        if form.is_valid():
            seen = {}
            for item in items:
                try:
                    seen[item.pk] = int(request.POST.get(f"version_{item.pk}", item.version))
                except ValueError:
                    seen[item.pk] = item.version
            self._act(
                request, [(item, seen[item.pk]) for item in items], Action.HIDE, form.cleaned_data["reason"]
            )
            return None
        for item in items:
            if request.POST.get(f"version_{item.pk}"):
                # Keep the versions first seen when the page comes back with an error.
                item.version = request.POST[f"version_{item.pk}"]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Hide the selected work"),
            "opts": self.model._meta,
            "items": items,
            "form": form,
            "checkbox_name": ACTION_CHECKBOX_NAME,
            "back": request.get_full_path(),
        }
        return TemplateResponse(request, HIDE_CONFIRMATION, context)

    @admin.action(description=_("Restore the selected hidden work"), permissions=["moderate"])
    def restore_items(self, request: HttpRequest, queryset: QuerySet[ModerationItem]) -> None:
        self._now(request, queryset, Action.RESTORE)

    @admin.action(description=_("Dismiss the flags (the work stays)"), permissions=["moderate"])
    def dismiss_flags(self, request: HttpRequest, queryset: QuerySet[ModerationItem]) -> None:
        self._now(request, queryset, Action.DISMISS)

    @admin.action(description=_("Mark reviewed"), permissions=["moderate"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[ModerationItem]) -> None:
        self._now(request, queryset, Action.REVIEW)

    @admin.action(description=_("Approve the selected work awaiting approval"), permissions=["moderate"])
    def approve_items(self, request: HttpRequest, queryset: QuerySet[ModerationItem]) -> None:
        self._now(request, queryset, Action.APPROVE)


@admin.register(Flag)
class FlagAdmin(CourseScopedAdmin):
    """Flags, read only: they are closed by the queue's acts."""

    course_path = "item__course"
    list_display = ["item", "flagger", "reason", "text", "status", "created_at", "closed_at"]
    list_filter = ["status", "reason", "item__course"]
    search_fields = ["flagger__username", "text"]
    list_select_related = ["item", "flagger"]
    readonly_fields = ["item", "flagger", "reason", "text", "status", "created_at", "closed_at"]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


AUDIT_CSV_HEADER = [
    "at", "actor", "course", "action", "target type", "target id", "target", "reason", "before", "after",
]  # fmt: skip


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_csv_rows(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    """The entries as CSV lines, with a byte-order mark first so spreadsheets read UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(AUDIT_CSV_HEADER)
    for entry in entries.select_related("course").iterator(chunk_size=500):
        yield writer.writerow(
            spreadsheet_safe(value)
            for value in (
                entry.at.isoformat(),
                entry.actor_name,
                entry.course.title if entry.course else "",
                entry.action,
                entry.target_type,
                entry.target_id,
                entry.target_label,
                entry.reason,
                json.dumps(entry.before, ensure_ascii=False, sort_keys=True),
                json.dumps(entry.after, ensure_ascii=False, sort_keys=True),
            )
        )


AUDIT_CHANGELIST = "admin/annotations/auditentry/change_list.html"


@admin.register(AuditEntry)
class AuditEntryAdmin(CourseScopedAdmin):
    """The audit log: read and filtered here, exported as CSV, never added to, changed or
    deleted (the model and, on PostgreSQL, a trigger refuse too). Course staff read their
    courses' entries; entries outside any course are site staff's."""

    list_display = [
        "at",
        "actor_name",
        "course",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "reason",
    ]
    list_filter = ["action", "course", "actor"]
    search_fields = ["actor_name", "target_label", "reason"]
    list_select_related = ["course"]
    date_hierarchy = "at"
    fields = [
        "at", "actor", "actor_name", "course", "action", "target_type", "target_id", "target_label", "reason",
        "before", "after",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["export_csv"]
    change_list_template = AUDIT_CHANGELIST

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list:
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="annotations_auditentry_export",
        )
        return [export, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        query = request.GET.urlencode()
        export_url = reverse("admin:annotations_auditentry_export") + (f"?{query}" if query else "")
        return super().changelist_view(request, {**(extra_context or {}), "export_url": export_url})

    def _csv(self, entries: QuerySet[AuditEntry]) -> StreamingHttpResponse:
        response = StreamingHttpResponse(audit_csv_rows(entries), content_type="text/csv; charset=utf-8")
        filename = f"audit-{timezone.now():%Y%m%d-%H%M}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The entries the changelist shows with the same filters and search, all pages."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            # The changelist explains a filter it cannot read; the export follows it there.
            return HttpResponseRedirect(reverse("admin:annotations_auditentry_changelist") + "?e=1")
        return self._csv(changelist.queryset)

    @admin.action(description=_("Export the selected entries as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> StreamingHttpResponse:
        return self._csv(queryset)


class AccountAdmin(DjangoUserAdmin):
    """Django's accounts admin, with anonymisation on a person's request (site staff only)."""

    actions = [*(DjangoUserAdmin.actions or []), "anonymise"]

    def has_anonymise_permission(self, request: HttpRequest) -> bool:
        return can_anonymise_user(request.user)

    @admin.action(
        description=_("Anonymise the selected accounts (keeps their work)"), permissions=["anonymise"]
    )
    def anonymise(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for user in queryset:
            try:
                user_anonymise(actor=request.user, user=user)
            except (PermissionDenied, ValidationError) as error:
                self.message_user(
                    request, f"{user}: {' '.join(getattr(error, 'messages', [str(error)]))}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("Anonymised %(count)s account(s).", "Anonymised %(count)s account(s).", done)
                % {"count": GroupedCount(done)},
                messages.SUCCESS,
            )


if admin.site.is_registered(get_user_model()):
    admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), AccountAdmin)
