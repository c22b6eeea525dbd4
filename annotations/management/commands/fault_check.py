"""``fault_check``: PostgreSQL goes away under load and comes back; the site says so and recovers.

The command builds everything it needs and touches nothing of yours: a private PostgreSQL
server (``initdb`` in a temporary directory, on a free port), the project's schema in it
(``migrate``, or a copy of an existing database's schema with ``--schema-from``), and the
project served from it by gunicorn with ``DEBUG`` off. Clients then send requests without
pause to a page and an API endpoint while PostgreSQL is stopped (``pg_ctl stop -m fast``,
which also cuts the connections in use) and started again. It prints how many answers were
200, 503 and anything else in each phase, and fails (exit status 1) when:

- any answer was neither a 200 nor a 503 that says to retry (a 500, a traceback, a reset
  connection, a 503 without ``Retry-After``);
- the same gunicorn processes did not serve the whole run (recovery needed a restart);
- after PostgreSQL was back, the site did not answer 200 again.

Run it as root (PostgreSQL then runs as the ``postgres`` user) or as any user who may run
PostgreSQL's ``initdb``. It writes nothing outside its temporary directory.
"""

from __future__ import annotations

import http.client
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoproject.appserver import (
    Answer,
    AppServer,
    AppServerError,
    finish,
    free_port,
    manage,
    production_env,
    start_collect_static,
)

DEFAULT_PATHS = ("/claims/", "/api/v1/claims/")
HELPFUL_TEXT = "The database is not answering"
# Text that only a leaked stack trace would put in a body.
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/')


