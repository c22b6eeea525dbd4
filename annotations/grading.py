"""What counts toward an assignment, for whom, and the score it earns.

The rules, in one place (pages, API, exports and the dashboard all read them here):

- **Scope.** An assignment with neither sections nor claims covers the whole reading.
  Otherwise a claim is in scope when it is chosen or lies in a chosen section (with its
  subsections); a paragraph is in scope when it lies in a chosen section or holds a chosen
  claim. An annotation is in scope when its paragraph or its claim is; a challenge or a
  link proposal when its claim is; a reply when what it answers is (an annotation, a
  challenge, or a discussion thread about a claim, an annotation or a challenge in scope;
  with the whole reading in scope every thread of the course counts).
- **What counts.** Only work staff can see and that still stands (neither deleted, nor
  hidden by a moderator, nor waiting for approval): annotations with a note
  (a bare highlight does not count) shared with the group or the course, challenges that
  are not private, the distinct sources those challenges cite, replies, responses and
  posts that are not deleted, link proposals that were not declined.
- **Dates.** Work counts from ``opens_at`` to the student's due date (an extension moves
  it) and, marked late, until the end of the late window: the later of the assignment's
  ``late_until`` and the extension's. Work after that does not count.
- **Group work.** Each member is credited with the whole group's work (each piece
  inside its own author's dates); sources are counted once per group.
- **Score.** All or nothing: the points when every requirement is met, else 0. Scaled:
  the points times the mean over requirements of min(done, asked) ÷ asked. When late work
  was needed to meet a requirement the score loses ``late_penalty`` percent. Staff may
  override the score; the override, when there is one, is the grade.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    FilteredRelation,
    IntegerField,
    Model,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from annotations.models import (
    Annotation,
    AnnotationReply,
    Challenge,
    ChallengeResponse,
    ChallengeSource,
    Claim,
    Document,
    LinkProposal,
    Membership,
    Paragraph,
    Post,
    Section,
    Thread,
)
from annotations.models.annotation import Visibility
from annotations.models.assignments import REQUIREMENTS, Assignment, Extension, Grade, Scoring, WorkMode
from annotations.models.challenges import ProposalStatus
from annotations.models.courses import Role
from annotations.models.moderated import ModerationState

CENT = Decimal("0.01")

REQUIREMENT_LABELS = {
    "annotations": _("annotations"),
    "challenges": _("challenges"),
    "sources": _("sources cited"),
    "replies": _("replies"),
    "links": _("claim–event links"),
}


# The ids a scope covers (sections with their subsections, claims, paragraphs), kept per
# process under the reading's id and ``updated_at`` and the sections and claims chosen: every
# save or delete of a section, paragraph or claim touches that stamp (annotations/signals.py),
# so the class table and the reports read one stamp a request instead of three lists.
_SCOPE_IDS: dict[tuple, tuple[frozenset[int], frozenset[int], frozenset[int]]] = {}
_SCOPE_IDS_KEPT = 256

# The SQL of the count queries, kept per process under every value they are built from: the
# database's kind, each of the assignment's columns, the scope's ids, the students' dates,
# the units and the authors (their query's SQL). Building and compiling them is most of a
# report's work; any change to what they read is a new key, so a kept query is never stale.
_COUNT_SQL: dict[tuple, list[tuple[str, type[Model], str | None, tuple]]] = {}
_COUNT_SQL_KEPT = 256


class Scope:
    """The part of the reading an assignment covers, as queries and as sets of ids."""

    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment
        self.reading_id = assignment.course.reading_id
        # Read with the assignment when it was read for a report (``selectors.assignment_for_report``).
        found = assignment.__dict__
        sections, claims = found.get("chosen_section_ids"), found.get("chosen_claim_ids")
        if sections is None or claims is None:
            sections = [section.pk for section in assignment.sections.all()]
            claims = [claim.pk for claim in assignment.claims.all()]
        self.chosen_section_ids, self.chosen_claim_ids = frozenset(sections), frozenset(claims)
        self.whole = not self.chosen_section_ids and not self.chosen_claim_ids

    @cached_property
    def _ids(self) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
        """``(section_ids, claim_ids, paragraph_ids)``: read again only when the reading changed."""
        stamp = self.assignment.__dict__.get("reading_stamp")
        if stamp is None:
            stamp = Document.objects.filter(pk=self.reading_id).values_list("updated_at", flat=True).first()
        key = (self.reading_id, stamp, self.chosen_section_ids, self.chosen_claim_ids)
        found = _SCOPE_IDS.get(key)
        if found is None:
            sections = self._section_ids()
            claims = self.claims(sections).values_list("pk", flat=True)
            paragraphs = self.paragraphs(sections).values_list("pk", flat=True)
            found = (sections, frozenset(claims), frozenset(paragraphs))
            if len(_SCOPE_IDS) >= _SCOPE_IDS_KEPT:
                _SCOPE_IDS.clear()
            # Under the stamp read before the lists, as ``selectors.document_for_reading`` does.
            _SCOPE_IDS[key] = found
        return found

    @property
    def section_ids(self) -> frozenset[int]:
        """The chosen sections and all their subsections."""
        return self._ids[0]

    def _section_ids(self) -> frozenset[int]:
        """The chosen sections and all their subsections (one query, when there are some)."""
        if not self.chosen_section_ids:
            return frozenset()
        children = defaultdict(list)
        for pk, parent_id in Section.objects.filter(document_id=self.reading_id).values_list(
            "pk", "parent_id"
        ):
            children[parent_id].append(pk)
        found, stack = set(), list(self.chosen_section_ids)
        while stack:
            pk = stack.pop()
            if pk not in found:
                found.add(pk)
                stack.extend(children[pk])
        return frozenset(found)

    def claims(self, section_ids: frozenset[int] | None = None) -> QuerySet[Claim]:
        """The claims in scope (``section_ids``: ``self.section_ids``, when known)."""
        claims = Claim.objects.filter(paragraph__document_id=self.reading_id)
        if self.whole:
            return claims
        sections = self.section_ids if section_ids is None else section_ids
        return claims.filter(Q(pk__in=self.chosen_claim_ids) | Q(paragraph__section__in=sections))

    def paragraphs(self, section_ids: frozenset[int] | None = None) -> QuerySet[Paragraph]:
        """The paragraphs in scope (``section_ids`` as above)."""
        paragraphs = Paragraph.objects.filter(document_id=self.reading_id)
        if self.whole:
            return paragraphs
        sections = self.section_ids if section_ids is None else section_ids
        return paragraphs.filter(Q(section__in=sections) | Q(claims__in=self.chosen_claim_ids)).distinct()

    @property
    def claim_ids(self) -> frozenset[int]:
        return self._ids[1]

    @property
    def paragraph_ids(self) -> frozenset[int]:
        return self._ids[2]

    def annotation_q(self, prefix: str = "", *, literal: bool = False) -> Q:
        """Annotations (reached through ``prefix``) in scope.

        With ``literal`` the scope's paragraphs and claims are spelled out as ids (two small
        queries, once per scope) instead of subqueries: the database then knows how few rows
        they are when it plans a count over a large table.
        """
        if self.whole:
            return Q()
        paragraphs = sorted(self.paragraph_ids) if literal else self.paragraphs().values("pk")
        claims = sorted(self.claim_ids) if literal else self.claims().values("pk")
        return Q(**{f"{prefix}paragraph__in": paragraphs}) | Q(**{f"{prefix}claim__in": claims})

    def claim_q(self, prefix: str = "", *, literal: bool = False) -> Q:
        """Rows whose claim (reached through ``prefix``) is in scope; ``literal`` as above."""
        if self.whole:
            return Q()
        claims = sorted(self.claim_ids) if literal else self.claims().values("pk")
        return Q(**{f"{prefix}claim__in": claims})

    def thread_q(self, prefix: str = "", *, literal: bool = False) -> Q:
        """Threads (reached through ``prefix``) about something in scope; ``literal`` as above."""
        if self.whole:
            return Q()
        return (
            self.claim_q(prefix, literal=literal)
            | self.annotation_q(f"{prefix}annotation__", literal=literal)
            | self.claim_q(f"{prefix}challenge__", literal=literal)
        )

    def covers_annotation(self, annotation: Annotation) -> bool:
        if self.whole:
            return annotation.document_id == self.reading_id
        return annotation.paragraph_id in self.paragraph_ids or annotation.claim_id in self.claim_ids

    def covers_claim(self, claim_id: int | None) -> bool:
        if self.whole:
            return claim_id is not None
        return claim_id in self.claim_ids

    def describe(self) -> str:
        """The scope in words, for pages and exports."""
        return self.assignment.describe_scope()


@dataclass(frozen=True)
class Window:
    """When one student's work counts: on time until ``due_at``, late until ``closes_at``."""

    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    extended: bool = False

    def timing(self, moment: datetime) -> str | None:
        """``"on_time"``, ``"late"`` or ``None`` (outside the dates: does not count)."""
        if moment < self.opens_at or moment > self.closes_at:
            return None
        return "on_time" if moment <= self.due_at else "late"


