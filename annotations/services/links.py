"""Writes for claim–event link proposals and event proposals.

Members of a course propose; its TAs and instructors (and site staff) decide. A decision
is taken on the row locked with ``select_for_update``, so of two staff deciding at once
only the first wins: the later one is refused with the state it found.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from annotations import permissions, selectors
from annotations.models import Claim, Course, Source
from annotations.models.challenges import EventProposal, LinkProposal, ProposalStatus
from timeline.dates import PartialDate
from timeline.models import Event

NOT_A_MEMBER = _("Only members of this course can propose in it.")
NOT_STAFF = _("Only the course's TAs and instructors can accept or decline proposals.")
NOT_YOURS = _("Only the student who proposed this can withdraw it, while it is still proposed.")
CLAIM_NOT_IN_READING = _("This claim is not part of the course's reading.")
DUPLICATE_LINK = _("This claim and this event are already linked, or proposed, in this course.")
ALREADY_DECIDED = _("This proposal has already been {status}; it can no longer be decided.")
DATE_INVALID = _("Write the date as YYYY, YYYY-MM or YYYY-MM-DD; “{value}” is not one.")
END_BEFORE_START = _("The end date cannot come before the date.")
SOURCE_MISSING = _("Give the source that records this event.")
SOURCE_NOT_VISIBLE = _("Choose a source of the reading or of this course.")
TITLE_MISSING = _("Give the event's title.")
KEY_ATTEMPTS = 20


class AlreadyDecided(ValidationError):
    """A decision on a proposal that is no longer proposed; carries the current status."""

    def __init__(self, status: str) -> None:
        super().__init__({"status": ALREADY_DECIDED.format(status=status)})
        self.status = status


def _parse_date(value: str | None, field: str, *, required: bool) -> PartialDate | None:
    if not value or not str(value).strip():
        if required:
            raise ValidationError({field: DATE_INVALID.format(value="")})
        return None
    try:
        return PartialDate.parse(str(value))
    except ValueError:
        raise ValidationError({field: DATE_INVALID.format(value=value)}) from None


def link_propose(
    *, user, course: Course, claim: Claim, event: Event, relation: str, note: str = ""
) -> LinkProposal:
    """A member proposes a typed link between a claim of the course's reading and an event."""
    if permissions.membership_of(user, course) is None:
        raise PermissionDenied(NOT_A_MEMBER)
    if claim.paragraph.document_id != course.reading_id:
        raise ValidationError({"claim": CLAIM_NOT_IN_READING})
    proposal = LinkProposal(
        course=course, proposer=user, claim=claim, event=event, relation=relation, note=note.strip()
    )
    proposal.full_clean(exclude=["course", "proposer", "claim", "event"], validate_unique=False)
    if LinkProposal.objects.filter(course=course, claim=claim, event=event).exists():
        raise ValidationError({"event": DUPLICATE_LINK})
    try:
        with transaction.atomic():
            proposal.save()
    except IntegrityError:
        # Another request proposed the same link between the check and the save.
        raise ValidationError({"event": DUPLICATE_LINK}) from None
    return proposal


def link_withdraw(*, user, proposal: LinkProposal) -> None:
    """The proposer deletes their proposal while it is still proposed."""
    if not permissions.can_withdraw_link(user, proposal):
        raise PermissionDenied(NOT_YOURS)
    with transaction.atomic():
        locked = LinkProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != ProposalStatus.PROPOSED:
            raise PermissionDenied(NOT_YOURS)
        locked.delete()


def link_decide(*, user, proposal: LinkProposal, accept: bool, feedback: str = "") -> LinkProposal:
    """Staff of the course accept or decline a proposed link."""
    if not permissions.can_decide_proposals(user, proposal.course):
        raise PermissionDenied(NOT_STAFF)
    with transaction.atomic():
        locked = LinkProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != ProposalStatus.PROPOSED:
            raise AlreadyDecided(locked.status)
        locked.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.DECLINED
        locked.feedback = feedback.strip()
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.full_clean(exclude=["course", "proposer", "claim", "event", "decided_by"])
        locked.save()
        from annotations.services.notifications import notify_proposal_decided

        notify_proposal_decided(proposal=locked, actor=user)
    return locked


def event_propose(
    *,
    user,
    course: Course,
    title: str,
    date: str,
    end_date: str | None = None,
    place: str = "",
    type: str,
    description: str = "",
    source: Source | None,
) -> EventProposal:
    """A member proposes a new timeline event, with the source that records it."""
    if permissions.membership_of(user, course) is None:
        raise PermissionDenied(NOT_A_MEMBER)
    errors: dict[str, str] = {}
    start = end = None
    try:
        start = _parse_date(date, "date", required=True)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    try:
        end = _parse_date(end_date, "end_date", required=False)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    if start and end and end.last_day() < start.date:
        errors["end_date"] = END_BEFORE_START
    if source is None:
        errors["source"] = SOURCE_MISSING
    elif not selectors.sources_for_proposal(user, course).filter(pk=source.pk).exists():
        errors["source"] = SOURCE_NOT_VISIBLE
    if not (title or "").strip():
        errors["title"] = TITLE_MISSING
    if errors:
        raise ValidationError(errors)
    proposal = EventProposal(
        course=course,
        proposer=user,
        title=" ".join(title.split()),
        date=start.date,
        precision=start.precision,
        end_date=end.date if end else None,
        end_precision=end.precision if end else "",
        place=place.strip(),
        type=type,
        description=description.strip(),
        source=source,
    )
    proposal.full_clean(exclude=["course", "proposer", "source"])
    with transaction.atomic():
        proposal.save()
    return proposal


def _event_key(title: str, year: int) -> str:
    # slugify keeps underscores, which event keys do not allow; fold them into hyphens.
    words = slugify(f"{title} {year}").replace("_", "-").split("-")
    base = ("-".join(word for word in words if word) or f"event-{year}")[:70].strip("-")
    key, n = base, 2
    while Event.objects.filter(key=key).exists():
        if n > KEY_ATTEMPTS:
            raise ValidationError({"title": "Too many events share this title and year."})
        key, n = f"{base}-{n}", n + 1
    return key


def event_decide(*, user, proposal: EventProposal, accept: bool, feedback: str = "") -> EventProposal:
    """Staff of the course accept a proposed event into the timeline, or decline it."""
    if not permissions.can_decide_proposals(user, proposal.course):
        raise PermissionDenied(NOT_STAFF)
    with transaction.atomic():
        locked = EventProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != ProposalStatus.PROPOSED:
            raise AlreadyDecided(locked.status)
        if accept:
            event = Event(
                key=_event_key(locked.title, locked.date.year),
                title=locked.title,
                date=locked.date,
                precision=locked.precision,
                end_date=locked.end_date,
                end_precision=locked.end_precision,
                place=locked.place,
                type=locked.type,
                description=locked.description,
            )
            event.full_clean()
            event.save()
            event.sources.set([locked.source_id])
            locked.event = event
        locked.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.DECLINED
        locked.feedback = feedback.strip()
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.full_clean(exclude=["course", "proposer", "source", "event", "decided_by"])
        locked.save()
        from annotations.services.notifications import notify_proposal_decided

        notify_proposal_decided(proposal=locked, actor=user)
    return locked
