"""The database goes away: every page and endpoint answers a 503 that says to retry, never a
500 or a traceback, and the site recovers by itself once the database is back.

The in-process checks run on both databases, with the database's failure stood in for. The
real thing runs on PostgreSQL only: a private PostgreSQL server of the test's own, gunicorn
serving the project from it, the server stopped and started again under the same workers.

And a write that fails midway, whatever the cause, leaves none of its rows behind.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.management import CommandError, call_command
from django.db import InterfaceError, OperationalError, connection, connections
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.management.commands import fault_check
from annotations.management.commands.fault_check import is_helpful_503, leaks_a_traceback
from annotations.models import Assignment, Claim, Grade, Notification, Post, Source, Thread
from annotations.models.challenges import Challenge, ChallengeSource
from annotations.models.moderation import AuditEntry, Flag, ModerationItem
from annotations.services import assignments as assignment_services
from annotations.services import moderation as moderation_services
from annotations.services import threads as thread_services
from scoproject import settings as project_settings
from scoproject.appserver import AppServer, database_url
from scoproject.middleware import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, DatabaseUnavailableMiddleware
from tests.factories import GroupFactory

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
PAGE, ENDPOINT = "/claims/", "/api/v1/claims/"
TRACEBACK = "Traceback (most recent call last)"
REFUSED = OperationalError("connection refused")


def database_refuses(error: Exception = REFUSED):
    """Every new query fails as when the server has gone: the connection cannot be had."""
    return mock.patch.object(type(connections["default"]), "ensure_connection", side_effect=error)


# In process, on both databases ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("could not connect to server: Connection refused"),
        InterfaceError("connection already closed"),
        # The driver's own error, where one escapes Django's wrapping.
        connections["default"].Database.OperationalError("server closed the connection unexpectedly"),
    ],
    ids=["refused", "dropped", "driver"],
)
def test_a_page_answers_a_503_page_that_says_to_retry(error):
    with database_refuses(error):
        response = Client().get(PAGE)

    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"].startswith("text/html")
    assert DATABASE_UNAVAILABLE in page
    assert "Back in a minute" in page
    assert f'href="{PAGE}"' in page
    assert TRACEBACK not in page
    assert str(error) not in page


@pytest.mark.django_db
def test_an_api_endpoint_answers_a_503_with_a_detail():
    with database_refuses():
        response = Client().get(ENDPOINT)

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}


@pytest.mark.django_db
def test_a_write_refused_by_the_database_is_a_503_too(author, course, paper):
    client = Client()
    client.force_login(author)
    paragraph = paper.paragraphs.get(order=1)

    with database_refuses():
        response = client.post(
            "/api/v1/annotations/",
            {"course": course.pk, "paragraph": paragraph.pk, "start": 0, "end": 5, "body": "Lost?"},
            content_type="application/json",
        )

    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    assert not author.annotations.exists()


@pytest.mark.django_db
def test_the_security_headers_are_kept_on_the_503():
    with database_refuses():
        response = Client().get(PAGE)

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_database_error_raised_outside_the_view_is_a_503_as_well():
    # Saving the session runs after the view, in a middleware: Django has already made its
    # 500 page by the time the error reaches the outer middleware.
    with mock.patch.object(SessionMiddleware, "process_response", side_effect=OperationalError("gone")):
        response = Client(raise_request_exception=False).get(PAGE)

    assert response.status_code == 503
    assert DATABASE_UNAVAILABLE in response.content.decode()


@pytest.mark.django_db
def test_other_errors_are_left_to_the_500_page():
    with mock.patch.object(SessionMiddleware, "process_response", side_effect=RuntimeError("a bug")):
        response = Client(raise_request_exception=False).get(PAGE)

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_with_debug_on_the_error_is_left_to_the_debug_page(settings):
    settings.DEBUG = True
    middleware = DatabaseUnavailableMiddleware(lambda request: None)

    assert middleware.process_exception(RequestFactory().get(PAGE), OperationalError("gone")) is None


def test_a_postgres_connection_gives_up_within_seconds_unless_the_url_says_otherwise(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@10.0.0.9:5432/sco")
    assert project_settings.env_database("DATABASE_URL", default="")["OPTIONS"]["connect_timeout"] == 5

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@10.0.0.9:5432/sco?connect_timeout=2")
    assert project_settings.env_database("DATABASE_URL", default="")["OPTIONS"]["connect_timeout"] == 2


# For real: a private PostgreSQL stopped and started under gunicorn ---------------------------------


@pytest.fixture
def private_postgres_possible(django_db_setup) -> None:
    """Skips unless this run is on PostgreSQL and its server programs are installed."""
    if not ON_POSTGRES:
        pytest.skip("The database is stopped for real only on PostgreSQL; this run is on SQLite.")
    try:
        fault_check.postgres_bin_dir()
    except CommandError as missing:
        pytest.skip(str(missing))


@pytest.fixture
def private_site(private_postgres_possible) -> Iterator[tuple[fault_check.PrivatePostgres, AppServer]]:
    """gunicorn (two workers, DEBUG off) serving the project from a private PostgreSQL server
    that has the test database's schema."""
    with fault_check.served_from_private_postgres(
        workers=2, schema_from=database_url(connection.settings_dict)
    ) as site:
        yield site


