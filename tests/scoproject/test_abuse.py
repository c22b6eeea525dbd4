"""Abuse limits: login lockout per username and per address (pages and the token endpoint),
write throttles shared by the API and the pages' forms, and request body-size limits."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.forms import PostForm
from annotations.models import Post, Thread
from annotations.services.threads import thread_create
from scoproject import settings as project_settings
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-test-password"
TOKEN_URL = "/api/v1/auth/token/"


def log_in(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def ask_for_token(username: str, password: str, address: str = "127.0.0.1"):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- login lockout -----------------------------------------------------------------------


@pytest.fixture
def member(db):
    return UserFactory(username="member")


def test_a_username_is_locked_after_its_failures_from_any_addresses(client, member, settings):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "member", "wrong", address=f"198.51.100.{n + 1}").status_code == 200

    last = log_in(client, "member", "wrong", address="198.51.100.50")
    right_password_elsewhere = log_in(client, "member", PASSWORD, address="192.0.2.200")

    for response in (last, right_password_elsewhere):
        assert response.status_code == 429
        assert "Logging in is paused" in response.content.decode()
    assert not signed_in(client)


def test_an_address_is_locked_after_its_failures_for_any_usernames(client, member, settings):
    limit = settings.AXES_ADDRESS_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT
    for n in range(limit):
        log_in(client, f"guess{n}", "password123", address="203.0.113.9")

    from_there = log_in(client, "member", PASSWORD, address="203.0.113.9")
    from_elsewhere = log_in(client, "member", PASSWORD, address="203.0.113.10")

    assert from_there.status_code == 429
    assert "Logging in is paused" in from_there.content.decode()
    assert from_elsewhere.status_code == 302
    assert signed_in(client)


def test_an_address_below_its_limit_still_logs_in_others(client, member, settings):
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 2):
        log_in(client, f"guess{n}", "password123", address="203.0.113.9")

    response = log_in(client, "member", PASSWORD, address="203.0.113.9")

    assert response.status_code == 302
    assert signed_in(client)


def test_the_address_limit_comes_from_the_settings(client, member, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 3
    for n in range(3):
        log_in(client, f"guess{n}", "password123", address="203.0.113.9")

    assert log_in(client, "member", PASSWORD, address="203.0.113.9").status_code == 429


def test_the_token_endpoint_counts_failures_and_says_when_logging_in_is_paused(member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        refused = ask_for_token("member", "wrong")
        assert refused.status_code == 400
        assert refused.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}

    locked = ask_for_token("member", "wrong")
    right_password = ask_for_token("member", PASSWORD, address="192.0.2.200")

    for response in (locked, right_password):
        assert response.status_code == 429
        assert response.json()["detail"].startswith("Logging in is paused")
        assert "15 minutes" in response.json()["detail"]
        assert response["Retry-After"] == "900"
    assert not Token.objects.filter(user=member).exists()


def test_page_and_token_failures_share_one_count(client, member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        ask_for_token("member", "wrong", address="198.51.100.1")

    page = log_in(client, "member", "wrong", address="198.51.100.2")
    token = ask_for_token("member", PASSWORD, address="198.51.100.3")

    assert page.status_code == 429
    assert token.status_code == 429


def test_the_token_endpoint_locks_an_address_too(member, settings):
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        ask_for_token(f"guess{n}", "password123", address="203.0.113.9")

    from_there = ask_for_token("member", PASSWORD, address="203.0.113.9")
    from_elsewhere = ask_for_token("member", PASSWORD, address="203.0.113.10")

    assert from_there.status_code == 429
    assert from_elsewhere.status_code == 200
    assert from_elsewhere.json()["token"] == Token.objects.get(user=member).key


def test_the_lockout_wears_off_after_the_cool_off(client, member, settings):
    with time_machine.travel(dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            log_in(client, "member", "wrong")
        assert log_in(client, "member", PASSWORD).status_code == 429

        traveller.shift(dt.timedelta(minutes=16))

        assert log_in(client, "member", PASSWORD).status_code == 302


# --- write throttles ---------------------------------------------------------------------


def write_budget() -> tuple[int, int]:
    """(writes allowed, seconds in the window) from the project's WRITE_RATE."""
    from django.conf import settings

    count, period = settings.WRITE_RATE.split("/")
    return int(count), {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[period]


def frozen():
    """The clock stopped now (sessions made a moment ago stay valid), to be moved by hand."""
    return time_machine.travel(dt.datetime.now(tz=dt.UTC), tick=False)


@pytest.fixture
def session_api(author) -> APIClient:
    api = APIClient()
    api.force_login(author)
    return api


@pytest.fixture
def token_api(author) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=author).key}")
    return api


