"""Run the project under gunicorn on a port of its own and talk to it over plain HTTP.

Used by the operational commands (the load run, the fault check) and by the tests that need
real app servers: two instances sharing one database and one Redis, or one that must outlive
its database. The environment given is the whole environment of the server process.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class AppServerError(RuntimeError):
    """The server did not start or stopped, or a ``manage.py`` command it needs failed."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(
    base: Mapping[str, str], *, static_root: Path, without: Iterable[str] = (), **overrides: str
) -> dict[str, str]:
    """``base`` with the switches of a production server on plain HTTP behind a TLS proxy.

    DEBUG is off (so no query log grows and no traceback is shown); static files are served by
    WhiteNoise from ``static_root``, which :func:`collect_static` fills. The variables named in
    ``without`` are left out of ``base``; ``overrides`` are set last.
    """
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' own switch, never a server's.
    leave_out = {"DEBUG", "DATABASE_REPLICA_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", *without}
    env = {k: v for k, v in base.items() if k not in leave_out}
    env.update(
        DEBUG="false",
        SECRET_KEY=env.get("SECRET_KEY") or "app-server-" + os.urandom(16).hex(),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        STATIC_ROOT=str(static_root),
    )
    env.update(overrides)
    return env


def database_url(settings_dict: Mapping[str, object]) -> str:
    """The URL of a PostgreSQL connection's database (``connection.settings_dict``), so that
    app servers started from here use the very database this process does (a test's, say)."""
    user = urllib.parse.quote(str(settings_dict.get("USER") or ""))
    password = settings_dict.get("PASSWORD")
    credentials = f"{user}:{urllib.parse.quote(str(password))}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


def manage(env: Mapping[str, str], *arguments: str) -> subprocess.Popen:
    """Start ``manage.py <arguments>`` with ``env`` in a process of its own and return at once;
    :func:`finish` waits for it, so other work can go on meanwhile."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, *, timeout: float = 600) -> None:
    """Wait for a :func:`manage` process; ``AppServerError`` with its output when it failed."""
    out, err = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise AppServerError(f"{' '.join(process.args[1:])} failed: {err or out}")


def start_collect_static(env: Mapping[str, str]) -> subprocess.Popen:
    """Start filling ``STATIC_ROOT`` of ``env`` (see :func:`production_env`) for WhiteNoise to
    serve; :func:`finish` waits for it."""
    return manage(env, "collectstatic", "--no-input", "-v", "0")


def collect_static(env: Mapping[str, str]) -> None:
    """Fill ``STATIC_ROOT`` of ``env``; ``AppServerError`` when that fails."""
    finish(start_collect_static(env), timeout=300)


def set_cookies(headers: http.client.HTTPMessage) -> dict[str, str]:
    """The cookies a response sets, by name."""
    found = {}
    for header in headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


@dataclass(frozen=True)
class Answer:
    """One response: its status, headers and body (decoded, undecodable bytes replaced)."""

    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def retry_after(self) -> str | None:
        return self.headers.get("Retry-After")


class AppServer:
    """A gunicorn instance of the project (``scoproject/gunicorn.conf.py``) on a free port.

    Its output goes to ``log`` (a temporary file removed by :meth:`stop` when none is given):
    a file never fills up and stalls the server as an unread pipe would.
    """

    def __init__(
        self, env: Mapping[str, str], *, workers: int = 2, port: int | None = None, log: Path | None = None
    ) -> None:
        self.port = port or free_port()
        self.workers = workers
        # Open for the server's whole life: stop() closes it, which removes a temporary one.
        if log is None:
            self._log_file = tempfile.NamedTemporaryFile("w", prefix="gunicorn-", suffix=".log")  # noqa: SIM115
        else:
            self._log_file = log.open("w")
        self.log = Path(self._log_file.name)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "scoproject" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "scoproject.wsgi",
            ],
            cwd=ROOT,
            env=dict(env),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, characters: int = 2000) -> str:
        """The end of the server's log so far."""
        return self.log.read_text(errors="replace")[-characters:]

    def wait_until_up(self, timeout: float = 60, path: str = "/health/") -> None:
        """Return once every worker has started and ``path`` answers 200; ``AppServerError``
        with the end of the log when the server stops or is not up within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AppServerError(f"gunicorn on {self.port} stopped: {self.log_tail()}")
            try:
                answer = self.request("GET", path, timeout=5)
                if answer.status == 200 and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AppServerError(
            f"gunicorn on {self.port} did not answer within {timeout:g} s: {self.log_tail()}"
        )

    def worker_pids(self) -> frozenset[int]:
        """The worker processes' ids (the master's children); none once the master has gone."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if not children.exists():
            return frozenset()
        return frozenset(int(pid) for pid in children.read_text().split())

    def request(
        self,
        method: str,
        path: str,
        *,
        cookies: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        timeout: float = 15,
    ) -> Answer:
        """One request, given up after ``timeout`` seconds of silence (``OSError``). Redirects
        are not followed."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read().decode(errors="replace"))
        finally:
            connection.close()

    def log_in(self, username: str, password: str) -> tuple[int, dict[str, str]]:
        """Log in through the login form, as a browser would; returns the status and cookies."""
        form_page = self.request("GET", "/accounts/login/")
        cookies = set_cookies(form_page.headers)
        token = CSRF_FIELD.search(form_page.body).group(1)
        answer = self.request(
            "POST",
            "/accounts/login/",
            cookies=cookies,
            form={"username": username, "password": password, "csrfmiddlewaretoken": token},
        )
        return answer.status, {**cookies, **set_cookies(answer.headers)}

    def stop(self) -> None:
        """Stop the server (at once, then by force after 30 s) and close its log."""
        if self.process.poll() is None:
            # Quick shutdown: nothing is in flight that needs the graceful one's wait.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