def window_for(assignment: Assignment, extension: Extension | None = None) -> Window:
    if extension is None:
        return Window(assignment.opens_at, assignment.due_at, assignment.closes_at)
    closes_at = max(extension.late_until or extension.due_at, assignment.closes_at)
    return Window(assignment.opens_at, extension.due_at, closes_at, extended=True)


@dataclass(frozen=True)
class Tally:
    """One requirement for one student: asked, done on time, done late."""

    required: int
    on_time: int = 0
    late: int = 0

    @property
    def counted(self) -> int:
        return self.on_time + self.late

    @property
    def missing(self) -> int:
        return max(0, self.required - self.counted)

    @property
    def met(self) -> bool:
        return self.counted >= self.required

    @property
    def needed_late(self) -> bool:
        """Late work was needed to get as far as this: it is marked late."""
        return self.on_time < self.required and self.late > 0


def is_late(tallies: dict[str, Tally]) -> bool:
    """Late work was needed for some requirement: the student's work is marked late."""
    return any(tally.needed_late for tally in tallies.values())


def is_complete(tallies: dict[str, Tally]) -> bool:
    """Every requirement is met."""
    return all(tally.met for tally in tallies.values())


@dataclass
class Progress:
    """One student's standing on one assignment."""

    assignment: Assignment
    student: object
    group: object | None
    window: Window
    tallies: dict[str, Tally]
    grade: Grade | None = None
    auto_score: Decimal = field(init=False)
    formula: str = field(init=False)

    def __post_init__(self) -> None:
        self.auto_score, self.formula = score(self.assignment, self.tallies)

    @property
    def late(self) -> bool:
        return is_late(self.tallies)

    @property
    def complete(self) -> bool:
        return is_complete(self.tallies)

    @property
    def overridden(self) -> bool:
        return self.grade is not None and self.grade.score is not None

    @property
    def score(self) -> Decimal:
        """The grade: staff's override when there is one, else the automatic score."""
        return self.grade.score if self.overridden else self.auto_score

    @property
    def feedback_html(self) -> str:
        return self.grade.feedback_html if self.grade else ""

    @property
    def missing(self) -> dict[str, int]:
        return {kind: tally.missing for kind, tally in self.tallies.items() if tally.missing}


