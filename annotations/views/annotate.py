"""The reading inside a course: annotating, replying, editing and deleting.

Every page here works as plain forms; the selection script only fills in the quote and
its offsets. Objects the user may not see are 404s; acts they may not do are 403s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import strip_spaces_between_tags
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_POST

from annotations import fragments, permissions, selectors
from annotations.anchoring import Anchor, anchor
from annotations.forms import AnnotationEditForm, AnnotationForm, ReplyForm, add_service_errors
from annotations.highlight import Highlight, blocks_by_section, paragraph_html
from annotations.models import Annotation, AnnotationReply, Course, Paragraph
from annotations.models.annotation import Visibility
from annotations.services import annotations as services
from annotations.services.threads import reaction_toggle


@dataclass
class Placed:
    """An annotation with where its quote is found today."""

    annotation: Annotation
    anchor: Anchor
    # The note as the reading shows it, when the page renders it ahead (``fragments``).
    html: str = ""


# The reading shows at most this many notes on a paragraph (and replies on a note); the rest
# are a link away. Notes are counted up to NOTE_COUNT_CAP: past it the page says "more than".
NOTES_PER_PARAGRAPH = 3
NOTE_COUNT_CAP = 50
# The paragraph's own page lists this many notes to a page.
NOTES_PER_PAGE = 50


@dataclass
class ParagraphBlock:
    paragraph: Paragraph
    html: str = ""
    notes: list[Placed] = field(default_factory=list)
    form: AnnotationForm | None = None
    form_fields_html: str = ""
    note_total: int = 0
    # The whole block as the page shows it (``fragments.render_paragraphs``).
    rendered: str = ""

    @property
    def more_notes(self) -> int:
        return self.note_total - len(self.notes)

    @property
    def counted_past_cap(self) -> bool:
        return self.note_total > NOTE_COUNT_CAP


# A new note's fields are the same for everyone on a paragraph (bar the default visibility),
# and rendering ninety forms' widgets is most of the page's cost: each is rendered once per
# process and kept, keyed by everything it shows.
_NEW_NOTE_FIELDS: dict[tuple, str] = {}


def _new_note_fields(paragraph: Paragraph, claims: list, visibility: str) -> str:
    key = (
        paragraph.pk,
        paragraph.anchor,
        tuple((claim.key, claim.paraphrase) for claim in claims),
        visibility,
        get_language(),
    )
    html = _NEW_NOTE_FIELDS.get(key)
    if html is None:
        if len(_NEW_NOTE_FIELDS) >= 4096:
            _NEW_NOTE_FIELDS.clear()
        form = AnnotationForm(paragraph=paragraph, initial={"visibility": visibility})
        form.fields["claim"].choices = _claim_choices(claims)
        # Rendered once and sent on every paragraph: the whitespace between tags is dropped.
        fields = render_to_string("annotations/annotate/_new_note_fields.html", {"form": form})
        html = mark_safe(strip_spaces_between_tags(fields))  # a rendered template: escaped already
        _NEW_NOTE_FIELDS[key] = html
    return html


def _claim_choices(claims: list) -> list[tuple[str, str]]:
    # The claims are prefetched: list them without asking the database again.
    return [("", "—")] + [(claim.key, f"{claim.key}: {claim.paraphrase}") for claim in claims]


def _place(annotations: list[Annotation]) -> tuple[dict[int, list[Placed]], list[Placed]]:
    """Annotations by paragraph, re-anchored by quote; those whose quote is gone apart."""
    by_paragraph: dict[int, list[Placed]] = {}
    orphans: list[Placed] = []
    for annotation in annotations:
        paragraph = annotation.paragraph
        found = anchor(
            paragraph.text if paragraph else None,
            exact=annotation.exact,
            prefix=annotation.prefix,
            suffix=annotation.suffix,
            start=annotation.start,
            end=annotation.end,
        )
        placed = Placed(annotation, found)
        if found.orphaned:
            orphans.append(placed)
        else:
            by_paragraph.setdefault(paragraph.pk, []).append(placed)
    return by_paragraph, orphans


def _reading_context(
    request: HttpRequest, course: Course, *, failed: tuple[str, AnnotationForm] | None = None
) -> dict:
    document = selectors.document_for_reading(course.reading.slug, document=course.reading)
    paragraphs = list(document.paragraphs.all())
    shown, totals = selectors.reading_notes(
        request.user,
        course,
        paragraphs=paragraphs,
        per_paragraph=NOTES_PER_PARAGRAPH,
        count_up_to=NOTE_COUNT_CAP,
    )
    by_paragraph, orphans = _place(shown)
    membership = permissions.membership_of(request.user, course)
    default_visibility = Visibility.GROUP if membership and membership.group_id else Visibility.PRIVATE
    can_annotate = permissions.can_annotate(request.user, course)
    sections = list(document.sections.all())

    def block_for(paragraph: Paragraph) -> ParagraphBlock:
        notes = sorted(
            by_paragraph.get(paragraph.pk, []), key=lambda p: (p.anchor.start, p.annotation.created_at)
        )
        highlights = [
            Highlight(p.anchor.start, p.anchor.end, p.annotation.pk)
            for p in notes
            if not p.annotation.is_deleted
        ]
        claims = list(paragraph.claims.all())
        block = ParagraphBlock(
            paragraph,
            paragraph_html(paragraph.text, claims, highlights),
            notes,
            note_total=totals.get(paragraph.anchor, 0),
        )
        if can_annotate:
            if failed and failed[0] == paragraph.anchor:
                block.form = failed[1]
                block.form.fields["claim"].choices = _claim_choices(claims)
            else:
                block.form_fields_html = _new_note_fields(paragraph, claims, default_visibility)
        return block

    context = {
        "nav": "courses",
        "course": course,
        "document": document,
        "sections": sections,
        "blocks": blocks_by_section(sections, paragraphs, block_for),
        "orphans": orphans,
        "membership": membership,
        "can_teach": permissions.can_teach(request.user, course),
        "note_count": sum(min(total, NOTE_COUNT_CAP) for total in totals.values()),
        "note_count_capped": any(total > NOTE_COUNT_CAP for total in totals.values()),
        "compact": True,
        "note_count_cap": NOTE_COUNT_CAP,
        "replies_shown": NOTES_PER_PARAGRAPH,
        "notes_urls": {
            paragraph.anchor: reverse("annotate:paragraph-notes", args=[course.pk, paragraph.anchor])
            for paragraph in paragraphs
        },
        # The paragraph whose new note was refused, shown again open with its errors.
        "failed_anchor": failed[0] if failed else None,
    }
    items = [item for block in context["blocks"] for item in block["paragraphs"]]
    fragments.render_notes(request, (placed for item in items for placed in item.notes), context)
    fragments.render_paragraphs(request, items, context)
    return context


@login_required
def course_reading(request: HttpRequest, pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    return render(request, "annotations/annotate/reading.html", _reading_context(request, course))


@login_required
def paragraph_notes(request: HttpRequest, pk: int, anchor: str) -> HttpResponse:
    """Every note the user may see on one paragraph of the course's reading, 50 to a page."""
    course = selectors.course_for_user(request.user, pk)
    paragraph = get_object_or_404(
        Paragraph.objects.prefetch_related("claims"), document_id=course.reading_id, anchor=anchor
    )
    number = request.GET.get("page")
    if request.GET.get("note"):
        # A link to one note (from the reading, or after replying) opens the page that holds it.
        position = selectors.paragraph_note_position(request.user, course, anchor, request.GET["note"])
        if position is not None:
            number = position // NOTES_PER_PAGE + 1
    page = Paginator(selectors.paragraph_notes(request.user, course, anchor), NOTES_PER_PAGE).get_page(number)
    by_paragraph, orphans = _place(list(page.object_list))
    notes = by_paragraph.get(paragraph.pk, [])
    highlights = [
        Highlight(p.anchor.start, p.anchor.end, p.annotation.pk) for p in notes if not p.annotation.is_deleted
    ]
    return render(
        request,
        "annotations/annotate/paragraph_notes.html",
        {
            "nav": "courses",
            "course": course,
            "paragraph": paragraph,
            "paragraph_html": paragraph_html(paragraph.text, list(paragraph.claims.all()), highlights),
            "notes": notes,
            "orphans": orphans,
            "page": page,
            "can_teach": permissions.can_teach(request.user, course),
        },
    )


