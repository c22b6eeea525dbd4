"""The course dashboard's data, for staff: participation over time, where the class
annotates, the most challenged claims, what waits for staff, and the assignments.

Only shared, published work counts (never private, never deleted, never hidden by a
moderator nor waiting for approval: the review queue is where those are seen), read
through the visibility selectors for the staff member who asks. Every part is
aggregated in the database in a fixed number of queries, whatever the amount of work and
the number of assignments.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate, TruncWeek
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from annotations import selectors
from annotations.grading import course_progress
from annotations.models import (
    Annotation,
    AnnotationReply,
    Challenge,
    ChallengeResponse,
    Claim,
    Course,
    Paragraph,
)
from annotations.models.annotation import Visibility
from annotations.models.challenges import ChallengeStatus, ProposalStatus, Stance
from annotations.models.moderated import ModerationState
from annotations.services.challenges import evidence_for

# A course younger than this is shown day by day; older, week by week.
DAILY_UNTIL = dt.timedelta(days=21)
HEAT_STEPS = 4
TOP_CLAIMS = 10
OPEN_ITEMS_SHOWN = 10


# -- what counts -----------------------------------------------------------------------------


# Through the visibility selectors, as every list of student work; they let an author see
# their own private work, so private work is excluded again: staff's own drafts included.
# Staff may read hidden and waiting work, but the class never saw it: it is not counted.


def shared_annotations(user, course: Course) -> QuerySet[Annotation]:
    return (
        selectors.visible_annotations(user)
        .filter(course=course, moderation=ModerationState.PUBLISHED)
        .exclude(visibility=Visibility.PRIVATE)
    )


def shared_challenges(user, course: Course) -> QuerySet[Challenge]:
    return (
        selectors.visible_challenges(user)
        .filter(course=course, moderation=ModerationState.PUBLISHED)
        .exclude(visibility=Visibility.PRIVATE)
    )


# -- participation over time -------------------------------------------------------------------

PARTICIPATION_KINDS = ("annotations", "challenges", "posts", "replies")
PARTICIPATION_LABELS = {
    "annotations": _("Annotations"),
    "challenges": _("Challenges"),
    "posts": _("Discussion posts"),
    "replies": _("Replies and responses"),
}


def _participation_querysets(user, course: Course) -> dict[str, list[QuerySet]]:
    """Each kind's rows; replies gather replies to shared annotations and responses to shared
    challenges (one query each)."""
    return {
        "annotations": [shared_annotations(user, course)],
        "challenges": [shared_challenges(user, course)],
        "posts": [
            selectors.visible_posts(user).filter(
                thread__course=course, deleted_at__isnull=True, moderation=ModerationState.PUBLISHED
            )
        ],
        "replies": [
            AnnotationReply.objects.filter(
                annotation__in=shared_annotations(user, course).values("pk"), deleted_at__isnull=True
            ),
            ChallengeResponse.objects.filter(
                challenge__in=shared_challenges(user, course).values("pk"), deleted_at__isnull=True
            ),
        ],
    }


@dataclass(frozen=True)
class Bar:
    kind: str
    x: float
    y: float
    width: float
    height: float
    value: int
    period: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass
class Participation:
    """Counts per period (a day or an ISO week) and kind, with the chart's geometry."""

    by_day: bool
    periods: list[dt.date]
    counts: dict[str, list[int]]
    width: int = 0
    height: int = 260
    plot: tuple[int, int, int, int] = (48, 16, 0, 200)  # left, top, right, bottom
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[dt.date, list[int], int]]:
        """For the table: each period with its counts per kind and their total."""
        return [
            (
                period,
                [self.counts[kind][i] for kind in PARTICIPATION_KINDS],
                sum(self.counts[k][i] for k in PARTICIPATION_KINDS),
            )
            for i, period in enumerate(self.periods)
        ]

    @property
    def totals(self) -> list[int]:
        return [sum(self.counts[kind]) for kind in PARTICIPATION_KINDS]

    @property
    def kind_totals(self) -> list[tuple[str, int]]:
        return [(PARTICIPATION_LABELS[kind], sum(self.counts[kind])) for kind in PARTICIPATION_KINDS]

    @property
    def period_word(self) -> str:
        return gettext("Day") if self.by_day else gettext("Week of")

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return [(kind, PARTICIPATION_LABELS[kind]) for kind in PARTICIPATION_KINDS]


def _period_label(period: dt.date) -> str:
    # Weeks are named by their Monday, as the table does; the axis title says "Week of".
    return dateformat.format(period, "d M")