def format_score(value: Decimal) -> str:
    """A score as people write it: ``10``, ``7.5``, ``6.67`` (never ``1E+1`` or ``7.50``)."""
    text = f"{value.quantize(CENT, ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def score(assignment: Assignment, tallies: dict[str, Tally]) -> tuple[Decimal, str]:
    """The automatic score for these tallies and the formula that gave it, in words."""
    points = Decimal(assignment.points)
    asked = [tally for tally in tallies.values() if tally.required]
    if not asked:
        return points.quantize(CENT), f"nothing is asked: {format_score(points)}"
    if assignment.scoring == Scoring.ALL_OR_NOTHING:
        met = sum(1 for tally in asked if tally.met)
        base = points if met == len(asked) else Decimal(0)
        formula = f"{met} of {len(asked)} requirements met → {format_score(base)}"
    else:
        fraction = sum(Decimal(min(t.counted, t.required)) / Decimal(t.required) for t in asked) / len(asked)
        base = points * fraction
        terms = " + ".join(f"{min(t.counted, t.required)}/{t.required}" for t in asked)
        formula = f"{format_score(points)} × ({terms}) ÷ {len(asked)} = {format_score(base)}"
    result = base
    if assignment.late_penalty and any(tally.needed_late for tally in asked) and base:
        result = base * (100 - assignment.late_penalty) / 100
        formula += f"; late: − {assignment.late_penalty}% = {format_score(result)}"
    return result.quantize(CENT, ROUND_HALF_UP), formula


# -- counting ---------------------------------------------------------------------------


