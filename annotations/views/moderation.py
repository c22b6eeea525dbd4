"""Moderation pages: flagging work, staff acts in place, the review queue, pre-moderation.

Every write goes through ``annotations.services.moderation``; these views only read forms,
look the work up (a missing and a forbidden piece are the same 404) and report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_noop, ngettext
from django.views.decorators.http import require_POST

from annotations import fragments, permissions, selectors
from annotations.forms import FlagForm, HideForm, PremoderationForm, QueueFilterForm
from annotations.models import Annotation, Challenge, Course, Membership, Post, Source
from annotations.models.courses import Role
from annotations.models.moderated import ModerationState
from annotations.models.moderation import (
    MODERATED_KINDS,
    Action,
    Flag,
    FlagReason,
    FlagStatus,
    ItemStatus,
    ModerationItem,
)
from annotations.services import moderation as services
from annotations.templatetags.numbers import GroupedCount

MODELS = {"annotation": Annotation, "post": Post, "challenge": Challenge, "source": Source}
FLAGGED = gettext_noop("Thank you: the course's staff will review it.")
QUEUE_PAGE_SIZE = 50

# What a line of the queue reads of an item, and of each kind of work (its state and excerpt).
ITEM_FIELDS = (
    "kind",
    *[f"{kind}_id" for kind in MODERATED_KINDS],
    "author_id",
    "flag_count",
    "opened_at",
    "last_action",
    "last_action_by_id",
    "version",
)
WORK_FIELDS = {
    "annotation": ("moderation", "body", "exact"),
    "post": ("moderation", "body"),
    "challenge": ("moderation", "argument"),
    "source": ("moderation", "title", "key"),
}


def _back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Back to where the work was shown, if ``next`` is a page of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)


def _work(request: HttpRequest, course: Course, kind: str, work_id: int) -> Any:
    """The piece of work of ``course`` the user may see, else 404."""
    if kind not in MODELS:
        raise Http404("No such work.")
    work = MODELS[kind].objects.filter(pk=work_id).first()
    if work is None:
        raise Http404("No such work.")
    owner = services.course_of(work)
    if owner is None or owner.pk != course.pk or not permissions.can_view_work(request.user, work):
        raise Http404("No such work.")
    return work


def _staff_course(request: HttpRequest, pk: int) -> Course:
    """A course the user moderates: 404 if they cannot see it, 403 if they only study in it."""
    course = selectors.course_for_user(request.user, pk)
    if not permissions.can_moderate(request.user, course):
        raise PermissionDenied(services.NOT_STAFF)
    return course


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


# -- flagging --------------------------------------------------------------------------------


@login_required
@require_POST
def flag(request: HttpRequest, pk: int, kind: str, work_id: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    work = _work(request, course, kind, work_id)
    form = FlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a reason for the flag."))
        return _back(request, course.get_absolute_url())
    try:
        services.flag_create(
            user=request.user, target=work, reason=form.cleaned_data["reason"], text=form.cleaned_data["text"]
        )
    except ValidationError as error:
        messages.error(request, gettext("Not flagged: %(errors)s") % {"errors": _errors(error)})
    except PermissionDenied:
        raise Http404("No such work.") from None
    else:
        messages.success(request, gettext(FLAGGED))
    return _back(request, course.get_absolute_url())


# -- staff acts in place ----------------------------------------------------------------------


@login_required
@require_POST
def hide(request: HttpRequest, pk: int, kind: str, work_id: int) -> HttpResponse:
    course = _staff_course(request, pk)
    work = _work(request, course, kind, work_id)
    form = HideForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Not hidden: %(errors)s") % {"errors": services.NEEDS_REASON})
        return _back(request, course.get_absolute_url())
    try:
        services.hide(user=request.user, target=work, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, gettext("Not hidden: %(errors)s") % {"errors": _errors(error)})
    else:
        messages.success(request, gettext("Hidden. Its author and the course's staff still read it."))
    return _back(request, course.get_absolute_url())


@login_required
@require_POST
def act(request: HttpRequest, pk: int, kind: str, work_id: int) -> HttpResponse:
    """Restore or approve one piece of work from where it is shown."""
    course = _staff_course(request, pk)
    work = _work(request, course, kind, work_id)
    action = request.POST.get("action", "")
    if action not in (Action.RESTORE, Action.APPROVE):
        messages.error(request, services.UNKNOWN_ACTION)
        return _back(request, course.get_absolute_url())
    item = ModerationItem.objects.filter(**{kind: work}).first()
    if item is None:
        messages.error(request, services.CANNOT[action])
        return _back(request, course.get_absolute_url())
    # The version the page showed, when it sent one; otherwise the item as it is now.
    try:
        version = int(request.POST.get("version") or item.version)
    except ValueError:
        version = item.version
    try:
        services.moderate(user=request.user, item=item, action=action, expected_version=version)
    except services.ModerationConflict as conflict:
        messages.error(request, conflict.message)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(
            request,
            gettext("Restored.")
            if action == Action.RESTORE
            else gettext("Approved: everyone can read it now."),
        )
    return _back(request, course.get_absolute_url())


# -- the review queue ---------------------------------------------------------------------------


def queue_items(user, course: Course, filters: dict[str, Any]) -> QuerySet[ModerationItem]:
    """The course's queue, most flagged and oldest first, with the names of their authors and
    last actors, ``author_name`` and ``last_actor_name`` (``queue_rows`` fetches the rest of a
    page in a fixed number of queries)."""
    # The page shows the work and the people, not the course, thread or claim: of the people,
    # their names only, each by primary key.
    items = (
        selectors.moderation_queue(user)
        .filter(course=course)
        .select_related(None)
        .prefetch_related(None)
        .only(*ITEM_FIELDS)
        .annotate(
            author_name=selectors.username_of("author_id"),
            last_actor_name=selectors.username_of("last_action_by_id"),
        )
    )
    status = filters.get("status") or "open"
    if status in (ItemStatus.OPEN, ItemStatus.CLOSED):
        items = items.filter(status=status)
    if filters.get("kind"):
        items = items.filter(kind=filters["kind"])
    if filters.get("reason"):
        items = items.filter(pk__in=Flag.objects.filter(reason=filters["reason"]).values("item_id"))
    if filters.get("author"):
        items = items.filter(author__username=filters["author"])
    if filters.get("opened_from"):
        items = items.filter(opened_at__date__gte=filters["opened_from"])
    if filters.get("opened_to"):
        items = items.filter(opened_at__date__lte=filters["opened_to"])
    return items


def _queue_page(
    request: HttpRequest, course: Course, *, report: list | None = None, status: int = 200
) -> HttpResponse:
    """One page of the filtered queue (``QUEUE_PAGE_SIZE`` items), the pre-moderated
    students and a way to pre-moderate the others: a bounded page however long the queue."""
    filters = QueueFilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    items = queue_items(request.user, course, cleaned)
    page = Paginator(items, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = queue_rows(page.object_list)
    shown = cleaned.get("status") or ItemStatus.OPEN
    if shown == ItemStatus.OPEN:
        open_count = page.paginator.count
    elif shown == ItemStatus.CLOSED:
        open_count = 0
    else:
        open_count = items.filter(status=ItemStatus.OPEN).count()
    context = {
        "nav": "courses",
        "course": course,
        "page": page,
        "items": rows,
        "row_html": fragments.render_queue_rows(request, rows),
        "filters": filters,
        "report": report or [],
        "actions": Action.choices,
        "open_count": open_count,
        **_premoderation_context(course),
    }
    return render(request, "annotations/moderation/queue.html", context, status=status)


@dataclass(frozen=True)
class QueueFlag:
    """One flag of an item, as the queue prints it."""

    flagger: str
    reason: str
    text: str
    status: str


@dataclass(frozen=True)
class QueueRow:
    """One item's line of the review queue, every value ready to print: a page holds up to
    ``QUEUE_PAGE_SIZE`` items with all their flags, so the template only copies strings."""

    pk: int
    version: int
    kind: str
    target_id: int
    excerpt: str
    author: str | None
    flag_count: int
    reasons: list[str]
    flags: list[QueueFlag]
    state: str
    opened_at: datetime
    last_action: str
    last_action_by: str | None


def _labels(choices) -> dict[str, str]:
    """Each choice's label in the reader's language, translated once for the whole page."""
    return {value: str(label) for value, label in choices}


def queue_rows(items: list[ModerationItem]) -> list[QueueRow]:
    """The lines of one page of the queue (``items`` from ``queue_items``): their work and
    flags in a query per kind of work on the page and one for the flags."""
    items = list(items)
    # The work by primary key, one query per kind: joined to the items, the large tables of
    # work cost the planner far more than the few rows cost to fetch.
    for kind in MODERATED_KINDS:
        ids = {getattr(item, f"{kind}_id") for item in items if item.kind == kind}
        if ids:
            work = MODELS[kind].objects.filter(pk__in=ids).only(*WORK_FIELDS[kind]).order_by().in_bulk()
            for item in items:
                if item.kind == kind:
                    setattr(item, kind, work[getattr(item, f"{kind}_id")])
    states, reasons = _labels(ModerationState.choices), _labels(FlagReason.choices)
    statuses, actions = _labels(FlagStatus.choices), _labels(Action.choices)
    flags_of: dict[int, list[QueueFlag]] = {item.pk: [] for item in items}
    found = (
        Flag.objects.filter(item__in=list(flags_of))
        .order_by("created_at", "pk")
        .annotate(flagger_name=selectors.username_of("flagger_id"))
        .values_list("item_id", "flagger_name", "reason", "text", "status")
    )
    for item_id, flagger, reason, text, status in found:
        flags_of[item_id].append(
            QueueFlag(
                flagger=flagger,
                reason=reasons.get(reason, reason),
                text=text,
                status=statuses.get(status, status),
            )
        )
    rows = []
    for item in items:
        flags = flags_of[item.pk]
        state = item.target.moderation
        rows.append(
            QueueRow(
                pk=item.pk,
                version=item.version,
                kind=item.kind,
                target_id=item.target_id,
                excerpt=item.excerpt(),
                author=item.author_name,
                flag_count=item.flag_count,
                reasons=sorted({flag.reason for flag in flags}),
                flags=flags,
                state=states.get(state, state),
                opened_at=item.opened_at,
                last_action=actions.get(item.last_action, item.last_action) if item.last_action else "",
                last_action_by=item.last_actor_name,
            )
        )
    return rows


def _premoderation_context(course: Course) -> dict[str, Any]:
    """The students whose new work waits for approval, each with a switch, and the others as
    the choices of one form: names only, never a form per student of a large course."""
    students = list(
        Membership.objects.filter(course=course, role=Role.STUDENT)
        .order_by("user__username")
        .values_list("user_id", "user__username", "premoderated")
    )
    return {
        "premoderated": [(pk, name) for pk, name, held in students if held],
        "published": [(pk, name) for pk, name, held in students if not held],
    }


@login_required
def queue(request: HttpRequest, pk: int) -> HttpResponse:
    course = _staff_course(request, pk)
    if request.method != "POST":
        return _queue_page(request, course)
    action = request.POST.get("action", "")
    chosen = request.POST.getlist("item")
    by_pk = ModerationItem.objects.filter(course=course, pk__in=[p for p in chosen if p.isdigit()]).in_bulk()
    acts = []
    for item_pk, item in by_pk.items():
        try:
            acts.append((item, int(request.POST.get(f"version_{item_pk}", ""))))
        except ValueError:
            acts.append((item, item.version))
    if not acts:
        messages.error(request, gettext("Choose at least one item."))
        return redirect("moderation:queue", pk=course.pk)
    outcomes = services.moderate_many(
        user=request.user, acts=acts, action=action, reason=request.POST.get("reason", "")
    )
    if all(outcome.done for outcome in outcomes):
        messages.success(
            request,
            ngettext("Done for %(count)s item.", "Done for %(count)s items.", len(outcomes))
            % {"count": GroupedCount(len(outcomes))},
        )
        return redirect(request.get_full_path())
    for outcome in outcomes:
        outcome.item.refresh_from_db()
        outcome.state = outcome.item.target.get_moderation_display()
    conflict = any(outcome.message == services.CONFLICT for outcome in outcomes)
    return _queue_page(request, course, report=outcomes, status=409 if conflict else 400)


# -- pre-moderation ------------------------------------------------------------------------------


@login_required
@require_POST
def course_premoderation(request: HttpRequest, pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    if not permissions.can_manage_course(request.user, course):
        raise PermissionDenied(services.NOT_INSTRUCTOR)
    form = PremoderationForm(request.POST)
    form.is_valid()
    enabled = bool(form.cleaned_data.get("enabled"))
    services.course_set_premoderation(user=request.user, course=course, enabled=enabled)
    messages.success(
        request,
        gettext("Students' new work now waits for approval.")
        if enabled
        else gettext("Pre-moderation is off: students' new work is published at once."),
    )
    return _back(request, f"/courses/{course.pk}/manage/")


@login_required
@require_POST
def member_premoderation(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    course = _staff_course(request, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "course"), course=course, user_id=user_id
    )
    form = PremoderationForm(request.POST)
    form.is_valid()
    enabled = bool(form.cleaned_data.get("enabled"))
    try:
        services.membership_set_premoderated(
            user=request.user,
            membership=membership,
            enabled=enabled,
            reason=form.cleaned_data.get("reason", ""),
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        name = membership.user.get_username()
        messages.success(
            request,
            (
                gettext("%(name)s's new work now waits for approval.")
                if enabled
                else gettext("%(name)s's new work is published at once.")
            )
            % {"name": name},
        )
    return _back(request, f"/courses/{course.pk}/moderation/")


@login_required
@require_POST
def student_premoderation(request: HttpRequest, pk: int) -> HttpResponse:
    """Pre-moderate (or not) the student chosen in a form, ``user_id`` in the body."""
    user_id = request.POST.get("user_id", "")
    if not user_id.isdigit():
        course = _staff_course(request, pk)
        messages.error(request, gettext("Choose a student."))
        return _back(request, f"/courses/{course.pk}/moderation/")
    return member_premoderation(request, pk, int(user_id))


__all__ = ["MODERATED_KINDS", "queue_items", "queue_rows"]
