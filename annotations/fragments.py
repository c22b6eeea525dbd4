"""Rendered pieces of pages — the reading's paragraphs and notes, a thread's posts, a claim's
challenges and its new-challenge form, a course's claims list and its filters, the class
table's lines, the review queue's lines — kept in the cache under a digest of everything
they show.

Rendering them is most of those pages' cost. Each piece's HTML is a pure function of its
rows (the work, its author's name, its group, claim, tags, counts, sources, replies), the
templates, the language and time zone, and the reader's standing towards it (its author or
not, the course's staff or not): the cache key is a digest of exactly those inputs
(``note_inputs``, ``post_inputs``, ``challenge_inputs``). So nothing is ever invalidated by
hand — an edit, a reply, a moderation or a new helpful mark simply makes a new key — and no
reader is ever shown what was rendered for a reader who may see more.

The one per-request value in them, the CSRF token of their forms, is rendered as an
unguessable slot and put in on the way out: a cached piece holds no one's token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import cache

import django
from django.core.cache import cache as fragment_cache
from django.db import connections
from django.db.models import Model
from django.forms import ModelChoiceField
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

NOTE_TEMPLATE = "annotations/annotate/_note.html"
PARAGRAPH_TEMPLATE = "annotations/annotate/_paragraph.html"
POST_TEMPLATE = "annotations/threads/_post.html"
CLASS_ROW_TEMPLATE = "annotations/assignments/_class_row.html"
QUEUE_ROW_TEMPLATE = "annotations/moderation/_queue_row.html"
CHALLENGE_TEMPLATE = "annotations/challenges/_challenge.html"
NEW_CHALLENGE_TEMPLATE = "annotations/challenges/_new_challenge.html"
CLAIM_FILTERS_TEMPLATE = "annotations/challenges/_claim_filters.html"
CLAIM_CARD_TEMPLATE = "annotations/challenges/_claim_card.html"
# Every template each fragment may render: a change to any of them makes new keys.
TEMPLATES = {
    NOTE_TEMPLATE: (
        NOTE_TEMPLATE,
        "annotations/annotate/_replies.html",
        "annotations/moderation/_state.html",
        "annotations/moderation/_controls.html",
    ),
    PARAGRAPH_TEMPLATE: (PARAGRAPH_TEMPLATE, "annotations/annotate/_new_note_fields.html"),
    POST_TEMPLATE: (
        POST_TEMPLATE,
        "annotations/threads/_helpful.html",
        "annotations/moderation/_state.html",
        "annotations/moderation/_controls.html",
    ),
    CLASS_ROW_TEMPLATE: (CLASS_ROW_TEMPLATE,),
    QUEUE_ROW_TEMPLATE: (QUEUE_ROW_TEMPLATE,),
    CHALLENGE_TEMPLATE: (
        CHALLENGE_TEMPLATE,
        "annotations/moderation/_state.html",
        "annotations/moderation/_controls.html",
    ),
    NEW_CHALLENGE_TEMPLATE: (NEW_CHALLENGE_TEMPLATE, "includes/form_errors.html", "includes/field.html"),
    CLAIM_FILTERS_TEMPLATE: (CLAIM_FILTERS_TEMPLATE, "includes/field.html"),
    CLAIM_CARD_TEMPLATE: (CLAIM_CARD_TEMPLATE,),
}
# Long enough to serve a week of classes; the cache's own limits evict the unused first.
TIMEOUT = 7 * 24 * 3600
# Fields that no fragment shows and that would only make keys longer.
SKIPPED_FIELDS = {"search_vector"}


@cache
def _templates_digest(template: str) -> str:
    sources = [get_template(name).template.source for name in TEMPLATES[template]]
    return hashlib.sha256("\x00".join(sources).encode()).hexdigest()


@cache
def csrf_slot() -> str:
    """What stands for the CSRF token in a cached fragment: derived from SECRET_KEY, so no
    one can write it into a note's text for it to be replaced."""
    return "csrf-" + salted_hmac("annotations.fragments.csrf", "slot").hexdigest()[:32]