class _Counter:
    """Counts each student's work per requirement in a fixed number of queries."""

    def __init__(self, assignment: Assignment, windows: dict[int, Window], default: Window) -> None:
        self.assignment = assignment
        self.course_id = assignment.course_id
        self.scope = Scope(assignment)
        self.windows = windows
        self.default = default

    def _bounds(self, author: str) -> tuple[Case | Value, Case | Value]:
        """Per-author due date and close date as SQL, from the extensions."""
        if not self.windows:
            return Value(self.default.due_at), Value(self.default.closes_at)
        due = Case(
            *[When(**{f"{author}_id": pk, "then": Value(w.due_at)}) for pk, w in self.windows.items()],
            default=Value(self.default.due_at),
            output_field=DateTimeField(),
        )
        closes = Case(
            *[When(**{f"{author}_id": pk, "then": Value(w.closes_at)}) for pk, w in self.windows.items()],
            default=Value(self.default.closes_at),
            output_field=DateTimeField(),
        )
        return due, closes

    def _dated(self, rows: QuerySet, author: str, created: str) -> QuerySet:
        due, closes = self._bounds(author)
        return (
            rows.alias(_due=due, _closes=closes)
            .filter(**{f"{created}__gte": self.assignment.opens_at})
            .filter(**{f"{created}__lte": F("_closes")})
        )

    def _tally_rows(
        self, rows: QuerySet, *, author: str, created: str = "created_at", authors=None
    ) -> QuerySet:
        """One aggregated query: ``_key`` (the author's id), ``total`` and ``on_time`` for the
        rows inside each author's dates."""
        rows = self._dated(rows, author, created)
        if authors is not None:
            rows = rows.filter(**{f"{author}_id__in": authors})
        # COUNT(*) and the (never null) date rather than the ids: a covering index then
        # answers the count alone, without reading the rows (annotation_counted_idx).
        return (
            rows.values(_key=F(f"{author}_id"))
            .annotate(total=Count("*"), on_time=Count(created, filter=Q(**{f"{created}__lte": F("_due")})))
            .order_by()
        )

    def tally(self, rows: QuerySet, *, author: str, created: str = "created_at", authors=None) -> dict:
        """``{author_id: (on_time, late)}`` for the rows inside each author's dates."""
        found = self._tally_rows(rows, author=author, created=created, authors=authors)
        return {row["_key"]: (row["on_time"], row["total"] - row["on_time"]) for row in found}

    def annotations(self) -> QuerySet:
        return Annotation.objects.filter(
            self.scope.annotation_q(literal=True),
            course_id=self.course_id,
            deleted_at__isnull=True,
            moderation=ModerationState.PUBLISHED,
        ).exclude(Q(visibility=Visibility.PRIVATE) | Q(body=""))

    def challenges(self) -> QuerySet:
        return Challenge.objects.filter(
            self.scope.claim_q(literal=True),
            course_id=self.course_id,
            deleted_at__isnull=True,
            moderation=ModerationState.PUBLISHED,
        ).exclude(visibility=Visibility.PRIVATE)

    def citations(self) -> QuerySet:
        return ChallengeSource.objects.filter(challenge__in=self.challenges().values("pk"))

    def reply_sets(self) -> list[tuple[QuerySet, str]]:
        counted_annotations = Annotation.objects.filter(
            self.scope.annotation_q(literal=True),
            course_id=self.course_id,
            deleted_at__isnull=True,
            moderation=ModerationState.PUBLISHED,
        ).exclude(visibility=Visibility.PRIVATE)
        return [
            (
                AnnotationReply.objects.filter(
                    annotation__in=counted_annotations.values("pk"), deleted_at__isnull=True
                ),
                "author",
            ),
            (
                ChallengeResponse.objects.filter(
                    challenge__in=self.challenges().values("pk"), deleted_at__isnull=True
                ),
                "author",
            ),
            (
                # The threads in scope first (a course has few), then their posts: joined
                # post by post, the scope would be tested on every post of the class.
                Post.objects.filter(
                    thread__in=Thread.objects.filter(
                        self.scope.thread_q(literal=True), course_id=self.course_id
                    ).values("pk"),
                    deleted_at__isnull=True,
                    moderation=ModerationState.PUBLISHED,
                ),
                "author",
            ),
        ]

    def links(self) -> QuerySet:
        return LinkProposal.objects.filter(
            self.scope.claim_q(literal=True), course_id=self.course_id
        ).exclude(status=ProposalStatus.DECLINED)

    def distinct_sources(self, units: dict[int, int]) -> dict[int, tuple[int, int]]:
        """Distinct sources per unit (``units`` maps author → unit id) — each source once."""
        if not units:
            return {}
        found = self._source_rows(units)
        return {row["_key"]: (row["on_time"], row["total"] - row["on_time"]) for row in found}

    def _source_rows(self, units: dict[int, int]) -> QuerySet:
        """One aggregated query: ``_key`` (the unit's id), ``total`` and ``on_time`` distinct sources."""
        unit = Case(
            *[When(challenge__author_id=pk, then=Value(unit_id)) for pk, unit_id in units.items()],
            default=Value(None),
            output_field=IntegerField(),
        )
        rows = self._dated(self.citations(), "challenge__author", "challenge__created_at")
        return (
            rows.filter(challenge__author_id__in=list(units))
            .annotate(_unit=unit)
            .values(_key=F("_unit"))
            .annotate(
                total=Count("source", distinct=True),
                on_time=Count("source", distinct=True, filter=Q(challenge__created_at__lte=F("_due"))),
            )
            .order_by()
        )

    def queries(self, units: dict[int, int], authors: QuerySet | None = None) -> list[tuple[str, QuerySet]]:
        """The aggregated queries behind ``count``, each with its requirement: rows of ``_key``
        (an author's id; a unit's for sources), ``total`` and ``on_time``. ``authors``, the
        ids of ``units`` as a query, spares a list of every student's id in each query."""
        required = self.assignment.required()
        authors = list(units) if authors is None else authors
        queries: list[tuple[str, QuerySet]] = []
        if required["annotations"]:
            queries.append(
                ("annotations", self._tally_rows(self.annotations(), author="author", authors=authors))
            )
        if required["challenges"]:
            queries.append(
                ("challenges", self._tally_rows(self.challenges(), author="author", authors=authors))
            )
        if required["replies"]:
            for rows, author in self.reply_sets():
                queries.append(("replies", self._tally_rows(rows, author=author, authors=authors)))
        if required["links"]:
            queries.append(("links", self._tally_rows(self.links(), author="proposer", authors=authors)))
        if required["sources"] and units:
            queries.append(("sources", self._source_rows(units)))
        return queries

    @staticmethod
    def combine(
        units: dict[int, int], found: Iterable[tuple[str, dict]]
    ) -> dict[int, dict[str, tuple[int, int]]]:
        """``{unit: {requirement: (on_time, late)}}`` from the rows of ``queries``."""
        result: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
        for kind, row in found:
            on_time, late = row["on_time"], row["total"] - row["on_time"]
            if kind == "sources":  # already per unit, each source once
                result[row["_key"]][kind] = (on_time, late)
                continue
            unit = units.get(row["_key"])
            if unit is None:  # joined the class since ``units`` was read
                continue
            before = result[unit].get(kind, (0, 0))
            result[unit][kind] = (before[0] + on_time, before[1] + late)
        return result

    def count(
        self, units: dict[int, int], authors: QuerySet | None = None
    ) -> dict[int, dict[str, tuple[int, int]]]:
        """``{unit: {requirement: (on_time, late)}}`` for the requirements the assignment asks
        for (``authors`` as in ``queries``)."""
        alias = router.db_for_read(Annotation)
        key = self._key(units, authors, connections[alias].vendor)
        compiled = _COUNT_SQL.get(key)
        if compiled is None:
            compiled = [
                (kind, rows.model, *_compiled(rows, alias)) for kind, rows in self.queries(units, authors)
            ]
            if len(_COUNT_SQL) >= _COUNT_SQL_KEPT:
                _COUNT_SQL.clear()
            _COUNT_SQL[key] = compiled
        return self.combine(units, _rows_of(compiled))

    def _key(self, units: dict[int, int], authors: QuerySet | None, vendor: str) -> tuple:
        """Every value ``queries`` reads, for ``_COUNT_SQL``."""
        assignment = self.assignment
        return (
            vendor,
            tuple(getattr(assignment, column.attname) for column in assignment._meta.concrete_fields),
            self.course_id,
            self.scope.reading_id,
            # The whole reading's queries name no ids: its scope is not read for them.
            True if self.scope.whole else self.scope._ids,
            self.default,
            tuple(sorted(self.windows.items())),
            tuple(sorted(units.items())),
            None if authors is None else authors.query.sql_with_params(),
        )