def test_gunicorn_answers_503_while_postgres_is_stopped_and_200_again_once_it_is_back(private_site):
    postgres, server = private_site
    paths = [PAGE, ENDPOINT] * 3  # enough to reach both workers
    assert [server.request("GET", path).status for path in paths] == [200] * len(paths)
    assert json.loads(server.request("GET", ENDPOINT).body)["results"] == []
    processes = server.worker_pids()

    postgres.stop()
    page, endpoint = server.request("GET", PAGE), server.request("GET", ENDPOINT)
    others = [server.request("GET", path) for path in paths]

    assert (page.status, page.retry_after) == (503, str(RETRY_AFTER_SECONDS))
    assert DATABASE_UNAVAILABLE in page.body
    assert "Back in a minute" in page.body
    assert (endpoint.status, endpoint.retry_after) == (503, str(RETRY_AFTER_SECONDS))
    assert json.loads(endpoint.body) == {"detail": DATABASE_UNAVAILABLE}
    assert all(is_helpful_503(answer) for answer in [page, endpoint, *others])
    assert not any(leaks_a_traceback(answer) for answer in [page, endpoint, *others])

    postgres.start()
    back = [server.request("GET", path) for path in paths]

    assert [answer.status for answer in back] == [200] * len(paths)
    assert "Claims" in back[0].body
    assert json.loads(back[1].body)["results"] == []
    assert server.worker_pids() == processes

    # Away and back between two requests: the workers' kept connections are dead, and the
    # health check at their next use replaces them before any query fails.
    postgres.stop()
    postgres.start()
    again = [server.request("GET", path) for path in paths]

    assert [answer.status for answer in again] == [200] * len(paths)
    assert server.worker_pids() == processes


def test_the_fault_check_command_counts_no_answer_but_200_and_503(private_postgres_possible, capsys):
    call_command(
        "fault_check",
        clients=6,
        up=1,
        down=2,
        after=3,
        schema_from=database_url(connection.settings_dict),
        verbosity=0,
    )

    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.split()[:1]}
    assert rows["phase"] == ["200", "503", "other"]
    up, down, back, total = (list(map(int, rows[name])) for name in ("up", "down", "back", "total"))
    assert up[0] > 0
    assert down[1] > 0
    assert back[0] > 0
    assert total[2] == 0
    assert "the same throughout" in out
    assert "ok: every answer was a 200 or a 503 that says to retry" in out


