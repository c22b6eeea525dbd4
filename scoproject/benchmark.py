"""Latency of the key pages and API endpoints, measured through the whole middleware stack.

``python manage.py benchmark`` finds its targets in whatever data the database holds (the
course with most students, its busiest claim and thread, an assignment…), signs in as the
people who would open each page, and times GET requests with ``django.test.Client``: the
same middleware, session backend, templates and serializers a browser's request goes
through, without the network or the web server. The process's garbage collector is settled
first as a gunicorn worker's is (``scoproject/gc_tuning.py``); ``--cold`` empties the cache
before every request, for first views. Each p95 is also given as a multiple of the p95 of
``/health/``, a view that does nothing: that ratio is comparable between machines, where
milliseconds are not.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import os
import platform
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, connections
from django.db.models import Count, Model, QuerySet
from django.http import HttpResponseBase
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations import selectors
from annotations.api.w3c import JSONLD_MEDIA_TYPE
from annotations.models import Annotation, Challenge, Claim, Course, Membership, Paragraph, Post, Thread
from annotations.models.assignments import Assignment
from annotations.models.challenges import EvidenceStatus
from annotations.models.courses import Role
from scoproject import gc_tuning
from timeline.models import Actor, Event

FLOOR, PAGE, API, SEARCH = "floor", "page", "api", "search"
KINDS = (FLOOR, PAGE, API, SEARCH)
# The p95 each kind of target must stay under, in milliseconds.
BUDGETS_MS: dict[str, float] = {API: 30.0, PAGE: 80.0, SEARCH: 50.0}
MAX_GROWTH = 1.5
# The machine's speed, read with each run so that figures from different machines can be set
# side by side: the seconds CPython takes to sum the squares of the first SPEED_LOOP integers.
SPEED_LOOP = 10**7
FALLBACK_WORD = "cooperation"
# Frequent words that make a search match nearly everything, and so measure nothing special.
STOP_WORDS = frozenset(
    {
        "about",
        "above",
        "after",
        "again",
        "against",
        "among",
        "because",
        "before",
        "being",
        "below",
        "between",
        "could",
        "doing",
        "during",
        "further",
        "having",
        "itself",
        "other",
        "should",
        "their",
        "there",
        "these",
        "those",
        "through",
        "under",
        "until",
        "where",
        "which",
        "while",
        "would",
    }
)
WORD = re.compile(r"[a-z]{5,}")

# Every target the command knows, in the order it measures them.
TARGET_NAMES = (
    "floor",
    "reading",
    "claims-contested",
    "claim-challenges",
    "thread",
    "progress",
    "moderation-queue",
    "w3c-collection",
    "w3c-page",
    "course-timeline",
    "timeline",
    "search-annotations",
    "search-claims",
    "search-claims-page",
    "api-annotations",
    "api-annotation",
    "api-challenges",
    "api-challenge",
    "api-claims",
    "api-claim",
    "api-threads",
    "api-thread",
    "api-posts",
    "api-post",
    "api-documents",
    "api-document",
    "api-paragraphs",
    "api-paragraph",
    "api-events",
    "api-event",
    "api-actors",
    "api-actor",
    "api-sources",
    "api-source",
    "api-courses",
    "api-course",
    "api-course-members",
    "api-groups",
    "api-group",
    "api-links",
    "api-link",
    "api-event-proposals",
    "api-event-proposal",
    "api-notifications",
    "api-notification",
    "api-assignments",
    "api-assignment",
    "api-assignment-progress",
    "api-assignment-grades",
    "api-flags",
    "api-flag",
    "api-moderation-items",
    "api-moderation-item",
)


@dataclass(frozen=True)
class Target:
    """One URL to time, of one kind, fetched as ``username`` (anonymous when ``None``)."""

    name: str
    kind: str
    url: str
    username: str | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    """What the timing of one target found; times in milliseconds."""

    name: str
    kind: str
    url: str
    username: str | None
    p50_ms: float
    p95_ms: float
    max_ms: float
    status: int
    bytes: int
    queries: int
    ratio_p95_to_floor: float | None = None
    budget_ms: float | None = None
    within_budget: bool | None = None
    growth: float | None = None
    within_growth: bool | None = None

    @property
    def passed(self) -> bool:
        return self.within_budget is not False and self.within_growth is not False


@dataclass
class Plan:
    """The targets found in the data, and why others could not be."""

    targets: list[Target]
    notes: list[str]


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values``, interpolating linearly between the
    two nearest ranks; always between the smallest and the largest value."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def default_host() -> str:
    """A host name the site answers to: the first plain entry of ``ALLOWED_HOSTS``."""
    for host in settings.ALLOWED_HOSTS:
        if host and host != "*" and not host.startswith("."):
            return host
    return "localhost"


# -- finding the targets in the data -------------------------------------------------------


def _common_word(texts: Iterable[str]) -> str | None:
    counts = Counter(word for text in texts for word in WORD.findall(text.lower()) if word not in STOP_WORDS)
    return counts.most_common(1)[0][0] if counts else None


def _first_pk(rows: QuerySet) -> int | None:
    return rows.order_by("-pk").values_list("pk", flat=True).first()


def plan_targets(*, word: str | None = None) -> Plan:
    """The targets the data allows: pages and endpoints of the course with most students,
    seen by one of its students (its instructor for the staff pages).

    Objects are picked so that a page shows the most there is: the claim with most
    challenges, the thread with most posts. What the data lacks is left out with a note.
    """
    targets: list[Target] = [Target("floor", FLOOR, reverse("health"), None)]
    notes: list[str] = []
    busiest = (
        Membership.objects.filter(role=Role.STUDENT)
        .values("course")
        .annotate(students=Count("pk"))
        .order_by("-students", "course")
        .first()
    )
    if busiest is None:
        notes.append("no course has students: only the floor is measured")
        return Plan(targets, notes)
    course = Course.objects.select_related("reading").get(pk=busiest["course"])
    students = Membership.objects.filter(course=course, role=Role.STUDENT).select_related("user")
    # A student in a group sees group work as well as the course's: the fuller page.
    membership = (
        students.filter(group__isnull=False).order_by("pk").first() or students.order_by("pk").first()
    )
    student = membership.user
    teacher = (
        Membership.objects.filter(course=course, role=Role.INSTRUCTOR)
        .select_related("user")
        .order_by("pk")
        .first()
        or Membership.objects.filter(course=course, role=Role.TA)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    pk = course.pk

    def add(name: str, kind: str, url: str, username: str | None = student.username, **headers: str) -> None:
        targets.append(Target(name, kind, url, username, headers))

    add("reading", PAGE, reverse("annotate:reading", args=[pk]))
    add(
        "claims-contested",
        PAGE,
        f"{reverse('challenges:claims', args=[pk])}?status={EvidenceStatus.CONTESTED}",
    )

    claim_key = (
        Challenge.objects.filter(course=course, deleted_at__isnull=True)
        .values("claim__key")
        .annotate(challenges=Count("pk"))
        .order_by("-challenges", "claim__key")
        .values_list("claim__key", flat=True)
        .first()
    )
    if claim_key is None:
        claim_key = selectors.claims_of_course(course).values_list("key", flat=True).first()
        if claim_key is not None:
            notes.append("claim-challenges: no challenge in the course; its first claim is shown")
    if claim_key is None:
        notes.append("claim-challenges, api-claim: the course's reading has no claims")
    else:
        add("claim-challenges", PAGE, reverse("challenges:claim", args=[pk, claim_key]))

    thread = (
        Thread.objects.filter(course=course)
        .annotate(posts_count=Count("posts"))
        .order_by("-posts_count", "pk")
        .first()
    )
    reader = _thread_reader(thread, student) if thread else None
    if thread is None:
        notes.append("thread: the course has no threads")
    elif reader is None:
        notes.append(f"thread: no member of the course may see thread {thread.pk}")
    else:
        add("thread", PAGE, reverse("threads:detail", args=[pk, thread.pk]), reader.username)

    assignment = Assignment.objects.filter(course=course).order_by("pk").values_list("pk", flat=True).first()
    if teacher is None:
        notes.append("progress, moderation-queue: the course has no instructor or TA")
    else:
        if assignment is None:
            notes.append("progress: the course has no assignment")
        else:
            add("progress", PAGE, reverse("assignments:progress", args=[assignment]), teacher.user.username)
        add("moderation-queue", PAGE, reverse("moderation:queue", args=[pk]), teacher.user.username)

    collection = reverse("api:course-annotation-collection", args=[pk])
    add("w3c-collection", PAGE, collection, HTTP_ACCEPT=JSONLD_MEDIA_TYPE)
    if selectors.annotations_for_export(student, course).exists():
        add("w3c-page", PAGE, f"{collection}?page=1", HTTP_ACCEPT=JSONLD_MEDIA_TYPE)
    else:
        notes.append("w3c-page: the student sees no annotation in the course")
    add("course-timeline", PAGE, reverse("links:course-timeline", args=[pk]))
    add("timeline", PAGE, reverse("timeline:timeline"))

    recent = Annotation.objects.filter(course=course).order_by("-pk").values_list("body", "exact")[:500]
    note_word = word or _common_word(f"{body} {exact}" for body, exact in recent) or FALLBACK_WORD
    claims = Claim.objects.filter(paragraph__document_id=course.reading_id).values_list("quote", "paraphrase")
    claim_word = (
        word or _common_word(f"{quote} {paraphrase}" for quote, paraphrase in claims) or FALLBACK_WORD
    )
    add("search-annotations", SEARCH, f"{reverse('api:annotation-list')}?q={note_word}&course={pk}")
    add("search-claims", SEARCH, f"{reverse('api:claim-list')}?q={claim_word}")
    add("search-claims-page", SEARCH, f"{reverse('challenges:claims', args=[pk])}?q={claim_word}")

    def api_pair(
        resource: str,
        list_query: str,
        detail: object | None,
        lookup: str = "pk",
        username: str = student.username,
        name: str | None = None,
    ) -> None:
        name = name or f"api-{resource}"
        url = reverse(f"api:{resource}-list")
        add(f"{name}s", API, f"{url}?{list_query}" if list_query else url, username)
        if detail is None:
            notes.append(f"{name}: {username} sees no {resource} in the course")
        else:
            add(name, API, reverse(f"api:{resource}-detail", kwargs={lookup: detail}), username)

    course_query = f"course={pk}"
    api_pair(
        "annotation", course_query, _first_pk(selectors.visible_annotations(student).filter(course=course))
    )
    api_pair(
        "challenge", course_query, _first_pk(selectors.visible_challenges(student).filter(course=course))
    )
    if claim_key is not None:
        api_pair("claim", f"document={course.reading.slug}", claim_key, lookup="key")
    visible_thread = (
        selectors.visible_threads(student)
        .filter(course=course)
        .annotate(posts_count=Count("posts"))
        .order_by("-posts_count", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    api_pair("thread", course_query, visible_thread)
    api_pair("post", course_query, _first_pk(selectors.visible_posts(student).filter(thread__course=course)))
    # The rest of the API, each list and one of its objects, as the student or, for what only
    # staff may read, the teacher.
    reading = course.reading
    api_pair("document", "", reading.slug, lookup="slug")
    paragraphs = Paragraph.objects.filter(document=reading).order_by("order")
    api_pair("paragraph", f"document={reading.slug}", paragraphs.values_list("pk", flat=True).first())
    api_pair("event", "", Event.objects.order_by("date", "key").values_list("key", flat=True).first(), "key")
    api_pair("actor", "", Actor.objects.order_by("key").values_list("key", flat=True).first(), "key")
    sources = selectors.visible_sources(student).filter(course=course).order_by("key")
    api_pair("source", course_query, sources.values_list("key", flat=True).first(), "key")
    api_pair("course", "", pk)
    api_pair("group", course_query, membership.group_id)
    links = selectors.visible_link_proposals(student).filter(course=course)
    api_pair("link", course_query, _first_pk(links))
    proposals = selectors.visible_event_proposals(student).filter(course=course)
    api_pair("event-proposal", course_query, _first_pk(proposals))
    api_pair("notification", "", _first_pk(student.notifications.all()))
    api_pair("assignment", course_query, assignment)
    if teacher is not None:
        staff = teacher.user
        add("api-course-members", API, reverse("api:course-members", args=[pk]), staff.username)
        if assignment is not None:
            for action in ("progress", "grades"):
                url = reverse(f"api:assignment-{action}", args=[assignment])
                add(f"api-assignment-{action}", API, url, staff.username)
        flags = selectors.flags_for_user(staff).filter(item__course=course)
        api_pair("flag", course_query, _first_pk(flags), username=staff.username)
        items = selectors.moderation_queue(staff).filter(course=course)
        api_pair(
            "moderation", course_query, _first_pk(items), username=staff.username, name="api-moderation-item"
        )
    return Plan(targets, notes)


def _thread_reader(thread: Thread, student: Model) -> Model | None:
    """A member of the thread's course who may see it: ``student`` if they may, else a
    student of its group, else its author."""
    candidates = [student]
    if thread.group_id is not None:
        member = (
            Membership.objects.filter(group_id=thread.group_id, role=Role.STUDENT)
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if member is not None:
            candidates.append(member.user)
    candidates.append(thread.author)
    for user in candidates:
        if selectors.visible_threads(user).filter(pk=thread.pk).exists():
            return user
    return None


# -- timing -------------------------------------------------------------------------------


def signed_in_client(username: str | None, *, password: str, host: str) -> Client | None:
    """A test client signed in as ``username`` through the configured backends and session
    engine (anonymous for ``None``); ``None`` when the password is refused."""
    client = Client(HTTP_HOST=host, raise_request_exception=False)
    if username is None:
        return client
    # The login throttle needs the request the credentials came with.
    request = RequestFactory().post(reverse("login"), HTTP_HOST=host)
    if not client.login(request=request, username=username, password=password):
        return None
    return client


def _fetch(client: Client, target: Target, secure: bool) -> HttpResponseBase:
    response = client.get(target.url, secure=secure, **target.headers)
    if response.streaming:
        response.content = b"".join(response.streaming_content)
    return response


def measure(client: Client, target: Target, *, requests: int, warmup: int, cold: bool = False) -> Result:
    """Time ``requests`` GETs of ``target`` after ``warmup`` untimed ones, and count the
    queries of one more; ``cold``: with the cache emptied before each (untimed)."""
    secure = settings.SECURE_SSL_REDIRECT
    for _ in range(warmup):
        _fetch(client, target, secure)
    gc.collect()
    seconds = []
    response = None
    for _ in range(requests):
        if cold:
            cache.clear()
        start = time.perf_counter()
        response = _fetch(client, target, secure)
        seconds.append(time.perf_counter() - start)
    contexts = [CaptureQueriesContext(connections[alias]) for alias in connections]
    for context in contexts:
        context.__enter__()
    try:
        response = _fetch(client, target, secure)
    finally:
        for context in reversed(contexts):
            context.__exit__(None, None, None)
    millis = [s * 1000 for s in seconds]
    return Result(
        name=target.name,
        kind=target.kind,
        url=target.url,
        username=target.username,
        p50_ms=round(percentile(millis, 50), 4),
        p95_ms=round(percentile(millis, 95), 4),
        max_ms=round(max(millis), 4),
        status=response.status_code,
        bytes=len(response.content),
        queries=sum(len(context.captured_queries) for context in contexts),
    )


def run(
    plan: Plan,
    *,
    password: str,
    host: str,
    requests: int,
    warmup: int,
    cold: bool = False,
    progress: Callable[[str], None] = lambda line: None,
) -> list[Result]:
    """Time every target of ``plan``, one client per user; targets whose user cannot sign
    in are left out with a note in ``plan.notes``."""
    clients: dict[str | None, Client | None] = {}
    results = []
    gc_tuning.settle()  # as a gunicorn worker does once the app is loaded
    for target in plan.targets:
        if target.username not in clients:
            clients[target.username] = signed_in_client(target.username, password=password, host=host)
        client = clients[target.username]
        if client is None:
            plan.notes.append(f"{target.name}: {target.username} could not sign in with the password given")
            continue
        progress(f"{target.name} ({target.kind}) {target.url}")
        results.append(measure(client, target, requests=requests, warmup=warmup, cold=cold))
    floor = next((r for r in results if r.kind == FLOOR), None)
    for result in results:
        if floor is not None and floor.p95_ms > 0:
            result.ratio_p95_to_floor = round(result.p95_ms / floor.p95_ms, 3)
    return results


def judge(
    results: list[Result], budgets: dict[str, float], previous: dict[str, float] | None, max_growth: float
) -> None:
    """Mark each result against its kind's budget and, given the p95s of an earlier run by
    name, against the growth allowed since."""
    for result in results:
        budget = budgets.get(result.kind)
        if budget is not None:
            result.budget_ms = budget
            result.within_budget = result.p95_ms < budget and result.status == 200
        if previous and previous.get(result.name):
            result.growth = round(result.p95_ms / previous[result.name], 3)
            result.within_growth = result.growth <= max_growth


def previous_p95s(path: Path) -> dict[str, float]:
    """The p95 of each target of an earlier run's JSON, by name."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {t["name"]: float(t["p95_ms"]) for t in data.get("targets", []) if t.get("p95_ms")}