def new_thread(course) -> dict:
    return {"course": course.pk, "title": "A question", "body": "Is the date right?"}


def spend(api: APIClient, count: int) -> None:
    # Refused as invalid, yet each one is a write and counts.
    for _ in range(count):
        assert api.post("/api/v1/threads/", {}).status_code == 400


def test_the_write_after_the_budget_is_refused_with_retry_after_until_the_window_passes(session_api, course):
    allowed, window = write_budget()
    with frozen() as traveller:
        spend(session_api, allowed)

        refused = session_api.post("/api/v1/threads/", new_thread(course))

        assert refused.status_code == 429
        assert refused["Retry-After"] == str(window)
        assert refused.json() == {
            "detail": f"Too many changes in a short time. Please wait {window} seconds and try again; nothing was saved."
        }
        assert not Thread.objects.filter(course=course).exists()

        traveller.shift(dt.timedelta(seconds=window + 1))
        accepted = session_api.post("/api/v1/threads/", new_thread(course))

    assert accepted.status_code == 201
    assert Thread.objects.get(course=course).title == "A question"


def test_token_and_session_writes_share_one_budget(session_api, token_api, course):
    allowed, _ = write_budget()
    with frozen():
        spend(token_api, allowed // 2)
        spend(session_api, allowed - allowed // 2)

        by_token = token_api.post("/api/v1/threads/", new_thread(course))
        by_session = session_api.post("/api/v1/threads/", new_thread(course))

    assert by_token.status_code == 429
    assert by_session.status_code == 429
    assert not Thread.objects.filter(course=course).exists()


def test_reads_are_not_throttled(session_api, course):
    allowed, _ = write_budget()
    with frozen():
        spend(session_api, allowed)
        reads = [session_api.get("/api/v1/threads/", {"course": course.pk}) for _ in range(allowed + 5)]

    assert {response.status_code for response in reads} == {200}
    assert reads[-1].json()["results"] == []


def test_each_user_has_a_budget_of_their_own(session_api, groupmate, course):
    allowed, _ = write_budget()
    other = APIClient()
    other.force_login(groupmate)
    with frozen():
        spend(session_api, allowed)
        response = other.post("/api/v1/threads/", new_thread(course))

    assert response.status_code == 201
    assert Thread.objects.get(course=course).author == groupmate


@pytest.fixture
def thread(course, author):
    return thread_create(user=author, course=course, title="Is the founding date right?", body="First.")


def test_form_posts_share_the_budget_and_get_a_page_with_retry_after(client, session_api, author, thread):
    allowed, window = write_budget()
    client.force_login(author)
    url = reverse("threads:post", args=[thread.course_id, thread.pk])
    with frozen() as traveller:
        spend(session_api, allowed - 1)
        last_allowed = client.post(url, {"body": "One more thought."})

        refused = client.post(url, {"body": "And another."})

        assert last_allowed.status_code == 302
        assert refused.status_code == 429
        assert refused["Retry-After"] == str(window)
        text = refused.content.decode()
        assert "Please slow down" in text
        assert f"Please wait {window} seconds and try again; nothing was saved." in text
        assert not Post.objects.filter(body="And another.").exists()
        # Reading the page is not a write.
        assert client.get(reverse("threads:detail", args=[thread.course_id, thread.pk])).status_code == 200

        traveller.shift(dt.timedelta(seconds=window + 1))
        again = client.post(url, {"body": "And another."})

    assert again.status_code == 302
    assert Post.objects.filter(thread=thread, body="And another.").exists()


def test_signed_out_form_posts_are_counted_per_address(client, member):
    allowed, _ = write_budget()
    with frozen():
        for _ in range(allowed):
            client.post(reverse("signup"), {}, REMOTE_ADDR="198.51.100.7")
        there = client.post(reverse("signup"), {}, REMOTE_ADDR="198.51.100.7")
        elsewhere = client.post(reverse("signup"), {}, REMOTE_ADDR="198.51.100.8")

    assert there.status_code == 429
    assert "Please slow down" in there.content.decode()
    assert elsewhere.status_code == 200


# --- body size ---------------------------------------------------------------------------


def oversized(settings) -> str:
    return "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)


def test_an_oversized_json_body_is_a_413_for_session_and_token_alike(
    session_api, token_api, course, settings
):
    body = json.dumps({**new_thread(course), "body": oversized(settings)})
    limit_kb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024

    for api in (session_api, token_api):
        response = api.post("/api/v1/threads/", body, content_type="application/json")
        assert response.status_code == 413
        assert response.json() == {
            "detail": f"The request is too large: at most {limit_kb} KB may be sent at once. "
            "Shorten the text or split it, then send it again; nothing was saved."
        }
    assert not Thread.objects.filter(course=course).exists()


def test_an_oversized_form_is_a_413_page(client, author, thread, settings):
    client.force_login(author)
    url = reverse("threads:post", args=[thread.course_id, thread.pk])
    body = f"body={oversized(settings)}"

    response = client.post(url, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    text = response.content.decode()
    assert "That was too much to send at once" in text
    assert "The request is too large" in text
    assert thread.posts.count() == 1


def test_an_oversized_field_in_a_multipart_form_is_a_413_page_too(client, author, thread, settings):
    # Multipart bodies pass the first check (files do not count); Django's parser refuses the field.
    client.force_login(author)
    url = reverse("threads:post", args=[thread.course_id, thread.pk])

    response = client.post(url, {"body": oversized(settings)})

    assert response.status_code == 413
    assert "The request is too large" in response.content.decode()
    assert thread.posts.count() == 1


def test_a_markdown_field_over_its_limit_says_so():
    form = PostForm(data={"body": "x" * 20001})

    assert not form.is_valid()
    assert form.errors["body"] == ["Ensure this value has at most 20000 characters (it has 20001)."]


def test_a_body_just_under_the_limit_is_read_as_usual(session_api, course):
    response = session_api.post(
        "/api/v1/threads/", {**new_thread(course), "body": "y" * 20000}, format="json"
    )

    assert response.status_code == 201
    assert Thread.objects.get(course=course).title == "A question"


# --- settings from the environment -------------------------------------------------------

LIMITS_SCRIPT = """
import json
from django.conf import settings
print(json.dumps([settings.AXES_FAILURE_LIMIT, settings.AXES_ADDRESS_FAILURE_LIMIT,
                  settings.WRITE_RATE, settings.DATA_UPLOAD_MAX_MEMORY_SIZE]))
"""


def test_the_limits_come_from_the_environment():
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
    }
    env = {
        **clean,
        "AXES_FAILURE_LIMIT": "7",
        "AXES_ADDRESS_FAILURE_LIMIT": "40",
        "WRITE_RATE": "10/hour",
        "MAX_REQUEST_BODY_BYTES": "65536",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", LIMITS_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [7, 40, "10/hour", 65536]


@pytest.mark.parametrize("raw", ["60", "60/fortnight", "0/minute", "many/minute"])
def test_a_rate_that_is_not_understood_stops_start_up(monkeypatch, raw):
    monkeypatch.setenv("WRITE_RATE", raw)

    with pytest.raises(ImproperlyConfigured, match=r"WRITE_RATE=.* is not a rate"):
        project_settings.env_rate("WRITE_RATE", default="60/minute")