def _row(instance: Model | None) -> tuple:
    if instance is None:
        return ()
    return tuple(
        getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.name not in SKIPPED_FIELDS
    )


def _person(user) -> tuple:
    return (user.pk, user.get_username(), user.get_full_name()) if user is not None else ()


def _common(template: str) -> tuple:
    # Django's version too: its form widgets' templates are part of what a form renders.
    return (
        template,
        _templates_digest(template),
        django.get_version(),
        get_language(),
        timezone.get_current_timezone_name(),
    )


def note_inputs(placed, *, user, can_teach: bool, notes_url: str, replies_shown: int) -> tuple:
    """Everything a compact note of the reading depends on."""
    note = placed.annotation
    replies = getattr(note, "first_replies", [])
    return (
        note.author_id == user.pk,
        can_teach,
        notes_url,
        replies_shown,
        placed.anchor.status,
        _row(note),
        _person(note.author),
        note.group.name if note.group_id else "",
        (note.claim.key, note.claim.get_absolute_url()) if note.claim_id else (),
        tuple(tag.name for tag in note.tags.all()),
        getattr(note, "helpful_count", None),
        getattr(note, "reply_count", None),
        tuple((_row(reply), _person(reply.author), reply.author_id == user.pk) for reply in replies),
    )


def post_inputs(post, *, request, thread, can_moderate: bool) -> tuple:
    """Everything a post of a thread's page depends on (its replies are not in it)."""
    return (
        post.author_id == request.user.pk,
        request.user.is_authenticated,
        can_moderate,
        request.get_full_path(),  # where its moderation forms return to
        (thread.pk, thread.course_id, thread.locked),
        _row(post),
        _person(post.author),
        getattr(post, "helpful_count", None),
    )


def challenge_inputs(challenge, *, request, course_id: int, can_teach: bool, member: bool) -> tuple:
    """Everything a challenge on a claim's page depends on."""
    return (
        challenge.author_id == request.user.pk,
        request.user.is_authenticated,
        can_teach,
        member,
        course_id,
        request.get_full_path(),  # where its moderation forms return to
        _row(challenge),
        _person(challenge.author),
        challenge.group.name if challenge.group_id else "",
        _person(challenge.resolved_by) if challenge.resolved_by_id else (),
        tuple((_row(citation), _row(citation.source)) for citation in challenge.citations.all()),
        tuple((_row(response), _person(response.author)) for response in challenge.responses.all()),
    )


def _key(common: tuple, inputs: tuple) -> str:
    return "fragment:" + hashlib.sha256(repr((common, inputs)).encode()).hexdigest()


def render_each(
    request,
    items: list,
    *,
    template: str,
    inputs: Callable,
    context: Callable,
    cached: bool = True,
    with_token: bool = True,
) -> list[SafeString]:
    """Each of ``items`` rendered with ``template``: from the cache when it holds the item
    as this reader would see it (``inputs(item)`` says what that depends on besides the
    templates, the language and the time zone), else
    rendered with ``context(item)`` and kept. One cache round trip for the hits, one for
    the misses; the reader's CSRF token put in on the way out (not ``with_token``: left as
    the slot, for pieces that go inside a larger cached piece). Not ``cached``: all rendered
    afresh and nothing kept (a page shown again with a form's errors in it)."""
    if not items:
        return []
    common = _common(template)  # the template, its version, the language and the time zone
    keys = [_key(common, inputs(item)) for item in items] if cached else [None] * len(items)
    found = fragment_cache.get_many(keys) if cached else {}
    engine_template = get_template(template)
    missed = {}
    slot, token = csrf_slot(), None
    out = []
    for item, key in zip(items, keys, strict=True):
        html = found.get(key)
        if html is None:
            html = str(engine_template.render({**context(item), "csrf_token": slot}))
            if cached:
                missed[key] = html
        if with_token and slot in html:
            # Asked for only where a form needs it: asking sets the CSRF cookie.
            token = token or get_token(request)
            html = _with_token(html, token)
        out.append(mark_safe(html))  # rendered by the template engine
    if missed:
        fragment_cache.set_many(missed, timeout=TIMEOUT)
    return out


