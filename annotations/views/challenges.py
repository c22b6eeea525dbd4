"""Claims inside a course: their evidence status, challenges, threads and resolutions.

Plain forms throughout. A course or challenge the user may not see is a 404; an act they
may not do is a 403; a resolution on a stale version is a 409 showing the current state.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from annotations import fragments, permissions, selectors
from annotations.api.filters import ClaimFilter
from annotations.forms import (
    ChallengeForm,
    ChallengeReopenForm,
    ChallengeResolveForm,
    ChallengeResponseForm,
    EvidenceFilterForm,
    add_service_errors,
)
from annotations.models import Claim, Course, Source
from annotations.models.challenges import Challenge, ChallengeResponse
from annotations.services import challenges as services

CHALLENGES_PER_PAGE = 50
STALE = gettext_noop(
    "Someone else changed this challenge first. Here is its current state: decide again if you still wish to."
)


def links_url(course: Course, claim: Claim) -> str | None:
    """The page of the claim's event links in the course, where that page exists."""
    try:
        return reverse("links:claim", kwargs={"pk": course.pk, "key": claim.key})
    except NoReverseMatch:
        return None


def _claim_of_course(course: Course, key: str) -> Claim:
    claim = selectors.claims_of_course(course).filter(key=key).first()
    if claim is None:
        raise Http404("No such claim in this course's reading.")
    return claim


def _citable_sources(user, course: Course) -> list[Source]:
    """The reading's sources and the course's own (the reading's footnotes are no sources)."""
    visible = selectors.visible_sources(user).exclude(kind=Source.Kind.NOTE)
    return list(visible.filter(course__isnull=True)) + list(visible.filter(course=course))


@login_required
def claim_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The reading's claims with their evidence status in this course."""
    course = selectors.course_for_user(request.user, pk)
    claims_filter = ClaimFilter(request.GET or None, queryset=selectors.claims_of_course(course))
    status_form = EvidenceFilterForm(request.GET or None)
    wanted = status_form.cleaned_data["status"] if status_form.is_valid() else ""
    claims = list(claims_filter.qs)
    evidence = services.evidence_for(course, claims, reasons=False)
    rows = [
        (claim, evidence[claim.pk]) for claim in claims if not wanted or evidence[claim.pk].status == wanted
    ]
    filters = {"filter": claims_filter, "status_form": status_form}
    return render(
        request,
        "annotations/challenges/claim_list.html",
        {
            "nav": "courses",
            "course": course,
            "rows": rows,
            "cards": fragments.render_claim_cards(request, course, rows),
            **filters,
            "filters": fragments.render_filters(
                request, fragments.CLAIM_FILTERS_TEMPLATE, filters, [status_form, claims_filter.form]
            ),
        },
    )


def _claim_context(request: HttpRequest, course: Course, claim: Claim, **forms: object) -> dict:
    # A deleted challenge stays only as the head of a thread that has responses.
    answered = ChallengeResponse.objects.filter(challenge=OuterRef("pk"), deleted_at__isnull=True)
    challenges = (
        selectors.challenge_list(request.user, include_deleted=True)
        .filter(course=course, claim=claim)
        .filter(Q(deleted_at__isnull=True) | Exists(answered))
    )
    page = Paginator(challenges, CHALLENGES_PER_PAGE).get_page(request.GET.get("page"))
    can_teach = permissions.can_teach(request.user, course)
    member = permissions.membership_of(request.user, course) is not None
    sources = _citable_sources(request.user, course)
    paragraph = claim.paragraph
    context = {
        "nav": "courses",
        "course": course,
        "claim": claim,
        "before": paragraph.text[: claim.start],
        "after": paragraph.text[claim.end :],
        "evidence": services.evidence_for(course, [claim])[claim.pk],
        "challenges": list(page.object_list),
        "page": page,
        "can_teach": can_teach,
        "member": member,
        # A new challenge refused, shown again with its errors (else a blank form, from the cache).
        "form": forms.get("form"),
        "response_form": ChallengeResponseForm(),
        "failed": forms.get("failed"),
        "links_url": links_url(course, claim),
    }
    fragments.render_challenges(request, context["challenges"], context)
    if member or context["form"]:
        choices = ChallengeForm.source_choices(sources)
        context["new_challenge"] = fragments.render_new_challenge(
            request, context, tuple(choices), lambda: ChallengeForm(sources=sources)
        )
    return context


