"""Shared fixtures.

The paper is loaded once per test session, through the real loader, into the test
database; every test then runs inside a transaction that is rolled back, so tests
see the paper's records and may change them freely.

Users and their rights. ``course`` is a course on the paper with groups A and B; ``other_course`` another.
- ``anonymous``: no user; reads the paper, its claims, the timeline, actors and sources; no student work.
- ``reader`` (alias ``outsider``): signed in, in no course; sees what anonymous sees.
- ``author``: a student of ``course`` in group A; writes the annotations under test.
- ``groupmate``: a student of ``course`` in group A; sees the author's group and course work.
- ``other_group_student``: a student of ``course`` in group B; sees the author's course work only.
- ``ungrouped_student``: a student of ``course`` in no group; sees course work only.
- ``other_course_student``: a student of ``other_course``; sees nothing of ``course``.
- ``ta``: TA of ``course``; sees all shared (group and course) work there, never private.
- ``instructor``: instructor of ``course``; as the TA, and manages codes, members and groups.
- ``other_instructor``: instructor of ``other_course``; sees nothing of ``course``.
- ``curator``: site staff (superuser); curates the records, sees every course's shared work.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from annotations.models import Document
from annotations.models.courses import Role
from annotations.services import reading_load
from tests.factories import AssignmentFactory, CourseFactory, GroupFactory, MembershipFactory, UserFactory

PAPER_TXT = Path(settings.BASE_DIR).parent / "shared" / "paper" / "paper.txt"
PAPER_SLUG = "sco-institutionalization"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        reading_load(path=settings.DEFAULT_READING_DIR)


def pytest_collection_modifyitems(items):
    # With DATABASE_REPLICA_URL set, reads outside a transaction go to the "replica" alias
    # (a mirror of the test database). Tests that commit for real may then query it too.
    if "replica" not in settings.DATABASES:
        return
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("databases"):
            item.add_marker(pytest.mark.django_db(**marker.kwargs, databases=["default", "replica"]))


@pytest.fixture(autouse=True)
def isolated_cache() -> None:
    """Each test starts with an empty cache: login-failure counts and throttles do not carry over.

    With ``REDIS_URL`` set only this run's keys (under ``REDIS_KEY_PREFIX``) are removed,
    never the rest of a shared Redis.
    """
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def fresh_process_memos() -> None:
    """What a process keeps by a reading's stamp (its structure, assignments' scopes) starts
    empty in each test: SQLite may give a rolled-back test's ids to the next test's rows."""
    from annotations import grading, selectors

    selectors._READING_STRUCTURES.clear()
    grading._SCOPE_IDS.clear()
    grading._COUNT_SQL.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Hashing strength is Django's concern, not these tests'; MD5 keeps them quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def paper(db) -> Document:
    """The paper's document, as loaded for the session."""
    return Document.objects.get(slug=PAPER_SLUG)


@pytest.fixture
def paper_txt() -> str:
    """The paper as published; only the tests read it, the project never does."""
    if not PAPER_TXT.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{PAPER_TXT} is missing: CI must have shared/ beside the checkout.")
        pytest.skip(f"{PAPER_TXT} is not beside this checkout")
    return PAPER_TXT.read_text(encoding="utf-8")


@pytest.fixture
def reader(db):
    return UserFactory(username="reader")


@pytest.fixture
def curator(db):
    return UserFactory(username="curator", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(reader):
    return reader


@pytest.fixture
def course(paper):
    return CourseFactory(title="SCO Seminar", reading=paper)


@pytest.fixture
def group_a(course):
    return GroupFactory(course=course, name="Group A")


@pytest.fixture
def group_b(course):
    return GroupFactory(course=course, name="Group B")


@pytest.fixture
def other_course(paper):
    return CourseFactory(title="Another seminar", reading=paper)


def _member(course, username, role=Role.STUDENT, group=None):
    return MembershipFactory(course=course, user=UserFactory(username=username), role=role, group=group).user


@pytest.fixture
def author(course, group_a):
    return _member(course, "author", group=group_a)


@pytest.fixture
def groupmate(course, group_a):
    return _member(course, "groupmate", group=group_a)


@pytest.fixture
def other_group_student(course, group_b):
    return _member(course, "other_group_student", group=group_b)


@pytest.fixture
def ungrouped_student(course):
    return _member(course, "ungrouped_student")


@pytest.fixture
def other_course_student(other_course):
    return _member(other_course, "other_course_student")


@pytest.fixture
def ta(course):
    return _member(course, "ta", role=Role.TA)


@pytest.fixture
def instructor(course):
    return _member(course, "instructor", role=Role.INSTRUCTOR)


@pytest.fixture
def other_instructor(other_course):
    return _member(other_course, "other_instructor", role=Role.INSTRUCTOR)


@pytest.fixture
def assignment(course, instructor):
    """An assignment of ``course`` (whole reading, open, due in a week, two days' late
    window) asking for two annotations and one challenge; set by the instructor."""
    return AssignmentFactory(course=course, created_by=instructor)