def render_notes(request, placed_notes: Iterable, context: dict) -> None:
    """Set ``html`` on each of the reading's ``placed_notes`` (``context`` is the page's),
    with the CSRF slot still in it: the notes go inside their paragraph's piece."""
    placed_notes = list(placed_notes)
    user, can_teach = request.user, context["can_teach"]

    def notes_url(placed) -> str:
        return context["notes_urls"][placed.annotation.paragraph_anchor]

    rendered = render_each(
        request,
        placed_notes,
        template=NOTE_TEMPLATE,
        inputs=lambda placed: note_inputs(
            placed,
            user=user,
            can_teach=can_teach,
            notes_url=notes_url(placed),
            replies_shown=context["replies_shown"],
        ),
        context=lambda placed: {**context, "user": user, "placed": placed, "notes_url": notes_url(placed)},
        with_token=False,
    )
    for placed, html in zip(placed_notes, rendered, strict=True):
        placed.html = html


def paragraph_inputs(item, *, course_id: int, note_count_cap: int) -> tuple:
    """Everything a paragraph of the reading depends on: its text as highlighted for this
    reader, its notes as rendered for this reader (with the CSRF slot), how many more there
    are, and the new note's fields (none for a reader who may not annotate)."""
    paragraph = item.paragraph
    return (
        course_id,
        note_count_cap,
        (paragraph.pk, paragraph.anchor, paragraph.order),
        str(item.html),
        tuple(str(placed.html) for placed in item.notes),
        item.note_total,
        str(item.form_fields_html),
    )


def render_paragraphs(request, items: list, context: dict) -> None:
    """Set ``rendered`` on each of the reading's paragraph blocks (``context`` is the page's),
    after ``render_notes``. A page shown again with a new note's errors renders afresh."""
    course_id, cap = context["course"].pk, context["note_count_cap"]
    rendered = render_each(
        request,
        items,
        template=PARAGRAPH_TEMPLATE,
        inputs=lambda item: paragraph_inputs(item, course_id=course_id, note_count_cap=cap),
        context=lambda item: {**context, "item": item},
        cached=not context.get("failed_anchor"),
    )
    for item, html in zip(items, rendered, strict=True):
        item.rendered = html


def render_posts(request, posts: list, context: dict) -> None:
    """Set ``html`` on each of a thread page's ``posts`` (``context`` is the page's)."""
    thread, can_moderate = context["thread"], context["can_moderate"]
    rendered = render_each(
        request,
        posts,
        template=POST_TEMPLATE,
        inputs=lambda post: post_inputs(post, request=request, thread=thread, can_moderate=can_moderate),
        context=lambda post: {**context, "user": request.user, "request": request, "post": post},
    )
    for post, html in zip(posts, rendered, strict=True):
        post.html = html


def render_class_rows(request, rows: list) -> list[SafeString]:
    """The class table's lines: each ``ClassRow`` holds every value it prints, ready."""
    return render_each(
        request,
        rows,
        template=CLASS_ROW_TEMPLATE,
        inputs=repr,
        context=lambda row: {"row": row},
    )


def render_queue_rows(request, rows: list) -> list[SafeString]:
    """The review queue's lines: each ``QueueRow`` holds every value it prints, ready, and
    nothing of its reader's (the course's staff all read the same)."""
    return render_each(
        request, rows, template=QUEUE_ROW_TEMPLATE, inputs=repr, context=lambda row: {"item": row}
    )


def render_challenges(request, challenges: list, context: dict) -> None:
    """Set ``html`` on each challenge of a claim's page (``context`` is the page's)."""
    course_id, can_teach, member = context["course"].pk, context["can_teach"], context["member"]
    rendered = render_each(
        request,
        challenges,
        template=CHALLENGE_TEMPLATE,
        inputs=lambda challenge: challenge_inputs(
            challenge, request=request, course_id=course_id, can_teach=can_teach, member=member
        ),
        context=lambda challenge: {
            **context,
            "user": request.user,
            "request": request,
            "challenge": challenge,
        },
        cached=not context.get("failed"),
    )
    for challenge, html in zip(challenges, rendered, strict=True):
        challenge.html = html