def postgres_bin_dir() -> Path:
    """The directory of PostgreSQL's server programs (``initdb``, ``pg_ctl``), newest first."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
        reverse=True,
    )
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise CommandError("PostgreSQL's initdb was not found (install the postgresql server package).")


class PrivatePostgres:
    """A throwaway PostgreSQL server of its own in ``root``, listening on 127.0.0.1:``port``.

    As root, it runs as the ``postgres`` user (``initdb`` refuses root) and ``root`` is
    handed to that user.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.bin = postgres_bin_dir()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(root, account.pw_uid, account.pw_gid)

    def _run(self, *command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        result = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        if result.returncode != 0:
            raise CommandError(f"{Path(command[0]).name} failed: {result.stderr or result.stdout}")
        return result

    def init(self) -> None:
        """Create the cluster: the ``postgres`` role, trusted on local connections."""
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            # A throwaway server: durability is not what is being tested.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start"
        )

    def stop(self) -> None:
        """Stop at once, as a crash or a failover would: connections in use are cut."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        status = subprocess.run(
            [*prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            cwd=self.root,
        )
        return status.returncode == 0

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def psql(self, *arguments: str, stdin: str | None = None, database: str = "postgres") -> None:
        result = subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", "postgres", "-d", database, *arguments],
            input=stdin, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if result.returncode != 0:
            raise CommandError(f"psql failed: {result.stderr}")

    def create_database(self, name: str) -> None:
        self.psql("-c", f'CREATE DATABASE "{name}"')

    def copy_schema(self, source_url: str, name: str) -> None:
        """Give database ``name`` the tables, indexes and constraints of ``source_url``'s."""
        source = urlsplit(source_url)
        dump = subprocess.run(
            [str(self.bin / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
             "-h", source.hostname or "127.0.0.1", "-p", str(source.port or 5432),
             "-U", source.username or "postgres", source.path.lstrip("/")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if dump.returncode != 0:
            raise CommandError(f"pg_dump of {source_url} failed: {dump.stderr}")
        self.psql(stdin=dump.stdout, database=name)

    def destroy(self) -> None:
        if self.data.exists() and self.is_running():
            self.stop()


def app_environment(database_url: str, static_root: Path) -> dict[str, str]:
    """The environment of a production-like app server on ``database_url``: DEBUG off, plain
    HTTP on 127.0.0.1, local cache and database sessions (no Redis)."""
    return production_env(
        os.environ,
        static_root=static_root,
        without={"REDIS_URL", "REDIS_KEY_PREFIX", "GUNICORN_ACCESS_LOG"},
        DATABASE_URL=database_url,
        SECRET_KEY="fault-check-" + secrets.token_hex(16),
        DJANGO_SETTINGS_MODULE="scoproject.settings",
    )


def leaks_a_traceback(answer: Answer) -> bool:
    """Whether the body holds what only a leaked stack trace would put there."""
    return any(marker in answer.body for marker in TRACEBACK_MARKERS)


def is_helpful_503(answer: Answer) -> bool:
    """Whether the answer is a 503 that says to retry, and when, and shows no traceback."""
    return (
        answer.status == 503
        and bool(answer.retry_after)
        and HELPFUL_TEXT in answer.body
        and not leaks_a_traceback(answer)
    )


@contextmanager
def served_from_private_postgres(
    *, workers: int = 2, schema_from: str | None = None, progress=lambda line: None
) -> Iterator[tuple[PrivatePostgres, AppServer]]:
    """A private PostgreSQL with the project's schema, and gunicorn serving the project from it.

    Everything lives in one temporary directory, removed afterwards with both servers stopped.
    """
    root = Path(tempfile.mkdtemp(prefix="sco-fault-"))
    postgres = PrivatePostgres(root)
    server = None
    collecting = None
    try:
        env = app_environment(postgres.url("sco"), root / "static")
        # Static files are gathered while PostgreSQL is set up: neither waits for the other.
        collecting = start_collect_static(env)
        progress(f"starting a private PostgreSQL on port {postgres.port}")
        postgres.init()
        postgres.start()
        postgres.create_database("sco")
        if schema_from:
            progress("copying the schema")
            postgres.copy_schema(schema_from, "sco")
        else:
            progress("migrating")
            finish(manage(env, "migrate", "--no-input", "-v", "0"))
        progress("collecting static files")
        finish(collecting)
        server = AppServer(env, workers=workers, log=root / "gunicorn.log")
        server.wait_until_up()
        progress(f"gunicorn serving on 127.0.0.1:{server.port}")
        yield postgres, server
    finally:
        if collecting is not None and collecting.poll() is None:
            collecting.kill()
            collecting.wait()
        if server is not None:
            server.stop()
        postgres.destroy()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Tally:
    """Answers counted by phase: ``200``, ``503`` (helpful, with Retry-After) or ``other``."""

    counts: dict[str, Counter] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, phase: str, path: str, answer: Answer | None, error: str = "") -> None:
        """Count ``answer``, or a request that got none because of ``error``."""
        if answer is not None and answer.status == 200 and not leaks_a_traceback(answer):
            kind = "200"
        elif answer is not None and is_helpful_503(answer):
            kind = "503"
        else:
            kind = "other"
        with self.lock:
            self.counts.setdefault(phase, Counter())[kind] += 1
            if kind == "other" and len(self.others) < 20:
                what = error or f"{answer.status} {answer.body[:120]!r}"
                self.others.append(f"{phase} {path}: {what}")

    def total(self, kind: str) -> int:
        return sum(counter[kind] for counter in self.counts.values())


def run_under_load(
    postgres: PrivatePostgres,
    server: AppServer,
    *,
    clients: int,
    up: float,
    down: float,
    after: float,
    paths: tuple[str, ...] = DEFAULT_PATHS,
    progress=lambda line: None,
) -> dict:
    """Send requests from ``clients`` threads without pause; stop PostgreSQL after ``up``
    seconds, start it again ``down`` seconds later, go on for ``after`` seconds. Returns the
    tally, the recovery time and whether the same processes served throughout."""
    tally = Tally()
    phase = ["up"]
    stop = threading.Event()
    first_200_after: list[float] = []
    restarted_at = [0.0]
    workers_before = server.worker_pids()

    def client(number: int) -> None:
        index = number
        while not stop.is_set():
            path = paths[index % len(paths)]
            index += 1
            answer, failure = None, ""
            try:
                answer = server.request("GET", path)
            except (OSError, http.client.HTTPException) as error:
                failure = f"{type(error).__name__}: {error}"
            # Counted in the phase it was answered in: a request queued behind busy workers
            # while PostgreSQL was up may well be answered after it stopped.
            current = phase[0]
            tally.add(current, path, answer, failure)
            if current == "back" and answer is not None and answer.status == 200 and not first_200_after:
                first_200_after.append(time.monotonic() - restarted_at[0])

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(up)
        progress("stopping PostgreSQL")
        phase[0] = "down"
        postgres.stop()
        time.sleep(down)
        progress("starting PostgreSQL")
        postgres.start()
        restarted_at[0] = time.monotonic()
        phase[0] = "back"
        time.sleep(after)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return {
        "tally": tally,
        "recovered_in": first_200_after[0] if first_200_after else None,
        "same_processes": server.process.poll() is None and server.worker_pids() == workers_before,
        "pids": (server.process.pid, workers_before),
    }


def failures_in(log: str, limit: int = 3) -> str:
    """The last ``limit`` tracebacks of a gunicorn log, their ends only."""
    blocks = log.split("Traceback (most recent call last):")[1:]
    return "\n---\n".join(block.strip()[-3000:] for block in blocks[-limit:]) or "(no traceback)"


class Command(BaseCommand):
    help = (
        "Stop and restart a private PostgreSQL while clients load a gunicorn-served copy of the site; "
        "count 200s, 503s and anything else (which must be none)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=20, help="Clients sending at once (20).")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2).")
        parser.add_argument("--up", type=float, default=5, help="Seconds of load before the stop (5).")
        parser.add_argument("--down", type=float, default=5, help="Seconds PostgreSQL stays stopped (5).")
        parser.add_argument("--after", type=float, default=10, help="Seconds of load after the restart (10).")
        parser.add_argument(
            "--path",
            action="append",
            dest="paths",
            help=f"A path to request (repeatable; default {' and '.join(DEFAULT_PATHS)}).",
        )
        parser.add_argument(
            "--schema-from",
            default="",
            help="A postgres:// URL whose schema is copied instead of running migrate (faster).",
        )

    def handle(self, *args: object, **options: object) -> None:
        verbose = int(options["verbosity"]) > 0

        def progress(line: str) -> None:
            if verbose:
                self.stderr.write(f"… {line}")

        if int(options["clients"]) < 1 or int(options["workers"]) < 1:
            raise CommandError("--clients and --workers must be at least 1.")
        started = time.monotonic()
        try:
            with served_from_private_postgres(
                workers=int(options["workers"]),
                schema_from=str(options["schema_from"]) or None,
                progress=progress,
            ) as (postgres, server):
                result = run_under_load(
                    postgres,
                    server,
                    clients=int(options["clients"]),
                    up=float(options["up"]),
                    down=float(options["down"]),
                    after=float(options["after"]),
                    paths=tuple(options["paths"] or DEFAULT_PATHS),
                    progress=progress,
                )
                # Once the load is over, one more request must find the site fully back.
                last = server.request("GET", (options["paths"] or DEFAULT_PATHS)[0])
                server_log = server.log.read_text(errors="replace")
        except AppServerError as error:
            raise CommandError(str(error)) from None
        tally: Tally = result["tally"]
        self.stdout.write(f"{'phase':<8}{'200':>8}{'503':>8}{'other':>8}")
        for name in ("up", "down", "back"):
            counts = tally.counts.get(name, Counter())
            self.stdout.write(f"{name:<8}{counts['200']:>8}{counts['503']:>8}{counts['other']:>8}")
        self.stdout.write(
            f"{'total':<8}{tally.total('200'):>8}{tally.total('503'):>8}{tally.total('other'):>8}"
        )
        recovered = result["recovered_in"]
        self.stdout.write(
            "first 200 after PostgreSQL was back: "
            + (f"{recovered:.2f} s" if recovered is not None else "never")
        )
        master, workers = result["pids"]
        self.stdout.write(
            f"gunicorn master {master}, workers {sorted(workers)}: "
            + ("the same throughout" if result["same_processes"] else "CHANGED")
        )
        self.stdout.write(f"whole run: {time.monotonic() - started:.1f} s")
        for line in tally.others:
            self.stdout.write(f"other: {line}")
        if tally.others:
            self.stdout.write("the server's log of its failures:\n" + failures_in(server_log))
        problems = []
        if tally.total("other"):
            problems.append(f"{tally.total('other')} answers were neither 200 nor a helpful 503")
        if not result["same_processes"]:
            problems.append("gunicorn's processes changed")
        if recovered is None or last.status != 200:
            problems.append("the site did not answer 200 once PostgreSQL was back")
        if problems:
            raise CommandError("; ".join(problems) + ".")
        self.stdout.write(self.style.SUCCESS("ok: every answer was a 200 or a 503 that says to retry"))