@login_required
@require_POST
def annotation_create(request: HttpRequest, pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    paragraph = get_object_or_404(
        Paragraph, document_id=course.reading_id, anchor=request.POST.get("paragraph", "")
    )
    form = AnnotationForm(request.POST, paragraph=paragraph)
    if form.is_valid():
        data = form.cleaned_data
        try:
            annotation = services.annotation_create(
                user=request.user,
                course=course,
                paragraph=paragraph,
                exact=data["exact"],
                start=data["start"],
                end=data["end"],
                claim=data["claim"],
                motivation=data["motivation"],
                tags=data["tags"],
                body=data["body"],
                visibility=data["visibility"],
            )
        except ValidationError as error:
            add_service_errors(form, error, aliases={"start": "exact", "end": "exact"})
        else:
            messages.success(request, gettext("Your annotation is saved."))
            return redirect(annotation.get_absolute_url())
    context = _reading_context(request, course, failed=(paragraph.anchor, form))
    return render(request, "annotations/annotate/reading.html", context, status=400)


def _with_replies_url(annotation: Annotation) -> str:
    """The note on its paragraph's page, where every reply to it is shown."""
    url = reverse(
        "annotate:paragraph-notes", kwargs={"pk": annotation.course_id, "anchor": annotation.paragraph_anchor}
    )
    return f"{url}?note={annotation.pk}#a-{annotation.pk}"


def _own_annotation(request: HttpRequest, pk: int) -> Annotation:
    annotation = selectors.annotation_for_user(request.user, pk)
    if not permissions.can_change_annotation(request.user, annotation):
        raise PermissionDenied(services.NOT_YOURS)
    return annotation


@login_required
def annotation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    annotation = _own_annotation(request, pk)
    initial = {
        "motivation": annotation.motivation,
        "tags": [t.name for t in annotation.tags.all()],
        "body": annotation.body,
        "visibility": annotation.visibility,
    }
    form = AnnotationEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.annotation_update(user=request.user, annotation=annotation, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, aliases={"start": "exact", "end": "exact"})
        else:
            messages.success(request, gettext("Your annotation is updated."))
            return redirect(annotation.get_absolute_url())
    status = 400 if form.errors else 200
    return render(
        request,
        "annotations/annotate/edit.html",
        {"annotation": annotation, "form": form, "nav": "courses"},
        status=status,
    )


@login_required
def annotation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    annotation = _own_annotation(request, pk)
    if request.method == "POST":
        services.annotation_delete(user=request.user, annotation=annotation)
        messages.success(request, gettext("Your annotation is deleted. Replies to it stay in the thread."))
        return redirect(
            reverse("annotate:reading", kwargs={"pk": annotation.course_id})
            + f"#{annotation.paragraph_anchor}"
        )
    return render(request, "annotations/annotate/delete.html", {"annotation": annotation, "nav": "courses"})


@login_required
@require_POST
def annotation_helpful(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a note helpful, or take the mark back; once per member."""
    annotation = selectors.annotation_for_user(request.user, pk)
    if permissions.membership_of(request.user, annotation.course_id) is None:
        raise PermissionDenied("Only members of the course mark notes helpful.")
    reaction_toggle(user=request.user, annotation=annotation)
    return redirect(annotation.get_absolute_url())


@login_required
@require_POST
def reply_create(request: HttpRequest, pk: int) -> HttpResponse:
    annotation = selectors.annotation_for_user(request.user, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.reply_create(user=request.user, annotation=annotation, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error, aliases={"start": "exact", "end": "exact"})
        else:
            messages.success(request, gettext("Your reply is posted."))
            return redirect(_with_replies_url(annotation))
    return render(
        request,
        "annotations/annotate/reply.html",
        {"annotation": annotation, "form": form, "nav": "courses"},
        status=400,
    )


def _own_reply(request: HttpRequest, pk: int) -> AnnotationReply:
    reply = selectors.visible_replies(request.user).select_related("annotation").filter(pk=pk).first()
    if reply is None or reply.deleted_at is not None:
        raise Http404("No such reply.")
    if not permissions.can_change_reply(request.user, reply):
        raise PermissionDenied(services.NOT_YOURS)
    return reply


@login_required
def reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _own_reply(request, pk)
    form = ReplyForm(request.POST or None, initial={"body": reply.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.reply_update(user=request.user, reply=reply, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error, aliases={"start": "exact", "end": "exact"})
        else:
            messages.success(request, gettext("Your reply is updated."))
            return redirect(_with_replies_url(reply.annotation))
    status = 400 if form.errors else 200
    return render(
        request,
        "annotations/annotate/reply.html",
        {"annotation": reply.annotation, "reply": reply, "form": form, "nav": "courses"},
        status=status,
    )


@login_required
def reply_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _own_reply(request, pk)
    if request.method == "POST":
        services.reply_delete(user=request.user, reply=reply)
        messages.success(request, gettext("Your reply is deleted."))
        return redirect(_with_replies_url(reply.annotation))
    return render(request, "annotations/annotate/delete.html", {"reply": reply, "nav": "courses"})
