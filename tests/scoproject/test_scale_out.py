"""Stateless app servers: Redis for cache, sessions and login throttling; a read-replica router.

The Redis checks run two separate Django processes against the Redis on 127.0.0.1:6379,
as two app servers behind a load balancer would: what one writes, the other must see.
Locally they are skipped when that Redis does not answer; under CI (``CI`` set) they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import transaction
from rest_framework.authtoken.models import Token

from scoproject.appserver import (
    CSRF_FIELD,
    Answer,
    AppServer,
    collect_static,
    database_url,
    production_env,
)
from scoproject.routers import ReplicaRouter

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"

router = ReplicaRouter()
User = get_user_model()


# The router -------------------------------------------------------------------------


def test_a_read_outside_a_transaction_goes_to_the_replica():
    assert router.db_for_read(User) == "replica"


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_goes_to_the_primary():
    with transaction.atomic():
        assert router.db_for_read(User) == "default"

    assert router.db_for_read(User) == "replica"


@pytest.mark.django_db(transaction=True)
def test_writes_always_go_to_the_primary():
    assert router.db_for_write(User) == "default"
    with transaction.atomic():
        assert router.db_for_write(User) == "default"


def test_objects_from_either_alias_may_be_related():
    read_from_replica, written_to_primary = User(), User()
    read_from_replica._state.db = "replica"
    written_to_primary._state.db = "default"
    elsewhere = User()
    elsewhere._state.db = "archive"

    assert router.allow_relation(read_from_replica, written_to_primary) is True
    assert router.allow_relation(read_from_replica, elsewhere) is None


def test_migrations_run_only_on_the_primary():
    assert router.allow_migrate("default", "auth") is True
    assert router.allow_migrate("replica", "auth") is False


# Settings, read in a fresh process ----------------------------------------------------

SETTINGS_PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "cache": settings.CACHES["default"],
    "session_engine": settings.SESSION_ENGINE,
    "axes_handler": getattr(settings, "AXES_HANDLER", None),
    "databases": sorted(settings.DATABASES),
    "replica": settings.DATABASES.get("replica"),
    "routers": settings.DATABASE_ROUTERS,
}, default=str))
"""


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new process with the project's settings and ``env`` added."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "REDIS_URL", "REDIS_KEY_PREFIX", "DATABASE_REPLICA_URL"}
    }
    script = "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'scoproject.settings')\ndjango.setup()\n"
    return subprocess.run(
        [sys.executable, "-c", script + textwrap.dedent(code)],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_settings(**env: str) -> dict:
    result = run_django(SETTINGS_PROBE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_redis_the_cache_is_local_and_sessions_are_in_the_database():
    found = read_settings()

    assert found["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["session_engine"] == "django.contrib.sessions.backends.db"
    # Login failures in the database (axes' database handler, with a limit per username and per address).
    assert found["axes_handler"] == "scoproject.throttling.LockoutDatabaseHandler"


def test_with_redis_the_cache_sessions_and_login_throttle_are_shared():
    found = read_settings(REDIS_URL=REDIS_URL)

    assert found["cache"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sco",
    }
    assert found["session_engine"] == "django.contrib.sessions.backends.cached_db"
    assert found["axes_handler"] == "scoproject.throttling.LockoutCacheHandler"


@pytest.mark.parametrize("raw", ["http://127.0.0.1:6379/0", "127.0.0.1:6379", "redis://"])
def test_a_bad_redis_url_stops_start_up_and_names_it(raw):
    result = run_django(SETTINGS_PROBE, REDIS_URL=raw)

    assert result.returncode != 0
    assert f"REDIS_URL={raw!r} is not a Redis URL" in result.stderr


def test_a_replica_url_adds_the_alias_and_the_router():
    found = read_settings(DATABASE_REPLICA_URL="postgres://reader@10.0.0.2:5432/sco")

    assert found["databases"] == ["default", "replica"]
    assert found["replica"]["ENGINE"] == "django.db.backends.postgresql"
    assert found["replica"]["HOST"] == "10.0.0.2"
    assert found["replica"]["TEST"]["MIRROR"] == "default"
    assert found["routers"] == ["scoproject.routers.ReplicaRouter"]


def test_without_a_replica_url_there_is_no_router():
    found = read_settings()

    assert found["databases"] == ["default"]
    assert found["routers"] == []


def test_a_bad_replica_url_stops_start_up_and_names_it():
    result = run_django(SETTINGS_PROBE, DATABASE_REPLICA_URL="mysql://x@y/z")

    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL='mysql://x@y/z': only sqlite:// and postgres://" in result.stderr


def test_reads_and_writes_reach_the_right_alias_on_one_server(tmp_path):
    # A second alias on the same database, as the tests do for a replica: what the router
    # picks is seen in which connection runs each query.
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = run_django(
        """
        import json
        from django.core.management import call_command
        from django.contrib.sessions.models import Session
        from django.db import connections, transaction
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        call_command("migrate", "sessions", verbosity=0)
        primary, replica = connections["default"], connections["replica"]
        seen = {}

        def verbs(captured):
            return [query["sql"].split()[0] for query in captured.captured_queries]

        with CaptureQueriesContext(primary) as on_primary, CaptureQueriesContext(replica) as on_replica:
            Session.objects.create(session_key="k", session_data="d", expire_date=timezone.now())
        seen["write"] = [verbs(on_primary), verbs(on_replica)]
        with CaptureQueriesContext(primary) as on_primary, CaptureQueriesContext(replica) as on_replica:
            found = Session.objects.filter(session_key="k").exists()
        seen["read"] = [verbs(on_primary), verbs(on_replica), found]
        with CaptureQueriesContext(primary) as on_primary, CaptureQueriesContext(replica) as on_replica:
            with transaction.atomic():
                list(Session.objects.select_for_update().filter(session_key="k"))
                Session.objects.filter(session_key="k").exists()
        seen["in_transaction"] = [verbs(on_primary), verbs(on_replica)]
        print(json.dumps(seen))
        """,
        DATABASE_URL=database,
        DATABASE_REPLICA_URL=database,
    )

    assert result.returncode == 0, result.stderr
    # For each step: [statements run on default], [statements run on replica].
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["write"] == [["INSERT"], []]
    assert seen["read"] == [[], ["SELECT"], True]
    assert [verb for verb in seen["in_transaction"][0] if verb == "SELECT"] == ["SELECT", "SELECT"]
    assert seen["in_transaction"][1] == []


# Two app servers, one Redis -----------------------------------------------------------


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    client = redis_client()
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        message = "Redis does not answer on 127.0.0.1:6379, so the shared-state checks cannot run."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    prefix = f"sco-test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    assert not list(client.scan_iter(match=f"{prefix}:*"))
    client.close()


def app_server(*code: str, prefix: str) -> str:
    """Run ``code`` as one app server sharing Redis under ``prefix``; return its last output line."""
    source = "\n".join(textwrap.dedent(part) for part in code)
    # An empty in-memory database: whatever is shared must come through Redis.
    result = run_django(source, REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=prefix, DATABASE_URL="sqlite://")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_two_app_servers_serve_one_session(redis_prefix):
    session_key = app_server(
        """
        from importlib import import_module
        from django.conf import settings
        from django.core.management import call_command
        call_command("migrate", "sessions", verbosity=0)  # this server's own, empty database
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session["reading"] = "sco-paper"
        session["_auth_user_id"] = "42"
        session.save()
        print(session.session_key)
        """,
        prefix=redis_prefix,
    )

    loaded = app_server(
        f"""
        import json
        from importlib import import_module
        from django.conf import settings
        from django.core.management import call_command
        call_command("migrate", "sessions", verbosity=0)  # empty: the session can only come from Redis
        session = import_module(settings.SESSION_ENGINE).SessionStore({session_key!r})
        print(json.dumps({{"exists": session.exists({session_key!r}), "data": dict(session.items())}}))
        """,
        prefix=redis_prefix,
    )

    assert json.loads(loaded) == {
        "exists": True,
        "data": {"reading": "sco-paper", "_auth_user_id": "42"},
    }
    # Stored in Redis itself, under this run's prefix (Django's key: prefix, version, key).
    assert redis_client().exists(f"{redis_prefix}:1:django.contrib.sessions.cached_db{session_key}")


LOGIN_REQUEST = """
from django.test import RequestFactory
def login_request():
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.7")
"""


def test_two_app_servers_share_one_login_failure_budget(redis_prefix):
    # The first server takes every failure the budget allows...
    first = app_server(
        LOGIN_REQUEST,
        """
        from django.conf import settings
        from django.contrib.auth.signals import user_login_failed
        from axes.handlers.proxy import AxesProxyHandler
        for _ in range(settings.AXES_FAILURE_LIMIT):
            request = login_request()
            AxesProxyHandler.update_request(request)
            user_login_failed.send(sender=__name__, credentials={"username": "mallory"}, request=request)
        print(request.axes_locked_out)
        """,
        prefix=redis_prefix,
    )
    assert first == "True"

    # ...and the second refuses the next try before looking at the password, while
    # another username from the same address is still let through to the check.
    second = app_server(
        LOGIN_REQUEST,
        """
        import json
        from django.contrib.auth import authenticate
        from axes.handlers.proxy import AxesProxyHandler
        locked = login_request()
        user = authenticate(locked, username="mallory", password="the-right-one")
        other = login_request()
        print(json.dumps({
            "user": user,
            "locked_out": locked.axes_locked_out,
            "other_allowed": AxesProxyHandler.is_allowed(other, {"username": "alice"}),
        }))
        """,
        prefix=redis_prefix,
    )
    assert json.loads(second) == {"user": None, "locked_out": True, "other_allowed": True}


# Two gunicorn instances on two ports, one PostgreSQL, one Redis ------------------------


WRITES_ALLOWED = 4


def make_user(username: str, password: str):
    # Hashed as the app servers hash (the suite's own fast hasher is unknown to them).
    # Few iterations keep the logins quick; the servers upgrade the hash on a successful login.
    hasher = PBKDF2PasswordHasher()
    return User.objects.create(
        username=username, password=hasher.encode(password, hasher.salt(), iterations=1000)
    )


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> Path:
    """Static files collected once for every app server of this module."""
    root = tmp_path_factory.mktemp("static")
    collect_static(production_env(os.environ, static_root=root))
    return root


@pytest.fixture
def two_app_servers(redis_prefix, static_root) -> Iterator[tuple[AppServer, AppServer]]:
    """Two gunicorn instances sharing this test's PostgreSQL database and one Redis prefix."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("Two app servers share a PostgreSQL database; this run is on SQLite.")
    env = production_env(
        os.environ,
        static_root=static_root,
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=redis_prefix,
        WRITE_RATE=f"{WRITES_ALLOWED}/hour",
    )
    servers = AppServer(env), AppServer(env)
    try:
        for server in servers:
            server.wait_until_up()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.mark.django_db(transaction=True)
def test_two_gunicorn_instances_serve_one_session(two_app_servers):
    first, second = two_app_servers
    make_user("shared_session", "a-long-password-1")

    status, cookies = first.log_in("shared_session", "a-long-password-1")
    assert status == 302
    assert "sessionid" in cookies

    # The other instance knows the session: the page greets the signed-in user.
    page = second.request("GET", "/courses/", cookies=cookies)
    assert page.status == 200
    assert "shared_session" in page.body

    # Signing out on the second instance signs out on the first as well.
    token = CSRF_FIELD.search(second.request("GET", "/courses/", cookies=cookies).body).group(1)
    signed_out = second.request(
        "POST", "/accounts/logout/", cookies=cookies, form={"csrfmiddlewaretoken": token}
    )
    assert signed_out.status == 302
    after = first.request("GET", "/courses/", cookies=cookies)
    assert after.status == 302
    assert after.headers["Location"].startswith("/accounts/login/")


@pytest.mark.django_db(transaction=True)
def test_two_gunicorn_instances_share_one_login_failure_budget(two_app_servers, settings):
    first, second = two_app_servers
    make_user("shared_budget", "a-long-password-1")

    alternating = ([first, second] * settings.AXES_FAILURE_LIMIT)[: settings.AXES_FAILURE_LIMIT]
    statuses = [server.log_in("shared_budget", "wrong-password")[0] for server in alternating]
    # Failures alternate between the instances; the one that reaches the limit pauses logging in.
    assert statuses[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert statuses[-1] == 429

    # Now neither instance lets the right password in.
    for server in (first, second):
        status, cookies = server.log_in("shared_budget", "a-long-password-1")
        assert status == 429
        assert "sessionid" not in cookies


@pytest.mark.django_db(transaction=True)
def test_two_gunicorn_instances_share_one_write_budget(two_app_servers):
    first, second = two_app_servers
    token = Token.objects.create(user=make_user("shared_writes", "a-long-password-1"))
    headers = {"Authorization": f"Token {token.key}", "Content-Type": "application/json"}

    def write(server: AppServer) -> Answer:
        # An empty annotation is refused (400), but it is a write and counts all the same.
        return server.request("POST", "/api/v1/annotations/", headers=headers, body="{}")

    answers = [write(server) for server in ([first, second] * WRITES_ALLOWED)[:WRITES_ALLOWED]]
    assert [answer.status for answer in answers] == [400] * WRITES_ALLOWED

    # The budget is spent, whichever instance is asked next; reads still go through.
    for server in (first, second):
        refused = write(server)
        assert refused.status == 429
        assert int(refused.retry_after) > 0
        assert "Too many changes in a short time" in json.loads(refused.body)["detail"]
        assert server.request("GET", "/api/v1/annotations/", headers=headers).status == 200