def participation(user, course: Course, today: dt.date | None = None) -> Participation:
    """Shared work per day (course younger than three weeks) or ISO week, since the course
    started; one aggregated query per kind of row."""
    today = today or timezone.localdate()
    start = timezone.localtime(course.created_at).date()
    by_day = today - start < DAILY_UNTIL
    if by_day:
        first, step, trunc = start, dt.timedelta(days=1), TruncDate
    else:
        first, step, trunc = start - dt.timedelta(days=start.weekday()), dt.timedelta(weeks=1), TruncWeek
    periods = []
    moment = first
    while moment <= today:
        periods.append(moment)
        moment += step
    index = {period: i for i, period in enumerate(periods)}
    counts = {kind: [0] * len(periods) for kind in PARTICIPATION_KINDS}
    for kind, querysets in _participation_querysets(user, course).items():
        for rows in querysets:
            found = rows.annotate(period=trunc("created_at")).values("period").annotate(total=Count("pk"))
            for row in found.order_by():
                period = row["period"]
                if isinstance(period, dt.datetime):
                    period = timezone.localtime(period).date() if timezone.is_aware(period) else period.date()
                # Work dated before the course began (imported work) or after today is left out.
                if period in index:
                    counts[kind][index[period]] += row["total"]
    chart = Participation(by_day=by_day, periods=periods, counts=counts)
    _lay_out(chart)
    return chart


def _nice_step(value: float) -> int:
    """The smallest of 1, 2, 5 × 10ⁿ at least ``value``: gridlines at round numbers."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def _lay_out(chart: Participation) -> None:
    """Grouped bars: one group per period, one bar per kind, with gridlines and labels."""
    kinds = len(PARTICIPATION_KINDS)
    bar, gap = 8, 12  # a group is wide enough for its label ("04 Jan")
    group = kinds * bar + gap
    left, top, bottom = 48, 16, 200
    right = left + max(len(chart.periods), 1) * group
    chart.width = right + 16
    chart.plot = (left, top, right, bottom)
    busiest = max((max(values, default=0) for values in chart.counts.values()), default=0)
    step = _nice_step(busiest / 4)  # four gridlines above the axis
    scale = (bottom - top) / (4 * step)
    chart.y_ticks = [Tick(bottom - step * i * scale, str(step * i)) for i in range(5)]
    every = max(1, math.ceil(len(chart.periods) / 12))  # about a dozen labels, never overlapping
    chart.x_ticks = [
        Tick(left + i * group + group / 2, _period_label(period))
        for i, period in enumerate(chart.periods)
        if i % every == 0
    ]
    for i, period in enumerate(chart.periods):
        for k, kind in enumerate(PARTICIPATION_KINDS):
            value = chart.counts[kind][i]
            if value:
                height = value * scale
                chart.bars.append(
                    Bar(
                        kind=kind,
                        x=left + i * group + k * bar + gap / 2,
                        y=bottom - height,
                        width=bar,
                        height=height,
                        value=value,
                        period=_period_label(period) if chart.by_day else f"week of {_period_label(period)}",
                    )
                )


# -- heat map ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    paragraph: Paragraph
    count: int
    level: int
    url: str


def heat_map(user, course: Course) -> list[tuple[str, list[HeatCell]]]:
    """Every paragraph of the course's reading, by section, with its count of shared
    annotations and a shade step (0 for none, then 1…``HEAT_STEPS`` relative to the busiest)."""
    counts = dict(
        shared_annotations(user, course)
        .filter(paragraph__isnull=False)
        .values("paragraph_id")
        .annotate(total=Count("pk"))
        .order_by()
        .values_list("paragraph_id", "total")
    )
    busiest = max(counts.values(), default=0)
    reading_url = reverse("annotate:reading", kwargs={"pk": course.pk})
    sections: list[tuple[str, list[HeatCell]]] = []
    paragraphs = Paragraph.objects.filter(document_id=course.reading_id).select_related("section")
    for paragraph in paragraphs.order_by("order"):
        count = counts.get(paragraph.pk, 0)
        level = math.ceil(HEAT_STEPS * count / busiest) if count else 0
        cell = HeatCell(paragraph, count, level, f"{reading_url}#{paragraph.anchor}")
        if not sections or sections[-1][0] != paragraph.section.title:
            sections.append((paragraph.section.title, []))
        sections[-1][1].append(cell)
    return sections


# -- most challenged claims --------------------------------------------------------------------


@dataclass(frozen=True)
class ChallengedClaim:
    claim: Claim
    total: int
    by_stance: list[tuple[str, int]]
    evidence: object
    url: str


def most_challenged(user, course: Course, limit: int = TOP_CLAIMS) -> list[ChallengedClaim]:
    """The claims with the most shared challenges, with counts by stance and evidence status."""
    stance_counts = {stance.value: Count("pk", filter=Q(stance=stance.value)) for stance in Stance}
    top = list(
        shared_challenges(user, course)
        .values("claim_id")
        .annotate(total=Count("pk"), **stance_counts)
        .order_by("-total", "claim_id")[:limit]
    )
    claims = Claim.objects.in_bulk([row["claim_id"] for row in top])
    evidence = evidence_for(course, list(claims))
    return [
        ChallengedClaim(
            claim=claims[row["claim_id"]],
            total=row["total"],
            by_stance=[(str(stance.label), row[stance.value]) for stance in Stance],
            evidence=evidence[row["claim_id"]],
            url=reverse("challenges:claim", kwargs={"pk": course.pk, "key": claims[row["claim_id"]].key}),
        )
        for row in top
    ]


# -- what waits for staff ----------------------------------------------------------------------


@dataclass(frozen=True)
class OpenItem:
    text: str
    url: str
    created_at: dt.datetime


@dataclass(frozen=True)
class OpenItems:
    key: str
    title: str
    count: int
    items: list[OpenItem]
    all_url: str


def _open_challenges(user, course: Course) -> OpenItems:
    rows = shared_challenges(user, course).filter(status=ChallengeStatus.OPEN)
    oldest = rows.select_related("claim", "author").order_by("created_at", "pk")[:OPEN_ITEMS_SHOWN]
    return OpenItems(
        key="challenges",
        title=_("Open challenges"),
        count=rows.count(),
        items=[
            OpenItem(
                f"{c.author.get_username()} {c.get_stance_display()} {c.claim.key}",
                reverse("challenges:claim", kwargs={"pk": course.pk, "key": c.claim.key})
                + f"#challenge-{c.pk}",
                c.created_at,
            )
            for c in oldest
        ],
        all_url=reverse("challenges:claims", kwargs={"pk": course.pk}) + "?status=contested",
    )


def _proposed_links(user, course: Course) -> OpenItems:
    rows = selectors.visible_link_proposals(user).filter(course=course, status=ProposalStatus.PROPOSED)
    oldest = rows.select_related("claim", "event", "proposer").order_by("created_at", "pk")[:OPEN_ITEMS_SHOWN]
    # The review page has no anchor per proposal: its section is where staff decide.
    review = reverse("links:review", kwargs={"pk": course.pk})
    return OpenItems(
        key="links",
        title=_("Proposed claim–event links"),
        count=rows.count(),
        items=[
            OpenItem(
                f"{p.claim.key} {p.get_relation_display()} {p.event.title} ({p.proposer.get_username()})",
                f"{review}#link-proposals-heading",
                p.created_at,
            )
            for p in oldest
        ],
        all_url=review,
    )


def _proposed_events(user, course: Course) -> OpenItems:
    rows = selectors.visible_event_proposals(user).filter(course=course, status=ProposalStatus.PROPOSED)
    oldest = rows.select_related("proposer").order_by("created_at", "pk")[:OPEN_ITEMS_SHOWN]
    review = reverse("links:review", kwargs={"pk": course.pk})
    return OpenItems(
        key="events",
        title=_("Proposed events"),
        count=rows.count(),
        items=[
            OpenItem(
                f"{p.title} ({p.proposer.get_username()})", f"{review}#event-proposals-heading", p.created_at
            )
            for p in oldest
        ],
        all_url=review,
    )


def _review_queue(user, course: Course) -> OpenItems:
    """The course's open review queue: flagged work and work waiting for approval, in the
    queue's own order (most flags first, then oldest). The items name the kind, the author
    and the flags, never the work's text: the queue is where staff read it."""
    from annotations.models import ModerationItem
    from annotations.models.moderation import ItemStatus

    rows = ModerationItem.objects.filter(course=course, status=ItemStatus.OPEN)
    first = rows.select_related("author").order_by("-flag_count", "opened_at", "pk")[:OPEN_ITEMS_SHOWN]
    queue = reverse("moderation:queue", kwargs={"pk": course.pk})

    def text(item) -> str:
        author = item.author.get_username() if item.author else "someone"
        why = (
            f"{item.flag_count} flag{'s' if item.flag_count != 1 else ''}" if item.flag_count else "to review"
        )
        return f"{item.kind} by {author} ({why})"

    return OpenItems(
        key="moderation",
        title=_("Review queue"),
        count=rows.count(),
        items=[OpenItem(text(item), queue, item.opened_at) for item in first],
        all_url=queue,
    )


