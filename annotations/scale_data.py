"""Synthetic course work at university scale, for benchmarks and load tests.

``generate(plan, ...)`` fills the database with the courses, people and work of one seed:
everything the app's services would have written (annotations anchored on real spans of
the reading, challenges citing sources, threads, moderation, notifications, assignments
and grades), in bulk and in one transaction. Rows are made by a ``random.Random(seed)``
and streamed to the database: ``COPY`` on PostgreSQL, ``executemany`` elsewhere.

A seed's data is recognised by its names: users ``s<seed>-c<NNN>-…`` and courses
``Scale <seed> · course <NNN>``; ``delete_seed`` removes exactly those and what hangs off them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import random
import re
import sys
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection, models
from django.urls import reverse
from django.utils.text import slugify
from tqdm import tqdm

from annotations.markdown import render
from annotations.models import (
    Annotation,
    AnnotationReply,
    Assignment,
    Challenge,
    ChallengeResponse,
    ChallengeSource,
    Claim,
    ClaimEventLink,
    Course,
    CourseGroup,
    Document,
    EventProposal,
    Extension,
    Flag,
    Grade,
    LinkProposal,
    Membership,
    ModerationItem,
    Notification,
    Post,
    PostRevision,
    Reaction,
    Section,
    Source,
    Tag,
    Thread,
    ThreadVisit,
)
from annotations.models.annotation import Motivation, Visibility
from annotations.models.assignments import Scoring
from annotations.models.challenges import ChallengeStatus, ProposalStatus, Stance
from annotations.models.courses import JOIN_CODE_ALPHABET, Role
from annotations.models.discussion import NotificationKind
from annotations.models.moderated import ModerationState
from annotations.models.moderation import Action, FlagReason, FlagStatus, ItemStatus
from annotations.services.notifications import (
    CHALLENGE_RESOLVED,
    EVENT_DECIDED,
    FLAG_NEWS,
    LINK_DECIDED,
    MODERATION_NEWS,
    REPLIED,
)
from timeline.dates import Precision
from timeline.models import Event

PASSWORD = "scale-password"
READING_SLUG = "sco-institutionalization"
TERM = "Autumn 2026"
# Work is spread over the term up to a fixed day, so a seed always makes the same rows.
TERM_START = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)
TERM_SECONDS = 80 * 24 * 3600
GROUP_NAMES = ("Group A", "Group B", "Group C", "Group D", "Group E")
SOURCES_PER_COURSE = 20
POSTS_PER_THREAD = 12
CONTEXT = 32  # as annotations.anchoring records prefix and suffix

NOT_LOADED = "The paper is not loaded: run `python manage.py load_reading` first."

# -- the words the work is made of -----------------------------------------------------------

TOPICS = (
    "the Shanghai Five", "border demilitarisation", "confidence-building measures", "Central Asia",
    "Russia", "China", "Kazakhstan", "Kyrgyzstan", "Tajikistan", "Uzbekistan", "India", "Pakistan",
    "terrorism", "separatism", "extremism", "institutionalization", "the secretariat", "the charter",
    "RATS", "regional security", "economic cooperation", "multilateralism", "sovereignty",
    "non-interference", "energy cooperation", "the Shanghai spirit", "consensus decision-making",
    "observer states", "the enlargement", "Afghanistan", "NATO", "the Collective Security Treaty",
    "the 2001 founding declaration", "the 1996 Shanghai agreement", "the 1997 Moscow agreement",
    "collective intention", "international coordination", "the summit communiqué", "trade facilitation",
    "the Belt and Road", "the development bank", "joint military exercises", "drug trafficking",
)  # fmt: skip
VERBS = (
    "overstates", "understates", "explains", "assumes", "downplays", "clarifies", "contradicts",
    "supports", "complicates", "rests on", "ignores", "anticipates",
)  # fmt: skip
OPENERS = (
    "I think the author {verb} the role of {a} in {b}.",
    "Does this claim about {a} still hold after {b}?",
    "Compare this with what the text says about {a} earlier.",
    "The link between {a} and {b} needs a source here.",
    "Interesting: {a} is presented as a cause of {b}.",
    "Key point for the exam: {a} and {b}.",
    "Not sure the date is right — check {a} against {b}.",
    "This paragraph {verb} how {a} shaped {b}.",
    "Question for the seminar: why does the author link {a} to {b}?",
    "Good summary of {a}; see also {b}.",
)  # fmt: skip
SECOND = (
    "The argument {verb} the evidence on {a}.",
    "See the discussion of {a} in week {n}.",
    "Other scholars read {a} quite differently.",
    "This matters for how we read {a}.",
    "I would like to see figures on {a}.",
)  # fmt: skip
LINKS = (
    ("the SCO charter", "https://eng.sectsco.org/documents/"),
    ("the declaration", "https://www.un.org/en/ga/search/view_doc.asp?symbol=A/56/318"),
    ("a summary", "https://en.wikipedia.org/wiki/Shanghai_Cooperation_Organisation"),
)
TAG_NAMES = (
    "security", "terrorism", "economy", "energy", "dates", "sources", "definition", "method",
    "russia", "china", "central-asia", "india", "pakistan", "exam", "question", "summary",
    "institutions", "norms", "enlargement", "afghanistan", "key-claim", "disagree", "follow-up",
)  # fmt: skip
THREAD_TITLES = (
    "What does “{a}” mean here?",
    "Week {n} discussion: {a}",
    "Is the claim about {a} supported?",
    "Sources on {a}",
    "{a} and {b}",
    "Exam preparation: {a}",
    "Reading notes, week {n}",
)  # fmt: skip
HIDE_REASONS = (
    "Off-topic for this course.",
    "Please keep the discussion respectful.",
    "Copied text without a source.",
    "Spam link.",
)
FEEDBACK = (
    "Well argued; the sources support your reading.",
    "Partly convincing: the second source does not say this.",
    "The reading's own footnote answers this; see the reference list.",
    "Good point, and the date in the text is indeed wrong.",
    "Please cite a page, not only the book.",
)
FAMILY_NAMES = (
    "Ivanov", "Zhang", "Nurlanova", "Sharma", "Khan", "Petrova", "Wang", "Aliyev", "Smith", "Müller",
    "Tursunov", "Li", "Cooley", "Allison", "Gabuev", "Ambrosio", "Aris", "Kerr", "Lukin", "Chen",
)  # fmt: skip
FIRST_NAMES = (
    "Aigerim", "Dmitri", "Mei", "Arjun", "Sara", "Timur", "Lena", "Omar", "Yuki", "Jonas", "Aliya",
    "Pavel", "Hana", "Ravi", "Nodira", "Felix", "Zarina", "Ivan", "Lucia", "Bakhyt",
)  # fmt: skip
# Events students propose: a title (its place, when it has one, is {city}) and the event's type.
PROPOSED_EVENTS = (
    ("SCO summit in {city}", Event.Type.SUMMIT),
    ("Meeting of the foreign ministers in {city}", Event.Type.MINISTERIAL),
    ("Meeting of the defence ministers in {city}", Event.Type.MINISTERIAL),
    ("Border agreement between China and {country}", Event.Type.AGREEMENT),
    ("Agreement on {topic} signed in {city}", Event.Type.AGREEMENT),
    ("{country} applies to join the SCO", Event.Type.ACCESSION),
    ("Talks on {topic} in {city}", Event.Type.NEGOTIATION),
    ("RATS adopts a programme on {topic}", Event.Type.POLICY),
    ("Attack on a border post near {city}", Event.Type.ATTACK),
    ("Border clashes near {city}", Event.Type.CONFLICT),
    ("Joint statement on {topic}", Event.Type.STATEMENT),
    ("Joint exercise near {city}", Event.Type.OTHER),
)
CITIES = (
    "Shanghai", "Moscow", "Almaty", "Bishkek", "Dushanbe", "Astana", "Tashkent", "Beijing", "Yekaterinburg",
    "Ufa", "Qingdao", "Samarkand", "New Delhi", "Islamabad",
)  # fmt: skip
COUNTRIES = (
    "Kazakhstan", "Kyrgyzstan", "Tajikistan", "Uzbekistan", "India", "Pakistan", "Iran", "Belarus",
    "Mongolia", "Afghanistan",
)  # fmt: skip
EVENT_NOTES = (
    "The reading mentions {a} but not this event.",
    "Background to the reading's account of {a}.",
    "The source dates this precisely; the reading is vaguer about {a}.",
    "Shows how {a} shaped {b}.",
)


# -- what to make ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The sizes of one seed's data; course 1 is the big course."""

    seed: int = 1
    courses: int = 100
    students: int = 100
    annotations: int = 1_000_000
    challenges: int = 100_000
    posts: int = 200_000
    big_course_students: int = 300
    big_thread_posts: int = 300

    @property
    def user_prefix(self) -> str:
        return f"s{self.seed}-c"

    @property
    def course_prefix(self) -> str:
        return f"Scale {self.seed} · course "

    def students_in(self, course: int) -> int:
        """How many students course ``course`` (0-based) has."""
        return self.big_course_students if course == 0 else self.students

    def event_proposals_in(self, course: int) -> int:
        """How many events the students of course ``course`` (0-based) propose."""
        return max(2, self.students_in(course) // 10)

    @property
    def student_count(self) -> int:
        return sum(self.students_in(c) for c in range(self.courses))

    @property
    def big_thread(self) -> int:
        """Posts in course 1's big thread (never more than all the posts)."""
        return min(self.big_thread_posts, self.posts) if self.courses else 0

    def shares(self, total: int) -> list[int]:
        """``total`` split over the courses in proportion to their students, summing exactly."""
        weights = [self.students_in(c) for c in range(self.courses)]
        whole = sum(weights)
        if not whole:
            return [0] * self.courses
        shares = [total * w // whole for w in weights]
        for c in range(total - sum(shares)):
            shares[c % self.courses] += 1
        return shares

    def expected(self) -> dict[str, int]:
        """The rows whose number follows from the plan alone (the rest depend on the draw)."""
        return {
            "users": self.courses * 2 + self.student_count,
            "courses": self.courses,
            "groups": self.courses * len(GROUP_NAMES),
            "memberships": self.courses * 2 + self.student_count,
            "course sources": self.courses * SOURCES_PER_COURSE,
            "annotations": self.annotations,
            "challenges": self.challenges,
            "posts": self.posts,
            "event proposals": sum(self.event_proposals_in(c) for c in range(self.courses)),
            "assignments": self.courses * 2,
            "grades": 2 * self.big_course_students if self.courses else 0,
        }


def seed_exists(plan: Plan) -> bool:
    """Whether any of this seed's courses or users is in the database."""
    User = get_user_model()
    return (
        Course.objects.filter(title__startswith=plan.course_prefix).exists()
        or User.objects.filter(username__startswith=plan.user_prefix).exists()
    )


def reading_or_none(slug: str = READING_SLUG) -> Document | None:
    """The loaded paper, when it has paragraphs and claims to anchor work on."""
    document = Document.objects.filter(slug=slug).first()
    if (
        document is None
        or not document.paragraphs.exists()
        or not Claim.objects.filter(paragraph__document=document).exists()
    ):
        return None
    return document


# -- writing rows in bulk --------------------------------------------------------------------


def _columns(model: type[models.Model], names: Sequence[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


class Sink:
    """Writes streams of row tuples to a model's table: ``COPY`` on PostgreSQL, batched
    ``executemany`` elsewhere (``bulk_create`` would overwrite ``auto_now_add`` times).

    Ids are reserved in blocks (``reserve``) so that rows can point at each other before
    they are written; the table's sequence is moved past the block.
    """

    BATCH = 2000

    # Tables loaded with at least this many rows have their plain indexes rebuilt after the load.
    REBUILD_AT = 100_000

    def __init__(self, *, progress: bool) -> None:
        self.progress = progress
        self.counts: Counter[str] = Counter()
        self.postgres = connection.vendor == "postgresql"
        self.bulk_mode = False
        # Per table written: every row written has an id above this.
        self.floors: dict[type[models.Model], int] = {}

    def begin_bulk_load(self, models_written: Iterable[type[models.Model]]) -> bool:
        """On PostgreSQL, as a superuser and when none of the tables has a trigger of its own
        that replica mode would silence (one enabled ``ALWAYS`` still fires), stop checking
        foreign keys row by row for the rest of the transaction
        (``session_replication_role = replica``); ``end_bulk_load`` checks them all at once.

        Millions of deferred per-row checks cost more than the load itself; one anti-join per
        foreign key finds the same faults. Whether it is on.
        """
        if self.bulk_mode or not self.postgres:
            return self.bulk_mode
        tables = [model._meta.db_table for model in models_written]
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            superuser = bool(cursor.fetchone()[0])
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'A' "
                "AND tgrelid IN (SELECT oid FROM pg_class WHERE relname = ANY(%s))",
                [tables],
            )
            own_triggers = cursor.fetchone()[0]
            if not superuser or own_triggers:
                return False
            # Checks already queued (by deleting a seed) run now, in the normal way.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET LOCAL session_replication_role = replica")
        self.bulk_mode = True
        return True

    def end_bulk_load(self) -> None:
        """Check every foreign key of the rows written (raising ``IntegrityError``, which rolls
        the whole load back, on the first dangling one) and check row by row again."""
        if not self.bulk_mode:
            return
        with connection.cursor() as cursor:
            for model, floor in self.floors.items():
                table = connection.ops.quote_name(model._meta.db_table)
                for fk in model._meta.concrete_fields:
                    if not fk.is_relation:
                        continue
                    column = connection.ops.quote_name(fk.column)
                    target = fk.target_field
                    cursor.execute(
                        f"SELECT c.id, c.{column} FROM {table} c WHERE c.id > %s AND c.{column} IS NOT NULL "
                        f"AND NOT EXISTS (SELECT 1 FROM {connection.ops.quote_name(target.model._meta.db_table)} p "
                        f"WHERE p.{connection.ops.quote_name(target.column)} = c.{column}) LIMIT 1",
                        [floor],
                    )
                    dangling = cursor.fetchone()
                    if dangling is not None:
                        raise IntegrityError(
                            f"{model._meta.db_table} {dangling[0]}: {fk.column}={dangling[1]} points at nothing."
                        )
            cursor.execute("SET LOCAL session_replication_role = origin")
        self.bulk_mode = False

    def check_references_to(self, deleted_from: Iterable[type[models.Model]]) -> None:
        """In bulk-load mode, raise ``IntegrityError`` (rolling everything back) if any row of
        any table still points at a row gone from one of the tables ``deleted_from``."""
        if not self.bulk_mode:
            return
        tables = {model._meta.db_table for model in deleted_from}
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model in apps.get_models(include_auto_created=True):
                for fk in model._meta.concrete_fields:
                    if not fk.is_relation or fk.related_model._meta.db_table not in tables:
                        continue
                    target = fk.target_field
                    cursor.execute(
                        f"SELECT c.{quote(fk.column)} FROM {quote(model._meta.db_table)} c "
                        f"WHERE c.{quote(fk.column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                        f"{quote(target.model._meta.db_table)} p WHERE p.{quote(target.column)} = c.{quote(fk.column)}) "
                        "LIMIT 1",
                    )
                    dangling = cursor.fetchone()
                    if dangling is not None:
                        raise IntegrityError(
                            f"{model._meta.db_table}.{fk.column} still points at deleted row {dangling[0]}."
                        )

    def analyze(self) -> None:
        """Refresh the planner's statistics of the tables written (PostgreSQL), so that
        queries right after the load are planned for its sizes."""
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            for model in self.floors:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    def _floor(self, model: type[models.Model], below: int) -> None:
        self.floors[model] = min(self.floors.get(model, below), below)

    def reserve(self, model: type[models.Model], n: int) -> int:
        """The first of ``n`` consecutive free ids of ``model``'s table."""
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                if n == 0:
                    return 1
                # One statement, so concurrent inserts elsewhere cannot land inside the block.
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                    [table, table, n],
                )
                first = cursor.fetchone()[0] - n + 1
                self._floor(model, first - 1)
                return first
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
            return cursor.fetchone()[0] + 1

    def write(
        self,
        label: str,
        model: type[models.Model],
        names: Sequence[str],
        rows: Iterable[tuple],
        *,
        total: int | None = None,
    ) -> int:
        """Write ``rows`` (tuples of values in the order of the field ``names``); the count."""
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in _columns(model, names))
        bar = tqdm(
            total=total, desc=label, unit=" rows", file=sys.stderr, disable=not self.progress, mininterval=0.5
        )
        n = 0
        rebuild = self.postgres and (total or 0) >= self.REBUILD_AT
        if self.bulk_mode:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                self._floor(model, cursor.fetchone()[0])
        try:
            if rebuild:
                indexes = self._drop_indexes(model)
            if self.postgres:
                with connection.cursor() as cursor:
                    raw = cursor.cursor
                    with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                            n += 1
                            if not n % self.BATCH:
                                bar.update(self.BATCH)
            else:
                sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
                batch: list[tuple] = []
                with connection.cursor() as cursor:
                    for row in rows:
                        batch.append(tuple(self._adapt(value) for value in row))
                        n += 1
                        if len(batch) == self.BATCH:
                            cursor.executemany(sql, batch)
                            batch.clear()
                            bar.update(self.BATCH)
                    if batch:
                        cursor.executemany(sql, batch)
            bar.update(n - bar.n)
            if rebuild:
                bar.set_postfix_str("indexing")
                self._create_indexes(indexes)
        finally:
            bar.close()
        self.counts[label] += n
        return n

    def _drop_indexes(self, model: type[models.Model]) -> list[str]:
        """Drop the table's plain (not primary, not unique) indexes; their definitions.

        Building an index once over the loaded rows is several times faster than updating
        it row by row (above all the full-text GIN index). Constraints stay in place, and
        the drop is undone with everything else if the load fails.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique",
                [model._meta.db_table],
            )
            found = cursor.fetchall()
            for name, _definition in found:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [definition for _name, definition in found]

    def _create_indexes(self, definitions: list[str]) -> None:
        with connection.cursor() as cursor:
            # CREATE INDEX refuses a table with foreign key checks still pending: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for definition in definitions:
                cursor.execute(definition)

    @staticmethod
    def _adapt(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value


# The tables the generator writes (besides the users').
WRITTEN: tuple[type[models.Model], ...] = (
    Course, CourseGroup, Membership, Source, Tag, Annotation, Annotation.tags.through, AnnotationReply,
    Challenge, ChallengeSource, ChallengeResponse, Thread, Post, ModerationItem, Flag, LinkProposal,
    EventProposal, Assignment, Assignment.sections.through, Grade, Notification,
)  # fmt: skip
# Every table the generator writes or ``delete_seed`` deletes from (besides the users').
TOUCHED: tuple[type[models.Model], ...] = (
    *WRITTEN, Reaction, PostRevision, ThreadVisit, Extension, Post.mentions.through, Assignment.claims.through,
)  # fmt: skip


# -- the reading, ready for anchoring -----------------------------------------------------


WORD = re.compile(r"\S+")


@dataclass
class Span:
    """Where quotes can be taken: word starts and ends inside ``[lo, hi)`` of a paragraph."""

    paragraph: int  # index into Reading.paragraphs
    claim_id: int | None
    starts: list[int]
    ends: list[int]


@dataclass
class Reading:
    document: Document
    paragraphs: list[tuple[int, str, str]]  # id, anchor, text
    words: list[tuple[list[int], list[int]]]
    claims: list[tuple[int, str, int]]  # id, key, paragraph index
    claim_spans: list[Span]
    reading_sources: list[int]
    events: list[tuple[int, str]]
    sections: list[int]

    @classmethod
    def load(cls, document: Document) -> Reading:
        paragraphs = list(document.paragraphs.order_by("order").values_list("id", "anchor", "text"))
        index = {pk: i for i, (pk, _anchor, _text) in enumerate(paragraphs)}
        words = []
        for _pk, _anchor, text in paragraphs:
            matches = list(WORD.finditer(text))
            words.append(([m.start() for m in matches], [m.end() for m in matches]))
        claims, claim_spans = [], []
        for pk, key, paragraph_id, start, end in (
            Claim.objects.filter(paragraph__document=document)
            .order_by("key")
            .values_list("id", "key", "paragraph_id", "start", "end")
        ):
            i = index[paragraph_id]
            starts, ends = words[i]
            inner_starts = [s for s in starts[bisect_left(starts, start) :] if s < end]
            inner_ends = [e for e in ends[: bisect_right(ends, end)] if e > start]
            inner_starts = [s for s in inner_starts if inner_ends and s < inner_ends[-1]]
            if not inner_starts:
                inner_starts, inner_ends = [start], [end]
            claims.append((pk, key, i))
            claim_spans.append(Span(i, pk, inner_starts, inner_ends))
        return cls(
            document=document,
            paragraphs=paragraphs,
            words=words,
            claims=claims,
            claim_spans=claim_spans,
            reading_sources=list(
                Source.objects.filter(course__isnull=True, moderation=ModerationState.PUBLISHED)
                .order_by("key")
                .values_list("id", flat=True)
            ),
            events=list(Event.objects.order_by("key").values_list("id", "title")),
            sections=list(
                Section.objects.filter(document=document, level=1)
                .order_by("order")
                .values_list("id", flat=True)
            ),
        )


# -- the generator ---------------------------------------------------------------------------


@dataclass
class CourseInfo:
    index: int
    id: int
    title: str
    instructor: int
    ta: int
    students: list[int]
    groups: list[int]
    group_of: dict[int, int | None]
    members_of_group: dict[int, list[int]]
    sources: list[int] = field(default_factory=list)
    shared_annotations: list[int] = field(default_factory=list)
    shared_challenges: list[int] = field(default_factory=list)

    @property
    def staff(self) -> tuple[int, int]:
        return (self.instructor, self.ta)


@dataclass
class QueueEntry:
    """A piece of work that ends up in the review queue."""

    kind: str  # annotation, post, challenge
    id: int
    course: CourseInfo
    author: int
    created_at: dt.datetime
    state: str  # hidden, pending, flagged
    url: str
    flaggable: bool = False
    reason: str = ""
    moderator: int | None = None
    moderated_at: dt.datetime | None = None


class Generator:
    """Makes one seed's rows, phase by phase, through a ``Sink``."""

    def __init__(self, plan: Plan, reading: Reading, sink: Sink) -> None:
        self.plan = plan
        self.reading = reading
        self.sink = sink
        self.rng = random.Random(plan.seed)
        self.courses: list[CourseInfo] = []
        self.usernames: dict[int, str] = {}
        self.moderated: list[QueueEntry] = []
        self.notifications: list[tuple] = []
        self.tag_ids: list[int] = []
        self._bodies = self._pool(400, self._note)
        self._arguments = self._pool(200, self._argument)
        self._feedback = [(text, render(text)) for text in FEEDBACK]

    # -- helpers

    def _when(self, after: dt.datetime | None = None, within: float = 0.0) -> dt.datetime:
        """A moment in the term; with ``after``, one to ``within`` seconds (plus a minute) after it."""
        if after is None:
            return TERM_START + dt.timedelta(seconds=self.rng.random() * TERM_SECONDS)
        return after + dt.timedelta(seconds=60 + self.rng.random() * within)

    def _phrase(self, template: str) -> str:
        rng = self.rng
        return template.format(
            a=rng.choice(TOPICS), b=rng.choice(TOPICS), verb=rng.choice(VERBS), n=rng.randint(1, 12)
        )

    def _note(self) -> str:
        rng = self.rng
        text = self._phrase(rng.choice(OPENERS))
        if rng.random() < 0.5:
            text += " " + self._phrase(rng.choice(SECOND))
        style = rng.random()
        if style < 0.15:
            topic = rng.choice(TOPICS)
            text = text.replace(topic, f"**{topic}**", 1)
        elif style < 0.25:
            text += "\n\n" + "\n".join(f"- {rng.choice(TOPICS)}" for _ in range(rng.randint(2, 3)))
        elif style < 0.32:
            label, url = rng.choice(LINKS)
            text += f" See [{label}]({url})."
        elif style < 0.38:
            text = f"> {self._phrase(rng.choice(SECOND))}\n\n{text}"
        return text

    def _argument(self) -> str:
        rng = self.rng
        return "\n\n".join(self._phrase(rng.choice(OPENERS + SECOND)) for _ in range(rng.randint(2, 3)))

    def _pool(self, size: int, make: Callable[[], str]) -> list[tuple[str, str]]:
        """``size`` texts with their HTML, rendered once each by the app's renderer."""
        return [(text, render(text)) for text in (make() for _ in range(size))]

    def _url_thread(self, course: int, thread: int) -> str:
        return reverse("threads:detail", args=[course, thread])

    def _notify(
        self,
        recipient: int,
        kind: str,
        actor: int | None,
        course: int,
        message: str,
        params: dict[str, str],
        url: str,
        at: dt.datetime,
    ) -> None:
        """A notification as ``notifications.notify`` writes it: its sentence, what fills it and
        its English text."""
        if actor is not None and recipient == actor:
            return
        read_at = at + dt.timedelta(hours=1 + self.rng.random() * 48) if self.rng.random() < 0.5 else None
        text = (message % params)[:300]
        self.notifications.append(
            (recipient, kind, actor, course, text, message, json.dumps(params), url, at, read_at)
        )

    # -- phases

    def run(self) -> Counter[str]:
        """Write every phase; the rows written, by label."""
        self.sink.begin_bulk_load((*TOUCHED, get_user_model()))
        self.users_and_courses()
        self.course_sources()
        self.annotations()
        self.challenges()
        self.threads_and_posts()
        self.moderation()
        self.link_proposals()
        self.event_proposals()
        self.assignments()
        self.write_notifications()
        self.sink.end_bulk_load()
        self.sink.analyze()
        return self.sink.counts

    def users_and_courses(self) -> None:
        plan, rng, sink = self.plan, self.rng, self.sink
        User = get_user_model()
        password = make_password(PASSWORD)
        first_user = sink.reserve(User, plan.expected()["users"])
        first_course = sink.reserve(Course, plan.courses)
        first_group = sink.reserve(CourseGroup, plan.courses * len(GROUP_NAMES))
        users, memberships, courses, groups = [], [], [], []
        next_user = first_user
        for c in range(plan.courses):
            number = f"{c + 1:03d}"
            course_id, created = first_course + c, TERM_START - dt.timedelta(days=14 - rng.random())
            people = []
            for role in ("instructor", "ta"):
                people.append((next_user, f"{plan.user_prefix}{number}-{role}", role))
                next_user += 1
            for s in range(plan.students_in(c)):
                people.append((next_user, f"{plan.user_prefix}{number}-u{s + 1:04d}", Role.STUDENT))
                next_user += 1
            group_ids = [first_group + c * len(GROUP_NAMES) + g for g in range(len(GROUP_NAMES))]
            groups += [(gid, course_id, name) for gid, name in zip(group_ids, GROUP_NAMES, strict=True)]
            info = CourseInfo(
                index=c,
                id=course_id,
                title=f"{plan.course_prefix}{number}",
                instructor=people[0][0],
                ta=people[1][0],
                students=[pk for pk, _name, _role in people[2:]],
                groups=group_ids,
                group_of={},
                members_of_group={g: [] for g in group_ids},
            )
            code = "-".join("".join(rng.choice(JOIN_CODE_ALPHABET) for _ in range(4)) for _ in range(2))
            courses.append(
                (
                    course_id,
                    info.title,
                    TERM,
                    self.reading.document.pk,
                    f"{code}-{plan.seed}",
                    True,
                    False,
                    info.instructor,
                    created,
                )
            )
            for pk, username, role in people:
                self.usernames[pk] = username
                group = None
                if role == Role.STUDENT and rng.random() < 0.9:
                    group = rng.choice(group_ids)
                    info.members_of_group[group].append(pk)
                if role == Role.STUDENT:
                    info.group_of[pk] = group
                users.append(
                    (
                        pk,
                        password,
                        None,
                        False,
                        username,
                        rng.choice(FIRST_NAMES),
                        rng.choice(FAMILY_NAMES),
                        f"{username}@scale.example.org",
                        False,
                        True,
                        created,
                    )
                )
                memberships.append(
                    (course_id, pk, role, group, created + dt.timedelta(hours=rng.random() * 200), False)
                )
            self.courses.append(info)
        sink.write(
            "users",
            User,
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            users,
        )
        sink.write(
            "courses",
            Course,
            [
                "id",
                "title",
                "term",
                "reading",
                "join_code",
                "join_enabled",
                "premoderation",
                "created_by",
                "created_at",
            ],
            courses,
        )
        sink.write("groups", CourseGroup, ["id", "course", "name"], groups)
        sink.write(
            "memberships",
            Membership,
            ["course", "user", "role", "group", "joined_at", "premoderated"],
            memberships,
        )

    def course_sources(self) -> None:
        plan, rng = self.plan, self.rng
        first = self.sink.reserve(Source, plan.courses * SOURCES_PER_COURSE)
        kinds = [
            Source.Kind.ARTICLE,
            Source.Kind.BOOK,
            Source.Kind.CHAPTER,
            Source.Kind.WEB,
            Source.Kind.NEWS,
        ]

        def rows() -> Iterator[tuple]:
            pk = first
            for info in self.courses:
                for n in range(SOURCES_PER_COURSE):
                    family, year = rng.choice(FAMILY_NAMES), rng.randint(1995, 2025)
                    kind = rng.choice(kinds)
                    # Keys as the app makes them (family-year-n), n unique to the seed and course.
                    key = f"{slugify(family)}-{year}-{plan.seed}{info.index + 1:04d}{n + 1:02d}"
                    title = f"{rng.choice(TOPICS).capitalize()} and {rng.choice(TOPICS)}"
                    url = (
                        f"https://scale.example.org/s{plan.seed}/c{info.index + 1}/{n + 1}"
                        if kind == Source.Kind.WEB
                        else ""
                    )
                    doi = (
                        f"10.5555/s{plan.seed}.c{info.index + 1}.{n + 1}"
                        if kind == Source.Kind.ARTICLE
                        else ""
                    )
                    info.sources.append(pk)
                    yield (
                        pk, key, kind, json.dumps([f"{family}, {rng.choice(FIRST_NAMES)}"]), year, title,
                        "Central Asian Survey" if kind == Source.Kind.ARTICLE else "", "", "", "", url, doi,
                        False, False, "", "", info.id, rng.choice(info.students or [info.instructor]),
                        self._when(), ModerationState.PUBLISHED, "",
                    )  # fmt: skip
                    pk += 1

        self.sink.write(
            "course sources", Source,
            ["id", "key", "kind", "authors", "year", "title", "container", "publisher", "place", "pages", "url",
             "doi", "from_paper", "in_reference_list", "raw", "note", "course", "added_by", "created_at",
             "moderation", "moderation_reason"],
            rows(), total=plan.courses * SOURCES_PER_COURSE,
        )  # fmt: skip

    def _visibility(self, group: int | None, weights: tuple[float, float]) -> str:
        r = self.rng.random()
        if r < weights[0]:
            return Visibility.PRIVATE
        if group is not None and r < weights[0] + weights[1]:
            return Visibility.GROUP
        return Visibility.COURSE

    def _fate(
        self,
        kind: str,
        pk: int,
        info: CourseInfo,
        author: int,
        at: dt.datetime,
        shared: str,
        url: Callable[[], str],
        rates: tuple[float, float, float],
    ) -> str:
        """Draw the moderation state of a piece of work; remember it for the review queue.

        Any work may wait for approval; staff hide only what they can read (group and course
        work); members flag only what the whole course reads. ``rates``: hidden among shared
        work, pending among all, flagged among course work.
        """
        hidden, pending, flagged = rates
        r = self.rng.random()
        if r < pending:
            state = "pending"
        elif shared != Visibility.PRIVATE and r < pending + hidden:
            state = "hidden"
        elif shared == Visibility.COURSE and r < pending + hidden + flagged:
            state = "flagged"
        else:
            return ModerationState.PUBLISHED
        entry = QueueEntry(kind, pk, info, author, at, state, url(), flaggable=shared == Visibility.COURSE)
        if state == "hidden":
            entry.reason = self.rng.choice(HIDE_REASONS)
            entry.moderator = self.rng.choice(info.staff)
            entry.moderated_at = self._when(at, 3 * 24 * 3600)
        self.moderated.append(entry)
        return {"pending": ModerationState.PENDING, "hidden": ModerationState.HIDDEN}.get(
            state, ModerationState.PUBLISHED
        )

    def annotations(self) -> None:
        plan, rng, reading = self.plan, self.rng, self.reading
        self.tag_ids = [Tag.objects.get_or_create(name=name)[0].pk for name in TAG_NAMES]
        first = self.sink.reserve(Annotation, plan.annotations)
        shares = plan.shares(plan.annotations)
        tags: list[tuple[int, int]] = []
        replies: list[tuple] = []
        motivations = Motivation.values
        weights = [50, 20, 15, 5, 5, 3, 2]
        document = reading.document.pk
        reading_url = {info.id: reverse("annotate:reading", kwargs={"pk": info.id}) for info in self.courses}

        def rows() -> Iterator[tuple]:
            pk = first
            for info, share in zip(self.courses, shares, strict=True):
                authors = info.students or [info.instructor]
                for _ in range(share):
                    author = rng.choice(authors)
                    group = info.group_of.get(author)
                    if rng.random() < 0.3:
                        span = rng.choice(reading.claim_spans)
                        starts, ends, claim = span.starts, span.ends, span.claim_id
                        p = span.paragraph
                    else:
                        p = rng.randrange(len(reading.paragraphs))
                        starts, ends = reading.words[p]
                        claim = None
                    i = rng.randrange(len(starts))
                    j = min(len(ends) - 1, bisect_left(ends, starts[i] + 1) + rng.randint(0, 10))
                    start, end = starts[i], ends[j]
                    paragraph_id, anchor, text = reading.paragraphs[p]
                    motivation = rng.choices(motivations, weights)[0]
                    if motivation == Motivation.HIGHLIGHTING and rng.random() < 0.7:
                        body, body_html = "", ""
                    else:
                        body, body_html = rng.choice(self._bodies)
                    visibility = self._visibility(group, (0.3, 0.25))
                    created = self._when()
                    shared = visibility != Visibility.PRIVATE
                    state = self._fate(
                        "annotation", pk, info, author, created, visibility,
                        lambda pk=pk, info=info: f"{reading_url[info.id]}#a-{pk}", (0.014, 0.01, 0.011),
                    )  # fmt: skip
                    moderated = self.moderated[-1] if state == ModerationState.HIDDEN else None
                    deleted = None
                    if state == ModerationState.PUBLISHED and rng.random() < 0.01:
                        deleted = self._when(created, 20 * 24 * 3600)
                    edited = self._when(created, 5 * 24 * 3600) if body and rng.random() < 0.05 else None
                    if rng.random() < 0.15:
                        for tag in rng.sample(self.tag_ids, rng.randint(1, 3)):
                            tags.append((pk, tag))
                    if shared and state == ModerationState.PUBLISHED and deleted is None:
                        if visibility == Visibility.COURSE and len(info.shared_annotations) < 200:
                            info.shared_annotations.append(pk)
                        if rng.random() < 0.03:
                            peers = (
                                info.members_of_group[group] if visibility == Visibility.GROUP else authors
                            )
                            for _ in range(rng.randint(1, 2)):
                                who = rng.choice(peers + list(info.staff))
                                reply, reply_html = rng.choice(self._bodies)
                                at = self._when(created, 7 * 24 * 3600)
                                replies.append((pk, who, reply, reply_html, at, at))
                    yield (
                        pk, state, moderated.reason if moderated else "", moderated.moderator if moderated else None,
                        moderated.moderated_at if moderated else None, info.id, author,
                        group if visibility == Visibility.GROUP else None, document, paragraph_id, anchor, claim,
                        text[start:end], text[max(0, start - CONTEXT) : start], text[end : end + CONTEXT], start, end,
                        motivation, body, body_html, visibility, "", False, created, deleted or edited or created, edited,
                        deleted,
                    )  # fmt: skip
                    pk += 1

        self.sink.write(
            "annotations", Annotation,
            ["id", "moderation", "moderation_reason", "moderated_by", "moderated_at", "course", "author", "group",
             "document", "paragraph", "paragraph_anchor", "claim", "exact", "prefix", "suffix", "start", "end",
             "motivation", "body", "body_html", "visibility", "imported_from", "anonymous_to_peers", "created_at",
             "updated_at", "edited_at", "deleted_at"],
            rows(), total=plan.annotations,
        )  # fmt: skip
        self.sink.write("annotation tags", Annotation.tags.through, ["annotation", "tag"], tags)
        self.sink.write(
            "annotation replies",
            AnnotationReply,
            ["annotation", "author", "body", "body_html", "created_at", "updated_at"],
            replies,
        )

    def challenges(self) -> None:
        plan, rng, reading = self.plan, self.rng, self.reading
        first = self.sink.reserve(Challenge, plan.challenges)
        shares = plan.shares(plan.challenges)
        citations: list[tuple] = []
        responses: list[tuple] = []
        stances = [Stance.DISPUTES, Stance.SUPPORTS, Stance.QUALIFIES, Stance.NEEDS_CONTEXT]
        statuses = [
            ChallengeStatus.OPEN,
            ChallengeStatus.UPHELD,
            ChallengeStatus.PARTLY_UPHELD,
            ChallengeStatus.REJECTED,
        ]
        claim_urls: dict[tuple[int, str], str] = {}

        def claim_url(course: int, key: str) -> str:
            if (course, key) not in claim_urls:
                claim_urls[course, key] = reverse("challenges:claim", kwargs={"pk": course, "key": key})
            return claim_urls[course, key]

        def rows() -> Iterator[tuple]:
            pk = first
            for info, share in zip(self.courses, shares, strict=True):
                authors = info.students or [info.instructor]
                citable = info.sources + reading.reading_sources
                for _ in range(share):
                    author = rng.choice(authors)
                    group = info.group_of.get(author)
                    claim_id, key, _p = rng.choice(reading.claims)
                    stance = rng.choices(stances, (30, 30, 25, 15))[0]
                    visibility = self._visibility(group, (0.05, 0.15))
                    created = self._when()
                    argument, argument_html = rng.choice(self._arguments)
                    status = rng.choices(statuses, (60, 10, 10, 20))[0]
                    resolved_by = resolved_at = None
                    feedback = feedback_html = ""
                    if status != ChallengeStatus.OPEN:
                        resolved_by, resolved_at = rng.choice(info.staff), self._when(created, 10 * 24 * 3600)
                        feedback, feedback_html = rng.choice(self._feedback)
                    state = self._fate(
                        "challenge", pk, info, author, created, visibility,
                        lambda info=info, key=key: claim_url(info.id, key), (0.005, 0.005, 0.005),
                    )  # fmt: skip
                    moderated = self.moderated[-1] if state == ModerationState.HIDDEN else None
                    if resolved_at is not None and state == ModerationState.PUBLISHED:
                        self._notify(
                            author, NotificationKind.CHALLENGE_RESOLVED, resolved_by, info.id,
                            CHALLENGE_RESOLVED[status], {"claim": key}, claim_url(info.id, key), resolved_at,
                        )  # fmt: skip
                    n = 1 if stance in (Stance.DISPUTES, Stance.QUALIFIES) else 0
                    n = min(len(citable), n + (rng.random() < 0.4) + (rng.random() < 0.2))
                    for source in rng.sample(citable, n):
                        citations.append(
                            (pk, source, f"{rng.randint(1, 300)}" if rng.random() < 0.6 else "", "", "")
                        )
                    if state == ModerationState.PUBLISHED and visibility != Visibility.PRIVATE:
                        if visibility == Visibility.COURSE and len(info.shared_challenges) < 100:
                            info.shared_challenges.append((pk, key))
                        if rng.random() < 0.2:
                            peers = (
                                info.members_of_group[group] if visibility == Visibility.GROUP else authors
                            )
                            for _ in range(rng.randint(1, 3)):
                                body, body_html = rng.choice(self._bodies)
                                at = self._when(created, 7 * 24 * 3600)
                                responses.append(
                                    (pk, rng.choice(peers + list(info.staff)), body, body_html, at, at)
                                )
                    yield (
                        pk, state, moderated.reason if moderated else "", moderated.moderator if moderated else None,
                        moderated.moderated_at if moderated else None, info.id, author,
                        group if visibility == Visibility.GROUP else None, claim_id, stance, argument, argument_html,
                        visibility, status, feedback, feedback_html, resolved_by, resolved_at,
                        1 if status == ChallengeStatus.OPEN else 2, False, created, resolved_at or created,
                    )  # fmt: skip
                    pk += 1

        self.sink.write(
            "challenges", Challenge,
            ["id", "moderation", "moderation_reason", "moderated_by", "moderated_at", "course", "author", "group",
             "claim", "stance", "argument", "argument_html", "visibility", "status", "feedback", "feedback_html",
             "resolved_by", "resolved_at", "version", "anonymous_to_peers", "created_at", "updated_at"],
            rows(), total=plan.challenges,
        )  # fmt: skip
        self.sink.write(
            "challenge sources",
            ChallengeSource,
            ["challenge", "source", "page", "quote", "url_fragment"],
            citations,
        )
        self.sink.write(
            "challenge responses",
            ChallengeResponse,
            ["challenge", "author", "body", "body_html", "created_at", "updated_at"],
            responses,
        )

    def threads_and_posts(self) -> None:
        plan, rng, reading = self.plan, self.rng, self.reading
        shares = plan.shares(plan.posts - plan.big_thread)
        # Each course's posts in threads of about POSTS_PER_THREAD; course 1 also has the big thread.
        sizes: list[list[int]] = []
        for c, share in enumerate(shares):
            threads = math.ceil(share / POSTS_PER_THREAD) if share else 0
            split = [share // threads + (t < share % threads) for t in range(threads)] if threads else []
            if c == 0 and plan.big_thread:
                split.insert(0, plan.big_thread)
            sizes.append(split)
        first_thread = self.sink.reserve(Thread, sum(len(s) for s in sizes))
        first_post = self.sink.reserve(Post, plan.posts)
        threads: list[tuple] = []
        plans: list[tuple] = []  # per thread: pk, course, members, author, title, created, size, big
        thread_pk = first_thread
        for info, split in zip(self.courses, sizes, strict=True):
            everyone = (info.students or []) + list(info.staff)
            for t, size in enumerate(split):
                big = info.index == 0 and t == 0 and plan.big_thread > 0
                group = None if big or rng.random() < 0.7 else rng.choice(info.groups)
                members = (info.members_of_group[group] + list(info.staff)) if group else everyone
                author = rng.choice(members)
                target = rng.random()
                claim = event = annotation = challenge = None
                if big:
                    title = "Course forum: questions about the reading"
                elif target < 0.3:
                    claim_id, key, _p = rng.choice(reading.claims)
                    claim, title = claim_id, f"Claim {key}: {self._phrase('{a}')}"
                elif target < 0.4 and reading.events:
                    event, event_title = rng.choice(reading.events)
                    title = f"About {event_title}"[:200]
                elif target < 0.5 and group is None and info.shared_annotations:
                    annotation, title = rng.choice(info.shared_annotations), "About a note on the reading"
                elif target < 0.6 and group is None and info.shared_challenges:
                    challenge, key = rng.choice(info.shared_challenges)
                    title = f"Challenge to {key}"
                else:
                    title = self._phrase(rng.choice(THREAD_TITLES))[:200]
                created = self._when()
                threads.append((
                    thread_pk, info.id, group, author, title, claim, event, annotation, challenge,
                    rng.random() < 0.03, rng.random() < 0.02, created, None,
                ))  # fmt: skip
                plans.append((thread_pk, info, group, members, author, title, created, size, big))
                thread_pk += 1

        def rows() -> Iterator[tuple]:
            post_pk = first_post
            for thread_pk, info, group, members, author, title, created, size, big in plans:
                at = created
                posts_here: list[tuple[int, int, bool]] = []  # pk, author, published and not deleted
                url = self._url_thread(info.id, thread_pk)
                for n in range(size):
                    who = author if n == 0 else rng.choice(members)
                    at = self._when(at, 2 * 24 * 3600 if not big else 6 * 3600)
                    parent = None
                    if posts_here and rng.random() < 0.4:
                        parent, parent_author, parent_alive = rng.choice(posts_here)
                    body, body_html = rng.choice(self._bodies)
                    state = self._fate(
                        "post", post_pk, info, who, at, Visibility.GROUP if group else Visibility.COURSE,
                        lambda url=url, post_pk=post_pk: f"{url}#post-{post_pk}", (0.005, 0.005, 0.005),
                    )  # fmt: skip
                    moderated = self.moderated[-1] if state == ModerationState.HIDDEN else None
                    deleted = None
                    if state == ModerationState.PUBLISHED and rng.random() < 0.005:
                        deleted = self._when(at, 24 * 3600)
                    if (
                        state == ModerationState.PUBLISHED
                        and parent is not None
                        and parent_alive
                        and parent_author != who
                    ):
                        self._notify(
                            parent_author, NotificationKind.REPLY, who, info.id,
                            REPLIED, {"user": self.usernames[who], "thread": title}, f"{url}#post-{post_pk}", at,
                        )  # fmt: skip
                    posts_here.append((post_pk, who, state == ModerationState.PUBLISHED and deleted is None))
                    yield (
                        post_pk, state, moderated.reason if moderated else "",
                        moderated.moderator if moderated else None, moderated.moderated_at if moderated else None,
                        thread_pk, parent, who, body, body_html, at, deleted or at, None, deleted,
                    )  # fmt: skip
                    post_pk += 1

        self.sink.write(
            "threads", Thread,
            ["id", "course", "group", "author", "title", "claim", "event", "annotation", "challenge", "pinned",
             "locked", "created_at", "last_post_at"],
            threads,
        )  # fmt: skip
        self.sink.write(
            "posts", Post,
            ["id", "moderation", "moderation_reason", "moderated_by", "moderated_at", "thread", "parent", "author",
             "body", "body_html", "created_at", "updated_at", "edited_at", "deleted_at"],
            rows(), total=plan.posts,
        )  # fmt: skip
        # As services.threads leaves it: a thread's last post time is its last published post's.
        # One aggregate joined in (the planner has no statistics of the new rows yet).
        thread, post = (connection.ops.quote_name(m._meta.db_table) for m in (Thread, Post))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {thread} SET last_post_at = latest.at FROM (SELECT thread_id, MAX(created_at) AS at "
                f"FROM {post} WHERE moderation = %s AND thread_id >= %s AND thread_id < %s GROUP BY thread_id) "
                f"AS latest WHERE {thread}.id = latest.thread_id",
                [ModerationState.PUBLISHED, first_thread, thread_pk],
            )

    def moderation(self) -> None:
        """The review queue as ``services.moderation`` leaves it: pending work waits in an
        open item; flagged work has open (or dismissed) flags; hidden work a closed item whose
        last act was ``hide`` (with upheld flags when flags led to it)."""
        rng = self.rng
        first = self.sink.reserve(ModerationItem, len(self.moderated))
        items, flags = [], []
        reasons = FlagReason.values
        for n, work in enumerate(self.moderated):
            pk, info = first + n, work.course
            flaggers = [s for s in rng.sample(info.students, min(3, len(info.students))) if s != work.author]
            flaggers = flaggers[: rng.randint(1, 3)]
            if work.state == "pending":
                items.append(
                    (
                        pk,
                        info.id,
                        work.kind,
                        work.id,
                        work.author,
                        ItemStatus.OPEN,
                        0,
                        work.created_at,
                        "",
                        None,
                        None,
                        1,
                    )
                )
                continue
            flagged_at = [self._when(work.created_at, 2 * 24 * 3600) for _ in flaggers]
            if work.state == "hidden":
                by_flags = work.flaggable and bool(flaggers) and rng.random() < 0.6
                items.append(
                    (
                        pk,
                        info.id,
                        work.kind,
                        work.id,
                        work.author,
                        ItemStatus.CLOSED,
                        0,
                        min(flagged_at) if by_flags else work.created_at,
                        Action.HIDE,
                        work.moderator,
                        work.moderated_at,
                        2,
                    )
                )
                self._notify(
                    work.author, NotificationKind.MODERATION, work.moderator, info.id,
                    MODERATION_NEWS[work.kind][Action.HIDE], {"reason": work.reason}, work.url, work.moderated_at,
                )  # fmt: skip
                if by_flags:
                    for flagger, at in zip(flaggers, flagged_at, strict=True):
                        flags.append(
                            self._flag(
                                pk,
                                flagger,
                                reasons,
                                FlagStatus.UPHELD,
                                min(at, work.moderated_at),
                                work.moderated_at,
                            )
                        )
                        self._notify(
                            flagger, NotificationKind.MODERATION, work.moderator, info.id,
                            FLAG_NEWS[work.kind][Action.HIDE], {}, work.url, work.moderated_at,
                        )  # fmt: skip
                continue
            if not flaggers:
                continue
            if rng.random() < 0.7:
                items.append(
                    (
                        pk,
                        info.id,
                        work.kind,
                        work.id,
                        work.author,
                        ItemStatus.OPEN,
                        len(flaggers),
                        min(flagged_at),
                        "",
                        None,
                        None,
                        1,
                    )
                )
                flags += [
                    self._flag(pk, f, reasons, FlagStatus.OPEN, at, None)
                    for f, at in zip(flaggers, flagged_at, strict=True)
                ]
            else:
                action = rng.choice([Action.DISMISS, Action.REVIEW])
                staff, done = rng.choice(info.staff), self._when(max(flagged_at), 2 * 24 * 3600)
                outcome = FlagStatus.DISMISSED if action == Action.DISMISS else FlagStatus.REVIEWED
                items.append(
                    (
                        pk,
                        info.id,
                        work.kind,
                        work.id,
                        work.author,
                        ItemStatus.CLOSED,
                        0,
                        min(flagged_at),
                        action,
                        staff,
                        done,
                        2,
                    )
                )
                flags += [
                    self._flag(pk, f, reasons, outcome, at, done)
                    for f, at in zip(flaggers, flagged_at, strict=True)
                ]
        kinds = {"annotation": 0, "post": 1, "challenge": 2}

        def item_rows() -> Iterator[tuple]:
            for pk, course, kind, target, author, status, count, opened, action, by, at, version in items:
                targets = [None, None, None]
                targets[kinds[kind]] = target
                yield (
                    pk,
                    course,
                    kind,
                    *targets,
                    None,
                    author,
                    status,
                    count,
                    opened,
                    action,
                    by,
                    at,
                    version,
                )

        self.sink.write(
            "moderation items", ModerationItem,
            ["id", "course", "kind", "annotation", "post", "challenge", "source", "author", "status", "flag_count",
             "opened_at", "last_action", "last_action_by", "last_action_at", "version"],
            item_rows(), total=len(items),
        )  # fmt: skip
        self.sink.write(
            "flags", Flag, ["item", "flagger", "reason", "text", "status", "created_at", "closed_at"], flags
        )

    def _flag(
        self,
        item: int,
        flagger: int,
        reasons: list[str],
        status: str,
        at: dt.datetime,
        closed: dt.datetime | None,
    ) -> tuple:
        reason = self.rng.choice(reasons)
        text = "Not about the reading at all." if reason == FlagReason.OTHER else ""
        return (item, flagger, reason, text, status, at, closed)

    def _decision(
        self, info: CourseInfo, proposer: int, created: dt.datetime, messages: dict, params: dict, url: str
    ) -> tuple[str, int | None, dt.datetime | None, str]:
        """A proposal's status (half still proposed), and for a decided one who decided it,
        when, with what feedback; its proposer is told as the services tell them."""
        rng = self.rng
        status = rng.choices(ProposalStatus.values, (50, 30, 20))[0]
        if status == ProposalStatus.PROPOSED:
            return status, None, None, ""
        decided_by, decided_at = rng.choice(info.staff), self._when(created, 7 * 24 * 3600)
        feedback = rng.choice(FEEDBACK) if rng.random() < 0.5 else ""
        self._notify(
            proposer, NotificationKind.LINK_DECIDED, decided_by, info.id, messages[status], params, url,
            decided_at,
        )  # fmt: skip
        return status, decided_by, decided_at, feedback

    def link_proposals(self) -> None:
        rng, reading = self.rng, self.reading
        rows = []
        relations = ClaimEventLink.Relation.values
        pairs = len(reading.claims) * len(reading.events)
        for info in self.courses:
            authors = info.students or [info.instructor]
            n = min(pairs, max(2, len(authors) // 3))
            for pair in rng.sample(range(pairs), n):
                (claim_id, key, _p), (event_id, event_title) = (
                    reading.claims[pair // len(reading.events)],
                    reading.events[pair % len(reading.events)],
                )
                proposer, created = rng.choice(authors), self._when()
                status, decided_by, decided_at, feedback = self._decision(
                    info, proposer, created, LINK_DECIDED, {"claim": key, "event": event_title},
                    reverse("links:claim", kwargs={"pk": info.id, "key": key}),
                )  # fmt: skip
                note = self._phrase(rng.choice(SECOND)) if rng.random() < 0.6 else ""
                rows.append(
                    (
                        info.id,
                        proposer,
                        claim_id,
                        event_id,
                        rng.choice(relations),
                        note,
                        status,
                        feedback,
                        decided_by,
                        decided_at,
                        created,
                    )
                )
        self.sink.write(
            "link proposals", LinkProposal,
            ["course", "proposer", "claim", "event", "relation", "note", "status", "feedback", "decided_by",
             "decided_at", "created_at"],
            rows,
        )  # fmt: skip

    def event_proposals(self) -> None:
        """Events proposed by the students of each course, each citing a source of the reading
        or of the course, as ``services.links.event_propose`` takes them; some decided by staff.

        Accepted proposals point at no event: ``event_decide`` would add one to the timeline,
        which every course shares, and a seed's data stays inside its own courses.
        """
        rng, reading = self.rng, self.reading
        rows = []
        for info in self.courses:
            authors = info.students or [info.instructor]
            citable = info.sources + reading.reading_sources
            review_url = reverse("links:review", kwargs={"pk": info.id})
            for _ in range(self.plan.event_proposals_in(info.index)):
                template, kind = rng.choice(PROPOSED_EVENTS)
                city = rng.choice(CITIES)
                title = template.format(city=city, country=rng.choice(COUNTRIES), topic=rng.choice(TOPICS))
                date, precision, end_date, end_precision = self._event_dates()
                proposer, created = rng.choice(authors), self._when()
                status, decided_by, decided_at, feedback = self._decision(
                    info, proposer, created, EVENT_DECIDED, {"event": title}, review_url
                )
                description = self._phrase(rng.choice(EVENT_NOTES)) if rng.random() < 0.6 else ""
                rows.append((
                    info.id, proposer, title, date, precision, end_date, end_precision,
                    city if "{city}" in template else "", kind, description, rng.choice(citable), status,
                    feedback, decided_by, decided_at, created,
                ))  # fmt: skip
        self.sink.write(
            "event proposals", EventProposal,
            ["course", "proposer", "title", "date", "precision", "end_date", "end_precision", "place", "type",
             "description", "source", "status", "feedback", "decided_by", "decided_at", "created_at"],
            rows,
        )  # fmt: skip

    def _event_dates(self) -> tuple[dt.date, str, dt.date | None, str]:
        """A date in the reading's years at a drawn precision, stored as ``PartialDate`` stores it
        (the first day of its month or year), and sometimes an end in a later day or month."""
        rng = self.rng
        year, month = rng.randint(1996, 2024), rng.randint(1, 12)
        precision = rng.choices([Precision.DAY, Precision.MONTH, Precision.YEAR], (60, 25, 15))[0]
        if precision == Precision.YEAR:
            return dt.date(year, 1, 1), precision, None, ""
        if precision == Precision.MONTH:
            date = dt.date(year, month, 1)
            if rng.random() < 0.25:
                years, end_month = divmod(month - 1 + rng.randint(1, 3), 12)
                return date, precision, dt.date(year + years, end_month + 1, 1), Precision.MONTH
            return date, precision, None, ""
        date = dt.date(year, month, rng.randint(1, calendar.monthrange(year, month)[1]))
        if rng.random() < 0.25:
            # A summit or a round of talks lasting a few days.
            return date, precision, date + dt.timedelta(days=rng.randint(1, 4)), Precision.DAY
        return date, precision, None, ""

    def assignments(self) -> None:
        rng, reading = self.rng, self.reading
        first = self.sink.reserve(Assignment, 2 * len(self.courses))
        day = dt.timedelta(days=1)
        specs = (
            ("Week 3: the Shanghai Five and its border agreements", "Annotate at least **five** passages and reply to two classmates.",
             14, 28, 31, 10, (5, 0, 0, 2, 0), Scoring.SCALED, Decimal("10")),
            ("Week 8: challenging the claims", "Challenge **two** claims, citing at least two sources in all.",
             49, 63, None, 0, (0, 2, 2, 0, 0), Scoring.ALL_OR_NOTHING, Decimal("20")),
        )  # fmt: skip
        rows, scopes, grades = [], [], []
        for info in self.courses:
            for k, (title, instructions, opens, due, late, penalty, required, scoring, points) in enumerate(
                specs
            ):
                pk = first + 2 * info.index + k
                released = TERM_START + (due + 7) * day if info.index == 0 and k == 0 else None
                rows.append((
                    pk, info.id, title, instructions, render(instructions), TERM_START + opens * day,
                    TERM_START + due * day, TERM_START + late * day if late else None, penalty, "individual", *required,
                    scoring, points, False, False, False, released, info.instructor if released else None,
                    info.instructor, TERM_START, TERM_START,
                ))  # fmt: skip
                if k == 0:
                    scopes += [(pk, section) for section in reading.sections[:2]]
                if info.index == 0:
                    for student in info.students:
                        score = (
                            (Decimal(rng.randint(0, int(points) * 4)) / 4).quantize(Decimal("0.01"))
                            if rng.random() < 0.8
                            else None
                        )
                        feedback, feedback_html = (
                            rng.choice(self._feedback) if rng.random() < 0.7 else ("", "")
                        )
                        grades.append(
                            (
                                pk,
                                student,
                                score,
                                feedback,
                                feedback_html,
                                rng.choice(info.staff),
                                TERM_START + (due + rng.randint(1, 6)) * day,
                                1,
                            )
                        )
        self.sink.write(
            "assignments", Assignment,
            ["id", "course", "title", "instructions", "instructions_html", "opens_at", "due_at", "late_until",
             "late_penalty", "work_mode", "required_annotations", "required_challenges", "required_sources",
             "required_replies", "required_links", "scoring", "points", "hide_peers_until_posted",
             "anonymous_to_peers", "premoderation", "grades_released_at", "grades_released_by", "created_by",
             "created_at", "updated_at"],
            rows,
        )  # fmt: skip
        self.sink.write("assignment sections", Assignment.sections.through, ["assignment", "section"], scopes)
        self.sink.write(
            "grades",
            Grade,
            [
                "assignment",
                "student",
                "score",
                "feedback",
                "feedback_html",
                "graded_by",
                "graded_at",
                "version",
            ],
            grades,
        )

    def write_notifications(self) -> None:
        self.sink.write(
            "notifications", Notification,
            ["recipient", "kind", "actor", "course", "text", "message", "params", "url", "created_at", "read_at"],
            self.notifications,
        )  # fmt: skip


# -- removing a seed ---------------------------------------------------------------------------


def delete_seed(plan: Plan, sink: Sink | None = None) -> int:
    """Delete this seed's courses and users and everything that hangs off them; the number
    of rows deleted. Other seeds and real courses are untouched.

    With a ``sink`` in bulk-load mode, the references left to deleted rows are checked once
    per foreign key at the end (``Sink.check_references_to``) rather than row by row.
    """
    User = get_user_model()
    courses = Course.objects.filter(title__startswith=plan.course_prefix).order_by().values("pk")
    users = User.objects.filter(username__startswith=plan.user_prefix).order_by().values("pk")
    annotations = Annotation.objects.filter(course__in=courses).order_by().values("pk")
    challenges = Challenge.objects.filter(course__in=courses).order_by().values("pk")
    threads = Thread.objects.filter(course__in=courses).order_by().values("pk")
    posts = Post.objects.filter(thread__in=threads).order_by().values("pk")
    items = ModerationItem.objects.filter(course__in=courses).order_by().values("pk")
    assignments = Assignment.objects.filter(course__in=courses).order_by().values("pk")
    steps: list[tuple[type[models.Model], str, Any]] = [
        (Notification, "course", courses),
        (Notification, "recipient", users),
        (Flag, "item", items),
        (ModerationItem, "id", items),
        (Grade, "assignment", assignments),
        (Extension, "assignment", assignments),
        (Assignment.sections.through, "assignment", assignments),
        (Assignment.claims.through, "assignment", assignments),
        (Assignment, "id", assignments),
        (Reaction, "post", posts),
        (PostRevision, "post", posts),
        (Post.mentions.through, "post", posts),
        (Post, "id", posts),
        (ThreadVisit, "thread", threads),
        (Thread, "id", threads),
        (ChallengeResponse, "challenge", challenges),
        (ChallengeSource, "challenge", challenges),
        (Challenge, "id", challenges),
        (AnnotationReply, "annotation", annotations),
        (Reaction, "annotation", annotations),
        (Annotation.tags.through, "annotation", annotations),
        (Annotation, "id", annotations),
        (LinkProposal, "course", courses),
        (EventProposal, "course", courses),
        (Source, "course", courses),
        (Membership, "course", courses),
        (CourseGroup, "course", courses),
        (Course, "id", courses),
    ]
    deleted = 0
    with connection.cursor() as cursor:
        for model, name, subquery in steps:
            column = model._meta.get_field(name).column
            sql, params = subquery.query.sql_with_params()
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} "
                f"WHERE {connection.ops.quote_name(column)} IN ({sql})",
                params,
            )
            deleted += max(cursor.rowcount, 0)
    # Whatever else points at the users (preferences, visits, reactions) goes with them.
    deleted += User.objects.filter(username__startswith=plan.user_prefix).delete()[0]
    if sink is not None and sink.bulk_mode:
        sink.check_references_to([model for model, _name, _rows in steps] + [User])
    elif connection.vendor == "sqlite":
        # SQLite would only notice at the commit, after the seed was regenerated.
        connection.check_constraints()
    return deleted