def machine_speed(loop: int | None = None) -> dict[str, Any]:
    """How fast this machine runs plain Python: the best of three timings of
    ``sum(i * i for i in range(loop))``, with the interpreter and the number of cores."""
    loop = SPEED_LOOP if loop is None else loop
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        sum(i * i for i in range(loop))
        best = min(best, time.perf_counter() - start)
    return {
        "loop": f"sum(i * i for i in range({loop}))",
        "seconds": round(best, 3),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cores": os.cpu_count(),
    }


def speed_line(speed: dict[str, Any]) -> str:
    """``machine_speed``'s reading as the line printed above the table."""
    return f"machine: {speed['loop']} in {speed['seconds']:.2f} s ({speed['python']}, {speed['cores']} cores)"


def row_counts() -> dict[str, int]:
    """How much data the run met."""
    User = get_user_model()
    return {
        "annotations": Annotation.objects.count(),
        "challenges": Challenge.objects.count(),
        "posts": Post.objects.count(),
        "threads": Thread.objects.count(),
        "users": User.objects.count(),
        "courses": Course.objects.count(),
    }


def report(
    results: list[Result],
    *,
    notes: list[str],
    counts: dict[str, int],
    run_settings: dict[str, Any],
    machine: dict[str, Any],
) -> dict[str, Any]:
    """The run as JSON-ready data."""
    return {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "database_vendor": connection.vendor,
        "row_counts": counts,
        "settings": {
            **run_settings,
            "debug": settings.DEBUG,
            "session_engine": settings.SESSION_ENGINE,
            "cache_backend": settings.CACHES["default"]["BACKEND"],
            "django": django.get_version(),
            "python": platform.python_version(),
        },
        "notes": notes,
        "targets": [asdict(result) for result in results],
    }