def _compiled(rows: QuerySet, alias: str) -> tuple[str | None, tuple]:
    """``rows``' SQL and parameters for ``alias`` (``None`` when they can match nothing)."""
    try:
        sql, params = rows.query.get_compiler(using=alias).as_sql()
    except EmptyResultSet:  # an empty list of ids: the ORM would not ask the database either
        return None, ()
    return sql, tuple(params)


def _rows_of(compiled: list[tuple[str, type[Model], str | None, tuple]]) -> Iterable[tuple[str, dict]]:
    """Run compiled count queries: ``(requirement, row)`` with each row's columns by name."""
    for kind, model, sql, params in compiled:
        if sql is None:
            continue
        with connections[router.db_for_read(model)].cursor() as cursor:
            cursor.execute(sql, params)
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        for values in rows:
            yield kind, dict(zip(names, values, strict=True))


PROGRESS_COLUMNS = (
    "course_id", "user_id", "group_id", "role", "user__username", "user__first_name", "user__last_name",
    "user__email", "group__name",
)  # fmt: skip


def class_progress(
    assignment: Assignment, *, students: Iterable[int] | None = None, group_id: int | None = None
) -> list[Progress]:
    """Every student's progress on ``assignment`` (or those asked for), by username.

    A fixed number of queries, whatever the size of the class: the students, their
    extensions and grades, the scope, and one query per kind of work asked for.
    """
    # The columns the lines show (a user's password, dates and flags are not read).
    memberships = _students(assignment, group_id).select_related("user", "group").only(*PROGRESS_COLUMNS)
    all_members = list(memberships if students is None else memberships.filter(user_id__in=list(students)))
    units, windows, counts = _class_counts(
        assignment,
        [(m.user_id, m.group_id) for m in all_members],
        everyone=_students(assignment, group_id) if students is None else None,
    )
    if not all_members:
        return []
    grades = {
        grade.student_id: grade
        for grade in Grade.objects.filter(
            assignment=assignment, student_id__in=[m.user_id for m in all_members]
        )
        .select_related("graded_by")
        .order_by()  # a lookup by student: the default order would join the users to sort
    }
    return _progress(assignment, all_members, units, windows, grades, counts)


