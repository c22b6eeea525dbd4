"""Claim–event links and event proposals inside a course.

Members see a claim's links and propose new ones, propose events and see the course's
timeline with its accepted links; the course's TAs and instructors accept or decline.
A course the user may not see is a 404; an act they may not do is a 403.
"""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from annotations import permissions, selectors
from annotations.forms import DecisionForm, EventProposalForm, LinkProposalForm, add_service_errors
from annotations.models import Claim, Course
from annotations.models.challenges import ProposalStatus
from annotations.services import links as services
from timeline import selectors as timeline_selectors
from timeline.layout import layout


def _claim_context(request: HttpRequest, course: Course, claim: Claim, form: LinkProposalForm) -> dict:
    proposals = list(
        selectors.link_proposal_list(request.user)
        .filter(course=course, claim=claim)
        .order_by("event__date", "pk")
    )
    by_status = {value: [p for p in proposals if p.status == value] for value in ProposalStatus.values}
    return {
        "nav": "courses",
        "course": course,
        "claim": claim,
        "accepted": by_status[ProposalStatus.ACCEPTED],
        "proposed": by_status[ProposalStatus.PROPOSED],
        "declined": by_status[ProposalStatus.DECLINED],
        "form": form,
        "can_decide": permissions.can_decide_proposals(request.user, course),
        "decision_form": DecisionForm(),
    }


@login_required
def claim_links(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """A claim in a course: the reading's links, the course's proposals, and a form to propose one."""
    course = selectors.course_for_user(request.user, pk)
    claim = selectors.claim_in_course(course, key)
    if request.method != "POST":
        return render(
            request,
            "annotations/links/claim.html",
            _claim_context(request, course, claim, LinkProposalForm()),
        )
    form = LinkProposalForm(request.POST)
    if form.is_valid():
        try:
            services.link_propose(
                user=request.user,
                course=course,
                claim=claim,
                event=form.cleaned_data["event"],
                relation=form.cleaned_data["relation"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, gettext("Your link is proposed; the course's staff will review it."))
            return redirect("links:claim", pk=course.pk, key=claim.key)
    context = _claim_context(request, course, claim, form)
    return render(request, "annotations/links/claim.html", context, status=400)


def _decision(request: HttpRequest) -> tuple[bool, str]:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        raise ValidationError({"accept": "Choose accept or decline."})
    return form.cleaned_data["accept"], form.cleaned_data["feedback"]


def _back(request: HttpRequest, course: Course, default: str) -> HttpResponse:
    if request.POST.get("back") == "review":
        return redirect("links:review", pk=course.pk)
    return redirect(default)


@login_required
@require_POST
def link_decide(request: HttpRequest, pk: int, proposal_pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    proposal = selectors.link_proposal_list(request.user).filter(course=course, pk=proposal_pk).first()
    if proposal is None:
        raise Http404("No such proposal.")
    try:
        accept, feedback = _decision(request)
        services.link_decide(user=request.user, proposal=proposal, accept=accept, feedback=feedback)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, gettext("Link accepted.") if accept else gettext("Link declined."))
    return _back(request, course, reverse("links:claim", kwargs={"pk": course.pk, "key": proposal.claim.key}))


@login_required
@require_POST
def event_decide(request: HttpRequest, pk: int, proposal_pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    proposal = selectors.event_proposal_list(request.user).filter(course=course, pk=proposal_pk).first()
    if proposal is None:
        raise Http404("No such proposal.")
    try:
        accept, feedback = _decision(request)
        services.event_decide(user=request.user, proposal=proposal, accept=accept, feedback=feedback)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, gettext("Event accepted into the timeline.") if accept else gettext("Event declined.")
        )
    return redirect("links:review", pk=course.pk)


@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """The course's pending link and event proposals, for its TAs and instructors."""
    course = selectors.course_for_user(request.user, pk)
    if not permissions.can_decide_proposals(request.user, course):
        raise PermissionDenied(services.NOT_STAFF)
    pending = {"course": course, "status": ProposalStatus.PROPOSED}
    links = selectors.link_proposal_list(request.user).filter(**pending).order_by("created_at", "pk")
    events = selectors.event_proposal_list(request.user).filter(**pending).order_by("created_at", "pk")
    return render(
        request,
        "annotations/links/review.html",
        {
            "nav": "courses",
            "course": course,
            "links": list(links),
            "events": list(events),
            "decision_form": DecisionForm(),
        },
    )


@login_required
def propose_event(request: HttpRequest, pk: int) -> HttpResponse:
    """A member proposes a new event, citing a source of the reading or of the course."""
    course = selectors.course_for_user(request.user, pk)
    if permissions.membership_of(request.user, course) is None:
        raise PermissionDenied(services.NOT_A_MEMBER)
    sources = selectors.sources_for_proposal(request.user, course).order_by("key")
    form = EventProposalForm(request.POST or None, sources=sources)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.event_propose(user=request.user, course=course, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, gettext("Your event is proposed; the course's staff will review it.")
                )
                return redirect("links:course-timeline", pk=course.pk)
        status = 400
    mine = selectors.event_proposal_list(request.user).filter(course=course, proposer=request.user)
    return render(
        request,
        "annotations/links/propose_event.html",
        {"nav": "courses", "course": course, "form": form, "mine": list(mine)},
        status=status,
    )


@login_required
def course_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline, with the course's accepted links under each event."""
    course = selectors.course_for_user(request.user, pk)
    events = list(timeline_selectors.event_list())
    accepted = (
        selectors.link_proposal_list(request.user)
        .filter(course=course, status=ProposalStatus.ACCEPTED)
        .order_by("event_id", "claim__key")
    )
    links_by_event = {
        event_id: list(group) for event_id, group in groupby(accepted, key=lambda p: p.event_id)
    }
    for event in events:
        event.course_links = links_by_event.get(event.pk, [])
    years = [(year, list(group)) for year, group in groupby(events, key=lambda e: e.date.year)]
    return render(
        request,
        "annotations/links/timeline.html",
        {
            "nav": "timeline",
            "course": course,
            "events": events,
            "years": years,
            "layout": layout(events),
            "can_decide": permissions.can_decide_proposals(request.user, course),
        },
    )