def table(rows: list[list[str]], right: Iterable[int]) -> list[str]:
    """``rows`` (the first being the header) as aligned text lines; columns in ``right``
    are aligned right."""
    right = set(right)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def results_table(results: list[Result]) -> list[str]:
    rows = [
        [
            "target",
            "kind",
            "p50 ms",
            "p95 ms",
            "max ms",
            "x floor",
            "queries",
            "status",
            "bytes",
            "budget",
            "",
        ]
    ]
    for r in results:
        rows.append(
            [
                r.name,
                r.kind,
                f"{r.p50_ms:.2f}",
                f"{r.p95_ms:.2f}",
                f"{r.max_ms:.2f}",
                "" if r.ratio_p95_to_floor is None else f"{r.ratio_p95_to_floor:.1f}",
                str(r.queries),
                str(r.status),
                str(r.bytes),
                "" if r.budget_ms is None else f"<{r.budget_ms:g}",
                "" if r.within_budget is None else ("PASS" if r.within_budget else "FAIL"),
            ]
        )
    return table(rows, right=range(2, 10))


def growth_table(results: list[Result], previous: dict[str, float], max_growth: float) -> list[str]:
    rows = [["target", "p95 ms", "before", "growth", f"limit {max_growth:g}"]]
    for r in results:
        if r.growth is None:
            continue
        rows.append(
            [
                r.name,
                f"{r.p95_ms:.2f}",
                f"{previous[r.name]:.2f}",
                f"{r.growth:.2f}",
                "PASS" if r.within_growth else "FAIL",
            ]
        )
    return table(rows, right=range(1, 4))