# More kinds of waiting work are one more function of the user and the course returning
# ``OpenItems``; the page lists whatever this tuple holds.
OPEN_ITEM_SOURCES: tuple[Callable[[object, Course], OpenItems], ...] = (
    _open_challenges,
    _proposed_links,
    _proposed_events,
    _review_queue,
)


def open_items(user, course: Course) -> list[OpenItems]:
    """Work waiting for staff, each kind with its count and its oldest items (two queries a kind)."""
    return [source(user, course) for source in OPEN_ITEM_SOURCES]


# -- assignments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentSummary:
    assignment: object
    students: int
    complete: int
    late: int
    mean_score: Decimal | None


def assignments_summary(course: Course) -> list[AssignmentSummary]:
    """Each assignment with how many students completed it and how many needed late work,
    in a fixed number of queries whatever the number of assignments (``course_progress``)."""
    assignments = list(course.assignments.prefetch_related("sections", "claims").order_by("due_at", "pk"))
    for assignment in assignments:
        assignment.course = course  # the scope reads the course's reading; no query for it
    progress_of = course_progress(assignments)
    summaries = []
    for assignment in assignments:
        progress = progress_of[assignment.pk]
        mean = sum((row.score for row in progress), Decimal(0)) / len(progress) if progress else None
        summaries.append(
            AssignmentSummary(
                assignment=assignment,
                students=len(progress),
                complete=sum(1 for row in progress if row.complete),
                late=sum(1 for row in progress if row.late),
                mean_score=mean.quantize(Decimal("0.01")) if mean is not None else None,
            )
        )
    return summaries
