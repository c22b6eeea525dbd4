"""Writes for challenges, their threads and errata; the evidence status they give a claim."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.markdown import render
from annotations.models import Claim, Course
from annotations.models.annotation import Visibility
from annotations.models.challenges import (
    Challenge,
    ChallengeResponse,
    ChallengeSource,
    ChallengeStatus,
    Erratum,
    EvidenceStatus,
    Stance,
)
from annotations.models.moderated import ModerationState
from annotations.services.annotations import NO_GROUP, NOT_YOURS
from annotations.services.assignments import is_anonymous_work
from annotations.services.moderation import hold, premoderated

NOT_A_MEMBER = _("Only members of this course can challenge claims in it.")
NOT_IN_READING = _("This claim is not part of the course's reading.")
NEEDS_SOURCE = _("A challenge that disputes or qualifies a claim must cite at least one source.")
UNKNOWN_SOURCE = _("You cannot cite this source here.")
DUPLICATE_SOURCE = _("Cite each source once.")
EMPTY_ARGUMENT = _("Write your argument.")
EMPTY_RESPONSE = _("Write something to respond.")
CANNOT_RESPOND = _("You cannot respond to this challenge.")
NOT_STAFF = _("Only the course's TAs and instructors can resolve or reopen a challenge.")
NOT_A_RESOLUTION = _("Resolve a challenge as upheld, partly upheld or rejected.")
ALREADY_OPEN = _("This challenge is already open.")
CONFLICT = _("Someone else changed this challenge's status first; here is its current state.")
NOT_SITE_STAFF = _("Only site staff can confirm an erratum.")
ALREADY_CORRECTED = _("This claim already has an erratum.")
EMPTY_ERRATUM = _("Say what is wrong in the claim, and the correction.")
MAX_CITATIONS = 10
TOO_MANY_CITATIONS = f"Cite at most {MAX_CITATIONS} sources."

NEEDS_A_SOURCE = (Stance.DISPUTES, Stance.QUALIFIES)
AGAINST = (Stance.DISPUTES, Stance.QUALIFIES)
RESOLUTIONS = (ChallengeStatus.UPHELD, ChallengeStatus.PARTLY_UPHELD, ChallengeStatus.REJECTED)


class Citation(TypedDict, total=False):
    source: Any
    page: str
    quote: str
    url_fragment: str


class Conflict(Exception):
    """A resolution or reopening acted on a stale version; ``current`` is the challenge now."""

    def __init__(self, current: Challenge):
        super().__init__(CONFLICT)
        self.current = current
        self.message = CONFLICT


def _citations(user, course: Course, citations: Iterable[Citation]) -> list[ChallengeSource]:
    from annotations.selectors import visible_sources

    rows = [dict(c) for c in citations if c.get("source") is not None]
    if len(rows) > MAX_CITATIONS:
        raise ValidationError({"citations": TOO_MANY_CITATIONS})
    ids = [getattr(row["source"], "pk", row["source"]) for row in rows]
    if len(set(ids)) != len(ids):
        raise ValidationError({"citations": DUPLICATE_SOURCE})
    # The course's own sources and the reading's, among those the user may see.
    allowed_ids = set(
        visible_sources(user)
        .filter(Q(course__isnull=True) | Q(course=course), pk__in=ids)
        .values_list("pk", flat=True)
    )
    cited = []
    for row, source_id in zip(rows, ids, strict=True):
        if source_id not in allowed_ids:
            raise ValidationError({"citations": UNKNOWN_SOURCE})
        cited.append(
            ChallengeSource(
                source_id=source_id,
                page=(row.get("page") or "").strip(),
                quote=(row.get("quote") or "").strip(),
                url_fragment=(row.get("url_fragment") or "").strip(),
            )
        )
    return cited


def challenge_create(
    *,
    user,
    course: Course,
    claim: Claim,
    stance: str,
    argument: str,
    citations: Iterable[Citation] = (),
    visibility: str = Visibility.COURSE,
) -> Challenge:
    """A member challenges a claim of the course's reading, citing sources with pinpoints.

    A dispute or a qualification without a source is refused (``NEEDS_SOURCE``).
    """
    membership = permissions.membership_of(user, course)
    if membership is None:
        raise PermissionDenied(NOT_A_MEMBER)
    if claim.paragraph.document_id != course.reading_id:
        raise ValidationError({"claim": NOT_IN_READING})
    if not argument.strip():
        raise ValidationError({"argument": EMPTY_ARGUMENT})
    cited = _citations(user, course, citations)
    if stance in NEEDS_A_SOURCE and not cited:
        raise ValidationError({"citations": NEEDS_SOURCE})
    group = None
    if visibility == Visibility.GROUP:
        if membership.group_id is None:
            raise ValidationError({"visibility": NO_GROUP})
        group = membership.group
    challenge = Challenge(
        course=course,
        author=user,
        group=group,
        claim=claim,
        stance=stance,
        argument=argument,
        argument_html=render(argument),
        visibility=visibility,
        anonymous_to_peers=is_anonymous_work(
            course=course, kind="challenge", paragraph_id=None, claim_id=claim.pk
        ),
    )
    waits = premoderated(user=user, course=course, kind="challenge", claim_id=claim.pk)
    if waits:
        challenge.moderation = ModerationState.PENDING
    challenge.full_clean(exclude=["course", "author", "group", "claim", "sources"])
    with transaction.atomic():
        challenge.save()
        if waits:
            hold(challenge)
        for citation in cited:
            citation.challenge = challenge
        ChallengeSource.objects.bulk_create(cited)
    return challenge


def challenge_update(
    *,
    user,
    challenge: Challenge,
    argument: str | None = None,
    stance: str | None = None,
    visibility: str | None = None,
    citations: Iterable[Citation] | None = None,
) -> Challenge:
    """The author changes their challenge (marked edited); citations, when given, replace the old."""
    if not permissions.can_change_challenge(user, challenge):
        raise PermissionDenied(NOT_YOURS)
    cited = _citations(user, challenge.course, citations) if citations is not None else None
    if argument is not None and argument != challenge.argument:
        if not argument.strip():
            raise ValidationError({"argument": EMPTY_ARGUMENT})
        challenge.argument, challenge.argument_html = argument, render(argument)
        challenge.edited_at = timezone.now()
    if stance is not None and stance != challenge.stance:
        challenge.stance = stance
        challenge.edited_at = timezone.now()
    if visibility is not None and visibility != challenge.visibility:
        challenge.group = None
        if visibility == Visibility.GROUP:
            membership = permissions.membership_of(user, challenge.course_id)
            if membership is None or membership.group_id is None:
                raise ValidationError({"visibility": NO_GROUP})
            challenge.group = membership.group
        challenge.visibility = visibility
    has_sources = bool(cited) if cited is not None else challenge.citations.exists()
    if challenge.stance in NEEDS_A_SOURCE and not has_sources:
        raise ValidationError({"citations": NEEDS_SOURCE})
    challenge.full_clean(exclude=["course", "author", "group", "claim", "sources"])
    with transaction.atomic():
        challenge.save()
        if cited is not None:
            challenge.citations.all().delete()
            for citation in cited:
                citation.challenge = challenge
            ChallengeSource.objects.bulk_create(cited)
    return challenge


def challenge_delete(*, user, challenge: Challenge) -> Challenge:
    """The author deletes their challenge: a tombstone that keeps its thread."""
    if not permissions.can_change_challenge(user, challenge):
        raise PermissionDenied(NOT_YOURS)
    challenge.deleted_at = timezone.now()
    challenge.save(update_fields=["deleted_at", "updated_at"])
    return challenge


def challenge_respond(*, user, challenge: Challenge, body: str) -> ChallengeResponse:
    if not permissions.can_respond_to_challenge(user, challenge):
        raise PermissionDenied(CANNOT_RESPOND)
    if not body.strip():
        raise ValidationError({"body": EMPTY_RESPONSE})
    return ChallengeResponse.objects.create(
        challenge=challenge, author=user, body=body, body_html=render(body)
    )


def response_update(*, user, response: ChallengeResponse, body: str) -> ChallengeResponse:
    if not permissions.can_change_challenge_response(user, response):
        raise PermissionDenied(NOT_YOURS)
    if not body.strip():
        raise ValidationError({"body": EMPTY_RESPONSE})
    if body != response.body:
        response.body, response.body_html, response.edited_at = body, render(body), timezone.now()
        response.save(update_fields=["body", "body_html", "edited_at", "updated_at"])
    return response


def response_delete(*, user, response: ChallengeResponse) -> ChallengeResponse:
    if not permissions.can_change_challenge_response(user, response):
        raise PermissionDenied(NOT_YOURS)
    response.deleted_at = timezone.now()
    response.save(update_fields=["deleted_at", "updated_at"])
    return response


def _locked(challenge: Challenge, expected_version: int) -> Challenge:
    """The challenge's row, locked until the transaction ends where the database can
    (PostgreSQL); ``Conflict`` when someone acted since ``expected_version`` was read."""
    rows = Challenge.objects.all()
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    current = rows.get(pk=challenge.pk)
    if current.version != expected_version:
        raise Conflict(current)
    return current


def _save_if_current(current: Challenge, expected_version: int, fields: list[str]) -> None:
    """Write ``fields`` and the next version only if the row still has ``expected_version``.

    With the row lock this never misses; without one (SQLite) it is what keeps a second
    writer of the same version from overwriting the first.
    """
    current.version = expected_version + 1
    current.updated_at = timezone.now()
    values = {name: getattr(current, name) for name in [*fields, "version", "updated_at"]}
    written = Challenge.objects.filter(pk=current.pk, version=expected_version).update(**values)
    if not written:
        raise Conflict(Challenge.objects.get(pk=current.pk))


def challenge_resolve(
    *, user, challenge: Challenge, status: str, feedback: str = "", expected_version: int
) -> Challenge:
    """Staff of the course resolve a challenge as upheld, partly upheld or rejected.

    Two acts on the same version cannot both win: the later raises ``Conflict`` with the
    challenge as it is now, and nothing is written.
    """
    if not permissions.can_resolve_challenge(user, challenge):
        raise PermissionDenied(NOT_STAFF)
    if status not in RESOLUTIONS:
        raise ValidationError({"status": NOT_A_RESOLUTION})
    with transaction.atomic():
        current = _locked(challenge, expected_version)
        current.status = status
        current.feedback, current.feedback_html = feedback, render(feedback)
        current.resolved_by, current.resolved_at = user, timezone.now()
        current.full_clean(
            exclude=["course", "author", "group", "claim", "sources", "resolved_by", "version"]
        )
        _save_if_current(
            current, expected_version, ["status", "feedback", "feedback_html", "resolved_by", "resolved_at"]
        )
        from annotations.services.notifications import notify_challenge_resolved

        notify_challenge_resolved(challenge=current, actor=user)
    return current


def challenge_reopen(*, user, challenge: Challenge, expected_version: int) -> Challenge:
    """Staff reopen a resolved challenge (its feedback stays); the same version check as resolving."""
    if not permissions.can_resolve_challenge(user, challenge):
        raise PermissionDenied(NOT_STAFF)
    with transaction.atomic():
        current = _locked(challenge, expected_version)
        if current.status == ChallengeStatus.OPEN:
            raise ValidationError({"status": ALREADY_OPEN})
        current.status = ChallengeStatus.OPEN
        current.resolved_by, current.resolved_at = None, None
        _save_if_current(current, expected_version, ["status", "resolved_by", "resolved_at"])
    return current


def erratum_confirm(*, user, claim: Claim, text: str, challenge: Challenge | None = None) -> Erratum:
    """Site staff confirm a correction of a claim; every course then shows it."""
    if not permissions.can_confirm_erratum(user):
        raise PermissionDenied(NOT_SITE_STAFF)
    if not text.strip():
        raise ValidationError({"text": EMPTY_ERRATUM})
    if Erratum.objects.filter(claim=claim).exists():
        raise ValidationError({"claim": ALREADY_CORRECTED})
    erratum = Erratum(claim=claim, text=text, challenge=challenge, confirmed_by=user)
    erratum.full_clean(exclude=["claim", "challenge", "confirmed_by"])
    with transaction.atomic():
        erratum.save()
    return erratum


# -- evidence status ----------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """A claim's evidence status in a course, and the challenges (or erratum) behind it."""

    status: EvidenceStatus
    reasons: tuple[Any, ...] = ()


