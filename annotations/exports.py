"""Grade exports and the class's work as data: pure functions that build rows and dicts.

The views only check who asks and wrap these in a response. Everything is read in a fixed
number of queries whatever the size of the class or the amount of work.

CSV files are for spreadsheets, so every text cell passes through ``spreadsheet_safe``: a
cell a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage
return first) gets a leading ``'`` and is shown as the text it is. Scores are written as
plain numbers (``8.5``) and never pass through the guard, so they stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.text import slugify

from annotations import selectors
from annotations.grading import Progress, Scope, _Counter, class_progress, window_for
from annotations.models import (
    AnnotationReply,
    Assignment,
    ChallengeResponse,
    Course,
    Extension,
    Membership,
    Post,
)
from annotations.models.annotation import Visibility
from annotations.models.assignments import REQUIREMENTS
from annotations.models.challenges import ChallengeSource

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CENT = Decimal("0.01")

Cell = str | int | Decimal


# -- cells and files ---------------------------------------------------------------------


def spreadsheet_safe(value: Cell | None) -> str:
    """A cell's text, neutralised against spreadsheet formula injection.

    Numbers are written as they are (a negative number is a number, not a formula);
    text that a spreadsheet would evaluate gets a leading apostrophe.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal):
        return plain_number(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def plain_number(value: int | Decimal) -> str:
    """``8.5``, ``10``, ``7.25``: no exponent, no thousands separator, ``.`` as decimal point."""
    if isinstance(value, int):
        return str(value)
    text = f"{value.quantize(CENT, ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def csv_text(rows: Iterable[Sequence[Cell | None]]) -> str:
    """The rows as CSV text for spreadsheets: a UTF-8 BOM first (so Excel reads non-ASCII
    names), CRLF line ends (the csv module's default), every cell through ``spreadsheet_safe``."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buffer.getvalue()


def export_filename(assignment: Assignment, suffix: str = "grades.csv") -> str:
    """``<course-slug>-<assignment-slug>-grades.csv``; ASCII only, so every browser keeps it."""
    course = slugify(assignment.course.title) or f"course-{assignment.course_id}"
    title = slugify(assignment.title) or f"assignment-{assignment.pk}"
    return f"{course}-{title}-{suffix}"


def display_name(user) -> str:
    """``Last, First`` as gradebooks sort students, or the username when there is no name."""
    first, last = user.first_name.strip(), user.last_name.strip()
    if first and last:
        return f"{last}, {first}"
    return last or first or user.get_username()


# -- grades ------------------------------------------------------------------------------


CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def canvas_rows(assignment: Assignment, progress: Iterable[Progress]) -> list[list[Cell]]:
    """Rows of a CSV that Canvas's gradebook import (Grades › Import) accepts.

    The layout is the one Canvas exports: ``Student, ID, SIS User ID, SIS Login ID,
    Section`` then one column per assignment, a ``Points Possible`` row under the header,
    then one row per student.

    How Canvas matches students: by its own ``ID`` when present, else by ``SIS User ID``,
    else by ``SIS Login ID``. We do not know Canvas's ids, so ``ID`` and ``SIS User ID`` are
    left blank and the **SIS Login ID is the username here**: usernames must be the
    institution's login ids for rows to match (unmatched rows are listed by Canvas and
    skipped). The assignment column carries no Canvas id, so on import Canvas offers to
    create a new assignment or lets the instructor map the column onto an existing one.
    The ``Section`` column is the student's group here; Canvas ignores it for matching.
    A username starting with ``-``, ``+`` or ``@`` leaves with the formula guard's ``'`` in
    front and will not match: safety against formula injection comes first.
    """
    rows: list[list[Cell]] = [
        [*CANVAS_HEADER, assignment.title],
        ["Points Possible", "", "", "", "", assignment.points],
    ]
    for row in progress:
        student = row.student
        rows.append(
            [
                display_name(student),
                "",
                "",
                student.get_username(),
                row.group.name if row.group else "",
                row.score,
            ]
        )
    return rows


def grades_header(assignment: Assignment) -> list[str]:
    """The plain sheet's header: the requirements asked for appear by their short names."""
    asked = [kind for kind in REQUIREMENTS if assignment.required()[kind]]
    per_requirement = [f"{kind} {column}" for kind in asked for column in ("done", "asked", "late")]
    return [
        "username",
        "name",
        "email",
        "group",
        *per_requirement,
        "late",
        "automatic score",
        "formula",
        "override",
        "final score",
        "feedback",
        "graded by",
        "graded at",
        "grades released",
    ]