def _students(assignment: Assignment, group_id: int | None) -> QuerySet[Membership]:
    """The memberships of the course's students (of one group), by username."""
    memberships = Membership.objects.filter(course_id=assignment.course_id, role=Role.STUDENT).order_by(
        "user__username"
    )
    return memberships if group_id is None else memberships.filter(group_id=group_id)


def _class_counts(
    assignment: Assignment, members: list[tuple[int, int | None]], *, everyone: QuerySet | None = None
) -> tuple[dict[int, int], dict[int, Window], dict[int, dict[str, tuple[int, int]]]]:
    """For ``members`` (``(user id, group id)`` pairs): the unit each author's work counts
    for, the students' own dates (those with an extension) and the counts per unit.

    ``everyone``, when ``members`` are all the students of the course or of one group (so
    their groups' whole teams too), is their memberships' query: the counts then name the
    authors by that query rather than by a list of several hundred ids."""
    if assignment.work_mode == WorkMode.GROUP:
        # Group work needs every member of the groups concerned, not only the students asked for.
        group_ids = {group_id for _user_id, group_id in members if group_id}
        team = Membership.objects.filter(
            course_id=assignment.course_id, role=Role.STUDENT, group_id__in=group_ids
        ).values_list("user_id", "group_id")
        # Groups and lone students share one key space: groups are negative.
        units = {user_id: -group_id for user_id, group_id in team}
        units.update({user_id: -group_id if group_id else user_id for user_id, group_id in members})
    else:
        units = {user_id: user_id for user_id, _group_id in members}
    if not members:
        return units, {}, {}
    authors = None if everyone is None else everyone.values("user_id")
    extensions = Extension.objects.filter(
        assignment=assignment, student_id__in=list(units) if authors is None else authors
    ).order_by()
    # Read apart from ``members``: a student who joined since has no line, so no dates.
    windows = {ext.student_id: window_for(assignment, ext) for ext in extensions if ext.student_id in units}
    counts = _Counter(assignment, windows, window_for(assignment)).count(units, authors)
    return units, windows, counts


