"""Every page and endpoint answers a GET in a number of queries that does not grow with the rows.

The test walks the project's URL configuration, builds a concrete URL for every pattern a
GET can reach from a table of example objects, and counts the queries of one GET with a
small course; then it adds several times more of everything (annotations of several
authors, groups and visibilities with tags and replies, challenges with sources and
responses, threads with posts and reactions, flags, notifications, students with grades
and extensions, link and event proposals) and counts again. The two counts must be equal:
a page that asks once per row (an N+1) fails here.

A new URL pattern without an entry in ``EXAMPLES`` fails ``test_every_get_url_has_an_example``,
so no endpoint escapes the bound.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations.models.courses import Role
from annotations.models.moderation import FlagReason
from annotations.services import annotations as annotation_services
from annotations.services import assignments as assignment_services
from annotations.services import challenges as challenge_services
from annotations.services import moderation as moderation_services
from annotations.services import threads as thread_services
from tests.factories import ActorFactory, CourseFactory, EventFactory, GroupFactory, MembershipFactory
from tests.urlwalk import (
    ANONYMOUS,
    EXAMPLES,
    INSTRUCTOR,
    STUDENT,
    World,
    add_coursework,
    add_work,
    build_world,
    get_routes,
    member,
)

# -- growing the world ----------------------------------------------------------------------


def _grow(world: World) -> None:
    """Several times more of everything, from more students in both groups and none."""
    newcomers = [
        member(world.course, f"bound_more_{i}", group=(world.group_a, world.group_b, None)[i % 3])
        for i in range(6)
    ]
    world.students += newcomers
    add_work(world, world.students, round_=1)
    add_work(world, newcomers, round_=2)
    add_coursework(world, world.students, round_=1)
    add_coursework(world, world.students, round_=2)
    # The example assignment too gets grades and extensions for every new student.
    for student in newcomers:
        assignment_services.grade_set(
            user=world.instructor, assignment=world.examples["assignment"], student=student, score="5"
        )
        assignment_services.extension_grant(
            user=world.instructor,
            assignment=world.examples["assignment"],
            student=student,
            due_at=timezone.now() + dt.timedelta(days=40),
        )
    # More on the example objects themselves: replies, responses, posts, reactions and flags.
    examples = world.examples
    for student in newcomers:
        annotation_services.reply_create(user=student, annotation=examples["annotation"], body="Me too.")
        thread_services.reaction_toggle(user=student, annotation=examples["annotation"])
        challenge_services.challenge_respond(user=student, challenge=examples["challenge"], body="Agreed.")
        reply = thread_services.post_create(
            user=student, thread=examples["thread"], body="And so?", parent=examples["post"]
        )
        thread_services.post_create(user=world.student, thread=examples["thread"], body="So.", parent=reply)
        thread_services.reaction_toggle(user=student, post=examples["post"])
        thread_services.reaction_toggle(user=student, post=reply)
        moderation_services.flag_create(user=student, target=examples["annotation"], reason=FlagReason.SPAM)
    # A third group, curated records, and the student in a second course.
    GroupFactory(course=world.course, name="Group C")
    for _ in range(5):
        EventFactory()
    for _ in range(3):
        ActorFactory()
    other = CourseFactory(title="Elsewhere", reading=world.paper)
    MembershipFactory(course=other, user=world.student, group=GroupFactory(course=other))
    MembershipFactory(course=other, user=world.instructor, role=Role.INSTRUCTOR)
    member(other, "bound_elsewhere")


# Known differences between the two counts, each with its reason. Never a per-row allowance.
TOLERANCE: dict[str, int] = {}

# Course pages a student and staff both open, where staff see more (every group's work,
# the controls to moderate, resolve and grade): counted for the instructor too.
STAFF_TOO = (
    "annotate:paragraph-notes",
    "annotate:reading",
    "annotations:course-sources",
    "api:annotation-list",
    "api:challenge-list",
    "api:course-annotation-collection",
    "api:event-proposal-list",
    "api:link-list",
    "api:notification-list",
    "api:post-list",
    "api:thread-list",
    "assignments:detail",
    "assignments:list",
    "challenges:claim",
    "challenges:claims",
    "courses:detail",
    "links:claim",
    "links:course-timeline",
    "notifications:list",
    "threads:detail",
    "threads:list",
)

ROUTES = get_routes()
# (route name, who asks): ``None`` for the example's own user.
CASES = [(route.name, None) for route in ROUTES if route.name in EXAMPLES] + [
    (name, INSTRUCTOR) for name in STAFF_TOO
]


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Measure:
    url: str = ""
    user: str = ""
    status: int = 0
    queries: int = 0
    size: int = 0
    error: str = ""


def _user(world: World, who: str):
    """The user called ``who``; ``None`` for the anonymous visitor."""
    return {
        ANONYMOUS: None,
        STUDENT: world.student,
        INSTRUCTOR: world.instructor,
        "groupmate": world.groupmate,
    }[who]


def _count(client: Client, url: str) -> tuple[int, int, int]:
    """(status, queries, size of the body) of a GET of ``url`` after one warm-up GET: the warm-up takes the
    one-off writes (a first visit recorded, a notification marked read) out of the count."""
    client.get(url)
    with contextlib.ExitStack() as stack:
        contexts = [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections]
        response = client.get(url)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, sum(len(context.captured_queries) for context in contexts), len(content)


def _measure(world: World, route_name: str, *, who: str | None = None) -> Measure:
    example = EXAMPLES[route_name]
    url = reverse(route_name, kwargs=example.kwargs(world)) + example.query.format(course=world.course.pk)
    tried = (
        [who] if who else [example.user] + ([INSTRUCTOR] if example.user in (STUDENT, "groupmate") else [])
    )
    measure = Measure(url=url)
    for candidate in tried:
        client = Client()
        user = _user(world, candidate)
        if user is not None:
            client.force_login(user)
        measure.user = candidate
        measure.status, measure.queries, measure.size = _count(client, url)
        if measure.status not in (403, 404):
            break
    return measure


@pytest.fixture(scope="module")
def bounds(django_db_setup, django_db_blocker) -> Iterator[tuple[World, dict[str, Measure]]]:
    """The small counts of every route, then the world grown; rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
            small: dict[tuple[str, str | None], Measure] = {}
            for case in CASES:
                try:
                    small[case] = _measure(world, case[0], who=case[1])
                except Exception as error:  # reported by that case's own test
                    small[case] = Measure(error=f"{type(error).__name__}: {error}")
            _grow(world)
            yield world, small
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_every_get_url_has_an_example():
    missing = [route.name for route in ROUTES if route.name not in EXAMPLES]
    assert not missing, "\n".join(f"add an example for {name}" for name in missing)


def test_the_examples_name_only_existing_urls():
    names = {route.name for route in ROUTES}
    assert not set(EXAMPLES) - names, sorted(set(EXAMPLES) - names)


def test_staff_too_names_known_examples():
    assert set(STAFF_TOO) <= set(EXAMPLES)


@pytest.mark.parametrize(
    ("name", "who"), CASES, ids=[name if who is None else f"{name}[{who}]" for name, who in CASES]
)
def test_the_queries_of_a_get_do_not_grow_with_the_rows(name: str, who: str | None, bounds, db):
    world, small = bounds
    before = small[(name, who)]
    assert not before.error, before.error
    example = EXAMPLES[name]
    assert before.status == example.status, (before.url, before.user, before.status)

    after = _measure(world, name, who=before.user)

    assert after.status == example.status, (after.url, after.user, after.status)
    allowed = TOLERANCE.get(name, 0)
    assert before.queries <= after.queries <= before.queries + allowed, (
        f"{after.url} as {after.user}: {before.queries} queries with the small course, "
        f"{after.queries} with more rows (the body grew from {before.size} to {after.size} bytes)"
    )