UPHELD = (ChallengeStatus.UPHELD, ChallengeStatus.PARTLY_UPHELD)
# The rule, in the order it is applied: the first status with a challenge behind it wins.
# A challenge meets at most one of these conditions.
EVIDENCE_RULES: tuple[tuple[EvidenceStatus, Q], ...] = (
    (EvidenceStatus.DISPUTED, Q(stance__in=AGAINST, status__in=UPHELD)),
    (EvidenceStatus.SUPPORTED, Q(stance=Stance.SUPPORTS, status=ChallengeStatus.UPHELD)),
    (EvidenceStatus.CONTESTED, ~Q(stance=Stance.SUPPORTS) & Q(status=ChallengeStatus.OPEN)),
)


def _counted_challenges(course: Course, ids: list[int]) -> QuerySet[Challenge]:
    """The course's challenges of these claims that count: shared with the whole course,
    published and not deleted."""
    return Challenge.objects.filter(
        course=course,
        claim_id__in=ids,
        visibility=Visibility.COURSE,
        deleted_at__isnull=True,
        moderation=ModerationState.PUBLISHED,
    )


def evidence_for(
    course: Course, claims: Iterable[Claim | int], *, reasons: bool = True
) -> dict[int, Evidence]:
    """Each claim's evidence status in ``course``, in two queries whatever the number of claims.

    The rule, first match wins:

    1. **corrected** — site staff confirmed an erratum (reasons: the erratum);
    2. **disputed** — a disputes or qualifies challenge was upheld or partly upheld;
    3. **supported** — a supports challenge was upheld;
    4. **contested** — a disputes, qualifies or needs-context challenge is open;
    5. **unchallenged** — none of these.

    Only the course's challenges shared with the whole course and not deleted count: a
    group's or an author's private work must not change what the rest of the course sees.

    With ``reasons`` the challenges behind each status come along, oldest first (the rows
    that meet one of the rules, never the whole course's); without, the statuses are counted
    in the database, one row per claim, and each ``Evidence`` has the erratum or no reasons.
    """
    ids = [getattr(claim, "pk", claim) for claim in claims]
    errata = {e.claim_id: e for e in Erratum.objects.filter(claim_id__in=ids)}
    counted = _counted_challenges(course, [pk for pk in ids if pk not in errata])
    found: dict[int, dict[EvidenceStatus, list[Challenge]]] = defaultdict(lambda: defaultdict(list))
    if reasons:
        rule = Case(
            *[When(condition, then=Value(status.value)) for status, condition in EVIDENCE_RULES],
            default=Value(""),
            output_field=CharField(),
        )
        rows = (
            counted.filter(reduce(operator.or_, [condition for _, condition in EVIDENCE_RULES]))
            .annotate(_rule=rule)
            .select_related("author")
            .order_by("created_at", "pk")
        )
        for challenge in rows:
            found[challenge.claim_id][EvidenceStatus(challenge._rule)].append(challenge)
    else:
        tallies = counted.values("claim_id").annotate(
            **{status.value: Count("pk", filter=condition) for status, condition in EVIDENCE_RULES}
        )
        for row in tallies.order_by():
            for status, _condition in EVIDENCE_RULES:
                if row[status.value]:
                    found[row["claim_id"]][status] = []
    result: dict[int, Evidence] = {}
    for claim_id in ids:
        if claim_id in errata:
            result[claim_id] = Evidence(EvidenceStatus.CORRECTED, (errata[claim_id],))
            continue
        met = found.get(claim_id, {})
        result[claim_id] = next(
            (Evidence(status, tuple(met[status])) for status, _ in EVIDENCE_RULES if status in met),
            Evidence(EvidenceStatus.UNCHALLENGED),
        )
    return result