@dataclass(frozen=True)
class Standing:
    """One student's line of the class table and of the API's reports: what their
    ``Progress`` says, from plain values (a line per student: no user, group and grade
    built for each)."""

    student_id: int
    username: str
    name: str  # as ``get_full_name`` gives it
    group_id: int | None
    group_name: str | None
    window: Window
    tallies: dict[str, Tally]
    auto_score: Decimal
    formula: str
    graded: bool
    override: Decimal | None
    feedback: str
    feedback_html: str
    version: int  # of the grade; 0 before any
    graded_by: str | None
    graded_at: datetime | None
    late: bool
    complete: bool

    @property
    def score(self) -> Decimal:
        """The grade: staff's override when there is one, else the automatic score."""
        return self.auto_score if self.override is None else self.override


# A standing's grade fields before any grade: score, feedback (and as HTML), version, grader, time.
UNGRADED = (None, "", "", 0, None, None)


def class_standings(
    assignment: Assignment, *, students: Iterable[int] | None = None, group_id: int | None = None
) -> list[Standing]:
    """Every student's standing on ``assignment`` (or those asked for, or of one group), by
    username: the numbers ``class_progress`` gives, in as many queries, for the class table
    and the API's reports."""
    memberships = _students(assignment, group_id)
    if students is not None:
        memberships = memberships.filter(user_id__in=list(students))
    # Each student with their grade, when there is one (one at most: grade_unique), in one
    # query; a grade of someone no longer a student is never read.
    lines = memberships.annotate(
        grade=FilteredRelation("user__grades", condition=Q(user__grades__assignment=assignment))
    ).values_list(
        "user_id", "user__username", "user__first_name", "user__last_name", "group_id", "group__name",
        "grade__id", "grade__score", "grade__feedback", "grade__feedback_html", "grade__version",
        "grade__graded_by__username", "grade__graded_at",
    )  # fmt: skip
    members, graded = [], {}
    for line in lines:
        members.append(line[:6])
        if line[6] is not None:
            graded[line[0]] = line[7:]
    units, windows, counts = _class_counts(
        assignment,
        [(user_id, group) for user_id, _name, _first, _last, group, _group_name in members],
        everyone=_students(assignment, group_id) if students is None else None,
    )
    if not members:
        return []
    required = assignment.required()
    asked = [kind for kind in REQUIREMENTS if required[kind]]
    default = window_for(assignment)
    # Many students share their tallies (nothing done yet, all done): each different set
    # is scored once.
    scored: dict[tuple, tuple[dict[str, Tally], Decimal, str, bool, bool]] = {}
    standings = []
    for user_id, username, first_name, last_name, group, group_name in members:
        found = counts.get(units[user_id], {})
        key = tuple(found.get(kind, (0, 0)) for kind in asked)
        if key not in scored:
            tallies = {kind: Tally(required[kind], *done) for kind, done in zip(asked, key, strict=True)}
            scored[key] = (tallies, *score(assignment, tallies), is_late(tallies), is_complete(tallies))
        tallies, auto_score, formula, late, complete = scored[key]
        grade = graded.get(user_id)
        override, feedback, feedback_html, version, graded_by, graded_at = grade or UNGRADED
        standings.append(
            Standing(
                student_id=user_id,
                username=username,
                name=f"{first_name} {last_name}".strip(),
                group_id=group,
                group_name=group_name,
                window=windows.get(user_id, default),
                tallies=tallies,
                auto_score=auto_score,
                formula=formula,
                graded=grade is not None,
                override=override,
                feedback=feedback,
                feedback_html=feedback_html,
                version=version,
                graded_by=graded_by,
                graded_at=graded_at,
                late=late,
                complete=complete,
            )
        )
    return standings


def _progress(
    assignment: Assignment,
    members: list[Membership],
    units: dict[int, int],
    windows: dict[int, Window],
    grades: dict[int, Grade],
    counts: dict[int, dict[str, tuple[int, int]]],
) -> list[Progress]:
    default = window_for(assignment)
    required = assignment.required()
    asked = [kind for kind in REQUIREMENTS if required[kind]]
    progress = []
    for membership in members:
        found = counts.get(units[membership.user_id], {})
        tallies = {kind: Tally(required[kind], *found.get(kind, (0, 0))) for kind in asked}
        progress.append(
            Progress(
                assignment=assignment,
                student=membership.user,
                group=membership.group,
                window=windows.get(membership.user_id, default),
                tallies=tallies,
                grade=grades.get(membership.user_id),
            )
        )
    return progress