def grades_rows(assignment: Assignment, progress: Iterable[Progress]) -> list[list[Cell | None]]:
    """The plain grade sheet: one row per student with every number behind the grade.

    Feedback is the Markdown staff wrote (plain text reads better in a spreadsheet than
    HTML); dates are ISO 8601.
    """
    asked = [kind for kind in REQUIREMENTS if assignment.required()[kind]]
    released = assignment.grades_released
    rows: list[list[Cell | None]] = [grades_header(assignment)]
    for row in progress:
        student, grade = row.student, row.grade
        cells: list[Cell | None] = [
            student.get_username(),
            student.get_full_name(),
            student.email,
            row.group.name if row.group else "",
        ]
        for kind in asked:
            tally = row.tallies[kind]
            cells += [tally.counted, tally.required, tally.late]
        graded_by = grade.graded_by.get_username() if grade and grade.graded_by else ""
        graded_at = grade.graded_at.isoformat() if grade and grade.graded_at else ""
        cells += [
            row.late,
            row.auto_score,
            row.formula,
            grade.score if row.overridden else "",
            row.score,
            grade.feedback if grade else "",
            graded_by,
            graded_at,
            released,
        ]
        rows.append(cells)
    return rows


# -- an assignment's work as JSON ----------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def assignment_work(assignment: Assignment) -> dict[str, Any]:
    """The assignment and each student's standing with the pieces of their own work that count.

    Set-based: the class's counted work is read once per kind for the whole class (through
    the same querysets ``grading`` counts with), then sorted out by author, so the number
    of queries does not grow with the class. In group work the tallies credit the group's
    work; ``work`` lists what the student wrote themselves. Only published work counts
    (``grading``'s rule), so hidden and waiting work is neither tallied nor listed here.
    """
    progress = class_progress(assignment)
    student_ids = [row.student.pk for row in progress]
    extensions = {
        ext.student_id: ext
        for ext in Extension.objects.filter(assignment=assignment, student_id__in=student_ids)
    }
    windows = {pk: window_for(assignment, ext) for pk, ext in extensions.items()}
    default = window_for(assignment)
    counter = _Counter(assignment, windows, default)
    work: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"annotations": [], "challenges": [], "links": [], "replies": []}
    )

    def timing(author_id: int, moment: datetime) -> str | None:
        return windows.get(author_id, default).timing(moment)

    annotations = (
        counter.annotations()
        .filter(author_id__in=student_ids)
        .select_related("paragraph")
        .order_by("created_at", "pk")
    )
    for item in annotations:
        if when := timing(item.author_id, item.created_at):
            work[item.author_id]["annotations"].append(
                {
                    "id": item.pk,
                    "paragraph": item.paragraph_anchor,
                    "exact": item.exact,
                    "body": item.body,
                    "created_at": _iso(item.created_at),
                    "timing": when,
                }
            )
    citations = ChallengeSource.objects.select_related("source").order_by("pk")
    challenges = (
        counter.challenges()
        .filter(author_id__in=student_ids)
        .select_related("claim")
        .prefetch_related(Prefetch("citations", citations))
        .order_by("created_at", "pk")
    )
    for item in challenges:
        if when := timing(item.author_id, item.created_at):
            work[item.author_id]["challenges"].append(
                {
                    "id": item.pk,
                    "claim": item.claim.key,
                    "stance": item.stance,
                    "status": item.status,
                    "sources": [citation.source.key for citation in item.citations.all()],
                    "created_at": _iso(item.created_at),
                    "timing": when,
                }
            )
    links = (
        counter.links()
        .filter(proposer_id__in=student_ids)
        .select_related("claim", "event")
        .order_by("created_at", "pk")
    )
    for item in links:
        if when := timing(item.proposer_id, item.created_at):
            work[item.proposer_id]["links"].append(
                {
                    "id": item.pk,
                    "claim": item.claim.key,
                    "event": item.event.key,
                    "relation": item.relation,
                    "status": item.status,
                    "created_at": _iso(item.created_at),
                    "timing": when,
                }
            )
    reply_kinds = {AnnotationReply: "annotation reply", ChallengeResponse: "challenge response", Post: "post"}
    for rows, _author in counter.reply_sets():
        for item in rows.filter(author_id__in=student_ids).order_by("created_at", "pk"):
            if when := timing(item.author_id, item.created_at):
                work[item.author_id]["replies"].append(
                    {
                        "id": item.pk,
                        "kind": reply_kinds[type(item)],
                        "body": item.body,
                        "created_at": _iso(item.created_at),
                        "timing": when,
                    }
                )
    for found in work.values():
        found["replies"].sort(key=lambda reply: reply["created_at"])

    required = assignment.required()
    return {
        "assignment": {
            "id": assignment.pk,
            "title": assignment.title,
            "course": assignment.course.title,
            "scope": Scope(assignment).describe(),
            "opens_at": _iso(assignment.opens_at),
            "due_at": _iso(assignment.due_at),
            "late_until": _iso(assignment.late_until),
            "late_penalty": assignment.late_penalty,
            "work_mode": assignment.work_mode,
            "scoring": assignment.scoring,
            "points": plain_number(assignment.points),
            "requirements": {kind: required[kind] for kind in REQUIREMENTS if required[kind]},
            "grades_released": assignment.grades_released,
        },
        "students": [
            {
                "username": row.student.get_username(),
                "name": row.student.get_full_name(),
                "group": row.group.name if row.group else None,
                "due_at": _iso(row.window.due_at),
                "extended": row.window.extended,
                "tallies": {
                    kind: {"asked": tally.required, "on_time": tally.on_time, "late": tally.late}
                    for kind, tally in row.tallies.items()
                },
                "late": row.late,
                "complete": row.complete,
                "auto_score": plain_number(row.auto_score),
                "formula": row.formula,
                "override": plain_number(row.grade.score) if row.overridden else None,
                "score": plain_number(row.score),
                "work": work[row.student.pk],
            }
            for row in progress
        ],
    }