@login_required
def claim_detail(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    claim = _claim_of_course(course, key)
    return render(request, "annotations/challenges/claim_detail.html", _claim_context(request, course, claim))


@login_required
@require_POST
def challenge_create(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    claim = _claim_of_course(course, key)
    sources = _citable_sources(request.user, course)
    form = ChallengeForm(request.POST, sources=sources)
    if form.is_valid():
        by_key = {s.key: s for s in sources}
        citations = [{**row, "source": by_key[row["source"]]} for row in form.citation_rows()]
        try:
            services.challenge_create(
                user=request.user,
                course=course,
                claim=claim,
                stance=form.cleaned_data["stance"],
                argument=form.cleaned_data["argument"],
                citations=citations,
                visibility=form.cleaned_data["visibility"],
            )
        except ValidationError as error:
            add_service_errors(form, error, aliases={"citations": "source_1"})
        else:
            messages.success(request, gettext("Your challenge is filed."))
            return redirect("challenges:claim", pk=course.pk, key=claim.key)
    context = _claim_context(request, course, claim, form=form)
    return render(request, "annotations/challenges/claim_detail.html", context, status=400)


def _back(challenge: Challenge) -> HttpResponse:
    response = redirect("challenges:claim", pk=challenge.course_id, key=challenge.claim.key)
    response["Location"] += f"#challenge-{challenge.pk}"
    return response


def _page_again(request: HttpRequest, challenge: Challenge, status: int, **forms: object) -> HttpResponse:
    context = _claim_context(
        request,
        challenge.course,
        _claim_of_course(challenge.course, challenge.claim.key),
        failed={"challenge": challenge.pk, **forms},
    )
    return render(request, "annotations/challenges/claim_detail.html", context, status=status)


@login_required
@require_POST
def challenge_respond(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = selectors.challenge_for_user(request.user, pk)
    form = ChallengeResponseForm(request.POST)
    if form.is_valid():
        try:
            services.challenge_respond(user=request.user, challenge=challenge, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error, aliases={"citations": "source_1"})
        else:
            messages.success(request, gettext("Your response is posted."))
            return _back(challenge)
    return _page_again(request, challenge, 400, response_form=form)


@login_required
@require_POST
def challenge_delete(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = selectors.challenge_for_user(request.user, pk)
    services.challenge_delete(user=request.user, challenge=challenge)
    messages.success(request, gettext("Your challenge is deleted."))
    return _back(challenge)


@login_required
@require_POST
def challenge_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = selectors.challenge_for_user(request.user, pk)
    if not permissions.can_resolve_challenge(request.user, challenge):
        raise PermissionDenied(services.NOT_STAFF)
    form = ChallengeResolveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.challenge_resolve(
                user=request.user,
                challenge=challenge,
                status=data["status"],
                feedback=data["feedback"],
                expected_version=data["version"],
            )
        except services.Conflict:
            messages.error(request, gettext(STALE))
            return _page_again(request, challenge, 409)
        except ValidationError as error:
            add_service_errors(form, error, aliases={"citations": "source_1"})
        else:
            messages.success(request, gettext("The challenge is resolved."))
            return _back(challenge)
    return _page_again(request, challenge, 400, resolve_form=form)


@login_required
@require_POST
def challenge_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = selectors.challenge_for_user(request.user, pk)
    if not permissions.can_resolve_challenge(request.user, challenge):
        raise PermissionDenied(services.NOT_STAFF)
    form = ChallengeReopenForm(request.POST)
    if form.is_valid():
        try:
            services.challenge_reopen(
                user=request.user, challenge=challenge, expected_version=form.cleaned_data["version"]
            )
        except services.Conflict:
            messages.error(request, gettext(STALE))
            return _page_again(request, challenge, 409)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return _page_again(request, challenge, 400)
        messages.success(request, gettext("The challenge is open again."))
        return _back(challenge)
    return _page_again(request, challenge, 400)