def course_progress(assignments: Iterable[Assignment]) -> dict[int, list[Progress]]:
    """Every student's progress on each of ``assignments`` (all of one course), by
    assignment id, as ``class_progress`` gives it for one.

    A fixed number of queries, whatever the number of assignments and the size of the
    class: the students, the extensions, the grades, and one query per kind of work asked
    for (each assignment's count is one part of a ``UNION ALL``).
    """
    assignments = list(assignments)
    if not assignments:
        return {}
    members = list(
        Membership.objects.filter(course_id=assignments[0].course_id, role=Role.STUDENT)
        .select_related("user", "group")
        .order_by("user__username")
    )
    if not members:
        return {assignment.pk: [] for assignment in assignments}
    student_ids = [m.user_id for m in members]
    ids = [assignment.pk for assignment in assignments]
    extensions: dict[int, dict[int, Extension]] = defaultdict(dict)
    for ext in Extension.objects.filter(assignment_id__in=ids, student_id__in=student_ids):
        extensions[ext.assignment_id][ext.student_id] = ext
    grades: dict[int, dict[int, Grade]] = defaultdict(dict)
    for grade in Grade.objects.filter(assignment_id__in=ids, student_id__in=student_ids).select_related(
        "graded_by"
    ):
        grades[grade.assignment_id][grade.student_id] = grade
    # Every student is here, so a group's whole team is too: no query for the teams.
    group_units = {m.user_id: -m.group_id if m.group_id else m.user_id for m in members}
    lone_units = {m.user_id: m.user_id for m in members}
    plans = []
    by_kind: dict[str, list[QuerySet]] = defaultdict(list)
    for assignment in assignments:
        units = group_units if assignment.work_mode == WorkMode.GROUP else lone_units
        windows = {pk: window_for(assignment, ext) for pk, ext in extensions[assignment.pk].items()}
        counter = _Counter(assignment, windows, window_for(assignment))
        for kind, rows in counter.queries(units):
            by_kind[kind].append(rows.annotate(_assignment=Value(assignment.pk, output_field=IntegerField())))
        plans.append((assignment, units, windows))
    found: dict[int, list[tuple[str, dict]]] = defaultdict(list)
    for kind, parts in by_kind.items():
        for row in parts[0].union(*parts[1:], all=True):
            found[row["_assignment"]].append((kind, row))
    return {
        assignment.pk: _progress(
            assignment,
            members,
            units,
            windows,
            grades[assignment.pk],
            _Counter.combine(units, found[assignment.pk]),
        )
        for assignment, units, windows in plans
    }


def student_progress(assignment: Assignment, student) -> Progress | None:
    """One student's progress; ``None`` when they are not a student of the course."""
    found = class_progress(assignment, students=[student.pk])
    return found[0] if found else None


def counted_work(assignment: Assignment, student) -> dict[str, list[tuple[object, str]]]:
    """The student's own pieces of work that count, each with ``"on_time"`` or ``"late"``,
    for the student's progress page."""
    extension = Extension.objects.filter(assignment=assignment, student=student).first()
    window = window_for(assignment, extension)
    counter = _Counter(assignment, {}, window)
    mine = {
        "annotations": counter.annotations().filter(author=student).select_related("paragraph"),
        "challenges": counter.challenges().filter(author=student).select_related("claim"),
        "links": counter.links().filter(proposer=student).select_related("claim", "event"),
    }
    found: dict[str, list[tuple[object, str]]] = {}
    for kind, rows in mine.items():
        items = [(row, window.timing(row.created_at)) for row in rows.order_by("created_at", "pk")]
        found[kind] = [(row, timing) for row, timing in items if timing]
    replies = []
    for rows, _author in counter.reply_sets():
        for row in rows.filter(author=student).order_by("created_at", "pk"):
            timing = window.timing(row.created_at)
            if timing:
                replies.append((row, timing))
    found["replies"] = sorted(replies, key=lambda pair: pair[0].created_at)
    return found