# -- a course's shared work as JSON ----------------------------------------------------------


def _groups_by_user(course: Course) -> dict[int, str | None]:
    return {
        user_id: name
        for user_id, name in Membership.objects.filter(course=course).values_list("user_id", "group__name")
    }


def _not_private(rows: QuerySet) -> QuerySet:
    # The visibility selectors let authors see their own private work; an export for staff
    # must never carry anyone's private work, staff's own included.
    return rows.exclude(visibility=Visibility.PRIVATE)


def _moderation(item) -> dict[str, Any]:
    # Every moderated item says its state, so a hidden or waiting one is never mistaken for
    # what the class saw; the reason is the moderator's, for the record.
    return {"moderation": item.moderation, "moderation_reason": item.moderation_reason}


def course_work(user, course: Course) -> dict[str, Any]:
    """Every piece of shared student work in ``course`` that ``user`` (staff) may see.

    Read through the visibility selectors, never private, never deleted. A fixed number of
    queries (about a dozen) whatever the volume.

    Moderation: this is a staff-only record, and moderation destroys nothing, so work
    hidden by a moderator or waiting for approval is included, each annotation, challenge
    and post marked with ``moderation`` (``published``, ``hidden`` or ``pending``) and its
    ``moderation_reason``. Whoever shares the file further filters on ``moderation``.
    """
    groups = _groups_by_user(course)
    live_replies = AnnotationReply.objects.filter(deleted_at__isnull=True).select_related("author")
    annotations = (
        _not_private(selectors.visible_annotations(user).filter(course=course))
        .select_related("author", "claim")
        .prefetch_related("tags", Prefetch("replies", live_replies.order_by("created_at", "pk")))
        .order_by("created_at", "pk")
    )
    live_responses = ChallengeResponse.objects.filter(deleted_at__isnull=True).select_related("author")
    challenges = (
        _not_private(selectors.visible_challenges(user).filter(course=course))
        .select_related("author", "claim")
        .prefetch_related(
            Prefetch("citations", ChallengeSource.objects.select_related("source").order_by("pk")),
            Prefetch("responses", live_responses.order_by("created_at", "pk")),
        )
        .order_by("created_at", "pk")
    )
    links = (
        selectors.visible_link_proposals(user)
        .filter(course=course)
        .select_related("proposer", "claim", "event")
        .order_by("created_at", "pk")
    )
    posts = Post.objects.filter(deleted_at__isnull=True).select_related("author").order_by("created_at", "pk")
    threads = (
        selectors.visible_threads(user)
        .filter(course=course)
        .select_related("author", "group", "claim", "event")
        .prefetch_related(Prefetch("posts", posts))
        .order_by("created_at", "pk")
    )

    def reply(item) -> dict[str, Any]:
        return {
            "id": item.pk,
            "author": item.author.get_username(),
            "body": item.body,
            "created_at": _iso(item.created_at),
        }

    return {
        "course": {"id": course.pk, "title": course.title, "term": course.term},
        "annotations": [
            {
                "id": item.pk,
                "author": item.author.get_username(),
                "group": groups.get(item.author_id),
                "paragraph": item.paragraph_anchor,
                "claim": item.claim.key if item.claim else None,
                "exact": item.exact,
                "body": item.body,
                "motivation": item.motivation,
                "tags": sorted(tag.name for tag in item.tags.all()),
                "visibility": item.visibility,
                **_moderation(item),
                "created_at": _iso(item.created_at),
                "replies": [reply(r) for r in item.replies.all()],
            }
            for item in annotations
        ],
        "challenges": [
            {
                "id": item.pk,
                "author": item.author.get_username(),
                "group": groups.get(item.author_id),
                "claim": item.claim.key,
                "stance": item.stance,
                "argument": item.argument,
                "status": item.status,
                "visibility": item.visibility,
                **_moderation(item),
                "sources": [
                    {"source": c.source.key, "page": c.page, "quote": c.quote, "url_fragment": c.url_fragment}
                    for c in item.citations.all()
                ],
                "created_at": _iso(item.created_at),
                "responses": [reply(r) for r in item.responses.all()],
            }
            for item in challenges
        ],
        "links": [
            {
                "id": item.pk,
                "proposer": item.proposer.get_username(),
                "group": groups.get(item.proposer_id),
                "claim": item.claim.key,
                "event": item.event.key,
                "relation": item.relation,
                "note": item.note,
                "status": item.status,
                "created_at": _iso(item.created_at),
            }
            for item in links
        ],
        "threads": [
            {
                "id": item.pk,
                "title": item.title,
                "author": item.author.get_username(),
                "group": item.group.name if item.group else None,
                "claim": item.claim.key if item.claim else None,
                "event": item.event.key if item.event else None,
                "annotation": item.annotation_id,
                "challenge": item.challenge_id,
                "created_at": _iso(item.created_at),
                "posts": [{**reply(p), "parent": p.parent_id, **_moderation(p)} for p in item.posts.all()],
            }
            for item in threads
        ],
    }
