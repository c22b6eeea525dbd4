"""The load run: gunicorn serving the test database, wrk loading it from a second process.

PostgreSQL only (the app servers must share the test database, which SQLite keeps in
memory); under CI a missing wrk fails rather than skips.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import CommandError, call_command
from django.db import connection

from annotations.models.courses import Role
from annotations.services import reading_load
from tests.factories import CourseFactory, MembershipFactory, UserFactory


@pytest.fixture
def wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        message = "wrk is not installed (apt-get install wrk), so the load run cannot be checked."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def reader(settings):
    """A student of a course on the paper, with a password the app servers can check."""
    reading_load(path=settings.DEFAULT_READING_DIR)
    course = CourseFactory()
    hasher = PBKDF2PasswordHasher()
    student = UserFactory(username="load_reader")
    student.password = hasher.encode("a-long-password-1", hasher.salt(), iterations=1000)
    student.save()
    MembershipFactory(course=course, user=student, role=Role.STUDENT)
    return student, course


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="The app servers share a PostgreSQL database; this run is on SQLite.",
)
@pytest.mark.django_db(transaction=True)
def test_it_loads_both_targets_and_reports_throughput_errors_and_memory(wrk, reader, tmp_path, capsys):
    student, course = reader
    out = tmp_path / "load.json"

    call_command(
        "load_run",
        workers=1,
        requests=30,
        # Rounds long enough that even a busy machine answers some requests in each.
        round_seconds=3,
        connections=2,
        threads=1,
        username=student.username,
        password="a-long-password-1",
        json=out,
    )

    report = json.loads(out.read_text())
    assert report["workers"] == 1
    by_target = {target["target"]: target for target in report["targets"]}
    assert set(by_target) == {"claims API", "reading view"}
    assert by_target["reading view"]["path"] == f"/courses/{course.pk}/read/"
    for target in by_target.values():
        assert target["requests"] >= 30
        assert target["not_200"] == target["socket_errors"] == 0
        assert target["requests_per_second"] > 0
        rounds = len(target["worker_rss_mib_after_each_round"])
        assert rounds >= 2  # before the first round, then after each
        assert all(mib > 0 for mib in target["worker_rss_mib_after_each_round"])
    printed = capsys.readouterr().out
    assert "claims API" in printed
    assert "reading view" in printed


@pytest.mark.django_db
def test_it_needs_postgresql_and_a_student(wrk):
    if connection.vendor == "postgresql":
        with pytest.raises(CommandError, match="No student is called 'nobody'"):
            call_command("load_run", username="nobody")
    else:
        with pytest.raises(CommandError, match="A load run needs PostgreSQL"):
            call_command("load_run")