# A write that fails midway leaves nothing behind ----------------------------------------------
#
# Each write service is one transaction: a failure after its first rows are written (here
# stood in for by a later step that raises) takes those rows back with it. Requests are not
# wrapped in a transaction of their own (no ATOMIC_REQUESTS): the services' transactions,
# and the e-mails they send on commit, are the unit.

DROPPED = OperationalError("server closed the connection unexpectedly")


def api_client(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def rows_written() -> dict[str, int]:
    """How many rows the writes below could leave, table by table."""
    return {
        model.__name__: model.objects.count()
        for model in (
            Challenge, ChallengeSource, Post, Post.mentions.through, Notification, Grade, AuditEntry,
            Assignment, Assignment.sections.through, Assignment.claims.through, Flag, Thread,
        )
    }  # fmt: skip


@pytest.mark.django_db
def test_a_challenge_that_fails_after_its_first_citation_leaves_no_challenge_and_no_citation(
    course, author, paper
):
    claim = Claim.objects.filter(paragraph__document=paper).order_by("key").first()
    sources = list(Source.objects.filter(course__isnull=True).order_by("key")[:3])
    before = rows_written()

    def first_citation_then_drop(cited, *args, **kwargs):
        cited[0].save()
        assert ChallengeSource.objects.filter(challenge=cited[0].challenge).count() == 1
        raise DROPPED

    with mock.patch.object(ChallengeSource.objects, "bulk_create", side_effect=first_citation_then_drop):
        response = api_client(author).post(
            "/api/v1/challenges/",
            {
                "course": course.pk,
                "claim": claim.key,
                "stance": "disputes",
                "argument": "Three sources say otherwise.",
                "citations": [{"source": source.key, "page": str(n)} for n, source in enumerate(sources)],
            },
            format="json",
        )

    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    assert rows_written() == before
    assert not Challenge.objects.filter(author=author).exists()


@pytest.mark.django_db
def test_a_post_whose_second_mention_cannot_be_notified_leaves_no_post_mention_or_notification(
    course, author, groupmate, other_group_student
):
    thread = thread_services.thread_create(user=author, course=course, title="Dates", body="Which date?")
    moved_at = Thread.objects.get(pk=thread.pk).last_post_at
    before = rows_written()
    calls = []

    def notify_once_then_fail(**kwargs):
        calls.append(kwargs["recipient"].username)
        if len(calls) == 2:
            raise RuntimeError("the mail queue refused")
        return real_notify(**kwargs)

    real_notify = thread_services.notify
    with mock.patch("annotations.services.threads.notify", side_effect=notify_once_then_fail):
        response = api_client(author).post(
            "/api/v1/posts/",
            {"thread": thread.pk, "body": "@groupmate and @other_group_student, see the 2001 charter."},
            format="json",
        )

    assert response.status_code == 500
    assert sorted(calls) == ["groupmate", "other_group_student"]
    assert rows_written() == before
    assert list(thread.posts.values_list("body", flat=True)) == ["Which date?"]
    assert Thread.objects.get(pk=thread.pk).last_post_at == moved_at


@pytest.mark.django_db
def test_a_grade_whose_audit_entry_cannot_be_written_is_not_saved(assignment, ta, author):
    url = f"/api/v1/assignments/{assignment.pk}/grades/{author.pk}/"
    before = rows_written()

    with mock.patch("annotations.services.assignments.audit", side_effect=DROPPED):
        first = api_client(ta).put(url, {"score": "7", "feedback": "Good.", "version": 0}, format="json")

    assert first.status_code == 503
    assert rows_written() == before
    assert not Grade.objects.filter(assignment=assignment, student=author).exists()

    # A grade already there keeps its score and its version.
    assignment_services.grade_set(
        user=ta, assignment=assignment, student=author, score="6", expected_version=0
    )
    with mock.patch("annotations.services.assignments.audit", side_effect=DROPPED):
        second = api_client(ta).put(url, {"score": "9", "feedback": "Better.", "version": 1}, format="json")

    assert second.status_code == 503
    grade = Grade.objects.get(assignment=assignment, student=author)
    assert (str(grade.score), grade.feedback, grade.version) == ("6.00", "", 1)
    assert AuditEntry.objects.filter(action="grading.grade").count() == 1


@pytest.mark.django_db
def test_a_bulk_moderation_act_that_fails_on_an_item_leaves_that_item_as_it_was(
    course, author, groupmate, ta
):
    thread = thread_services.thread_create(user=author, course=course, title="Spam?", body="First.")
    posts = [thread.posts.get()] + [
        thread_services.post_create(user=author, thread=thread, body=f"Post {n}.") for n in (2, 3)
    ]
    items = []
    for post in posts:
        moderation_services.flag_create(user=groupmate, target=post, reason="spam")
        items.append(ModerationItem.objects.get(post=post))
    real_audit = moderation_services.audit
    calls = []

    def audit_once_then_fail(**kwargs):
        calls.append(kwargs["target_id"])
        if len(calls) == 2:
            raise DROPPED
        return real_audit(**kwargs)

    with mock.patch("annotations.services.moderation.audit", side_effect=audit_once_then_fail):
        response = api_client(ta).post(
            "/api/v1/moderation/act/",
            {"action": "hide", "reason": "Spam.", "items": [{"id": item.pk, "version": 1} for item in items]},
            format="json",
        )

    assert response.status_code == 503
    # Each item is its own transaction: the first is done whole, the second not at all, and
    # the third was never reached.
    states = [
        (
            Post.objects.get(pk=post.pk).moderation,
            ModerationItem.objects.get(pk=item.pk).version,
            ModerationItem.objects.get(pk=item.pk).flag_count,
            list(Flag.objects.filter(item=item).values_list("status", flat=True)),
        )
        for post, item in zip(posts, items, strict=True)
    ]
    assert states == [
        ("hidden", 2, 0, ["upheld"]),
        ("published", 1, 1, ["open"]),
        ("published", 1, 1, ["open"]),
    ]
    assert list(AuditEntry.objects.filter(action="moderation.hide").values_list("target_id", flat=True)) == [
        str(posts[0].pk)
    ]
    # The author and the flagger hear of the first act only.
    told = Notification.objects.filter(kind="moderation").order_by("recipient__username")
    assert [(n.recipient.username, n.url.endswith(f"#post-{posts[0].pk}")) for n in told] == [
        ("author", True),
        ("groupmate", True),
    ]


@pytest.mark.django_db
def test_an_assignment_that_fails_after_its_scope_is_set_leaves_no_assignment(course, instructor, paper):
    before = rows_written()
    sections = list(paper.sections.order_by("order")[:2])
    claims = list(Claim.objects.filter(paragraph__document=paper).order_by("key")[:2])

    with (
        mock.patch("annotations.services.assignments.anonymity_refresh", side_effect=DROPPED),
        pytest.raises(OperationalError),
    ):
        assignment_services.assignment_create(
            user=instructor,
            course=course,
            title="Week 3",
            opens_at=timezone.now(),
            due_at=timezone.now() + dt.timedelta(days=7),
            sections=sections,
            claims=claims,
            required_annotations=2,
        )

    assert rows_written() == before
    assert not course.assignments.filter(title="Week 3").exists()


@pytest.mark.django_db
def test_a_thread_change_refused_midway_changes_nothing(course, author, instructor, other_course):
    thread = thread_services.thread_create(user=author, course=course, title="Pin me", body="First.")
    elsewhere = GroupFactory(course=other_course)

    response = api_client(instructor).patch(
        f"/api/v1/threads/{thread.pk}/",
        {"pinned": True, "locked": True, "group": elsewhere.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "group" in response.json()
    thread.refresh_from_db()
    assert (thread.pinned, thread.locked, thread.group_id) == (False, False, None)