def render_new_challenge(request, context: dict, choices: tuple, form: Callable) -> SafeString:
    """The form for a new challenge on a claim's page (``context`` is the page's): the same for
    every member of the course but for the sources they may cite (``choices``, the source
    select's options), so kept once for all of them. ``form()`` makes the blank form when it
    is to be rendered; a form shown again with its errors (``context["form"]``) renders afresh."""
    refused = context.get("form")
    (html,) = render_each(
        request,
        [refused],
        template=NEW_CHALLENGE_TEMPLATE,
        inputs=lambda _: (context["course"].pk, context["claim"].key, choices),
        context=lambda _: {**context, "form": refused or form()},
        cached=refused is None,
    )
    return html


def render_claim_cards(request, course, rows: list) -> list[SafeString]:
    """A course's claims list: each ``(claim, evidence)`` as a card, keyed by the claim, its
    place in the reading and its evidence status in the course."""

    def inputs(row) -> tuple:
        claim, evidence = row
        paragraph = claim.paragraph
        section = paragraph.section.title if paragraph.section_id else ""
        return (
            course.pk,
            _row(claim),
            str(evidence.status),
            paragraph.document.slug,
            paragraph.anchor,
            paragraph.order,
            section,
        )

    return render_each(
        request,
        rows,
        template=CLAIM_CARD_TEMPLATE,
        inputs=inputs,
        context=lambda row: {"course": course, "claim": row[0], "evidence": row[1]},
    )


def form_inputs(form) -> tuple:
    """Everything a form renders: each field's name, label, help, widget and its options
    (read afresh, or a digest of the rows they are drawn from: a new section or source is a
    new option), and the value it shows."""
    digests = _option_digests(form)
    return tuple(
        (
            name,
            str(field.label),
            str(field.help_text),
            type(field.widget).__name__,
            repr(field.widget.attrs),
            digests.get(name) or _options(field),
            repr(form[name].value()),
        )
        for name, field in form.fields.items()
    )


def _options(field) -> tuple:
    """A field's options as it renders them (none for a field without a choice)."""
    if not hasattr(field, "choices"):
        return ()
    return tuple((str(value), str(label)) for value, label in field.choices)


def _option_digests(form) -> dict[str, tuple]:
    """PostgreSQL: for each field of ``form`` whose options are rows of a table (a section,
    an actor, an event, a source), a digest of every column of those rows, all in one query.
    Each option's value and label come from its own row (its key, its title, name or
    citation), so a new, edited or removed row is a new digest, without building the rows
    and their labels (four queries and 11 ms for the claims' filters at each request).
    Elsewhere, and for other fields, the options themselves (``form_inputs``)."""
    fields = {
        name: field.queryset for name, field in form.fields.items() if isinstance(field, ModelChoiceField)
    }
    aliases = {queryset.db for queryset in fields.values()}
    if len(aliases) != 1 or connections[alias := aliases.pop()].vendor != "postgresql":
        return {}
    parts, params = [], []
    for queryset in fields.values():
        sql, part_params = queryset.query.sql_with_params()
        parts.append(f"(SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM ({sql}) AS t)")
        params.extend(part_params)
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        digests = cursor.fetchone()
    return {
        name: (queryset.model._meta.label, str(form.fields[name].empty_label), digest)
        for (name, queryset), digest in zip(fields.items(), digests, strict=True)
    }


def render_filters(request, template: str, context: dict, forms: list) -> SafeString:
    """A page's filter ``forms`` rendered with ``template``: from the cache when they show the
    same options and values; forms with errors are rendered afresh and not kept."""
    valid = all(not form.is_bound or form.is_valid() for form in forms)
    (html,) = render_each(
        request,
        [forms],
        template=template,
        inputs=lambda _: tuple(form_inputs(form) for form in forms),
        context=lambda _: context,
        cached=valid,
    )
    return html


def _with_token(html: str, token: str) -> SafeString:
    # The slot is letters and digits, the token too: nothing in the HTML needs escaping.
    return mark_safe(str(html).replace(csrf_slot(), token))  # rendered by the template engine
