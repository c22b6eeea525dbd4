"""A load run: gunicorn serving this database, wrk sending requests from a second process.

For each target (the claims API, read anonymously, and a course's reading view, read by a
signed-in student) it runs wrk in rounds of ``--round-seconds`` over ``--connections``
connections until at least ``--requests`` requests are answered, and prints the throughput,
latency percentiles, errors (socket errors and any status but 200) and the resident memory of
the gunicorn workers after each round, so that growth over the run shows. The app runs with production settings
(DEBUG off, static files through WhiteNoise) against ``DATABASE_URL`` and ``REDIS_URL``.

Needs ``wrk`` (Debian: ``apt-get install wrk``). Reads only, apart from the student's sign-in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import Count

from annotations.models import Course, Membership
from annotations.models.courses import Role
from scoproject.appserver import AppServer, AppServerError, collect_static, database_url, production_env

# wrk's Lua: count the answers that are not 200 in each thread, and print one JSON line of
# figures at the end.
WRK_SCRIPT = """
local threads = {}
local cookie = os.getenv("LOAD_RUN_COOKIE")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do bad_total = bad_total + thread:get("bad") end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "not_200": %d, "socket_errors": %d, '
    .. '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\\n',
    summary.requests, summary.duration / 1e6, bad_total,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Command(BaseCommand):
    help = (
        "Serve this database with gunicorn and load it with wrk from a second process: throughput, "
        "latency, errors and worker memory for the claims API and the reading view."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers",
            type=int,
            default=(os.cpu_count() or 1) * 2 + 1,
            help="gunicorn workers (default: 2 × cores + 1, as scoproject/gunicorn.conf.py).",
        )
        parser.add_argument(
            "--requests", type=int, default=20000, help="At least this many requests per target (20000)."
        )
        parser.add_argument(
            "--round-seconds", type=int, default=15, help="Length of one round; memory after each (15)."
        )
        parser.add_argument("--connections", type=int, default=16, help="Open connections (16).")
        parser.add_argument("--threads", type=int, default=2, help="wrk threads (2).")
        parser.add_argument("--username", help="The student who reads (default: one of the largest course).")
        parser.add_argument("--password", default="scale-password", help="Their password.")
        parser.add_argument("--json", type=Path, help="Also write the figures here.")

    def handle(self, *args, **options) -> None:
        wrk = shutil.which("wrk")
        if wrk is None:
            raise CommandError("wrk is not installed (Debian: apt-get install wrk).")
        if connection.vendor != "postgresql":
            raise CommandError("A load run needs PostgreSQL (set DATABASE_URL); SQLite serves one writer.")
        if options["requests"] < 1 or options["round_seconds"] < 1:
            raise CommandError("--requests and --round-seconds must be positive.")
        student = self.student(options["username"])
        course_id = Membership.objects.filter(user=student, role=Role.STUDENT).values_list(
            "course_id", flat=True
        )[0]
        targets = [
            ("claims API", "/api/v1/claims/", False),
            ("reading view", f"/courses/{course_id}/read/", True),
        ]

        with tempfile.TemporaryDirectory() as scratch:
            env = production_env(
                os.environ,
                static_root=Path(scratch) / "static",
                DATABASE_URL=database_url(connection.settings_dict),
            )
            self.stderr.write("Collecting static files…")
            try:
                collect_static(env)
            except AppServerError as error:
                raise CommandError(str(error)) from None
            server = AppServer(env, workers=options["workers"])
            try:
                server.wait_until_up(timeout=60)
                status, cookies = server.log_in(student.username, options["password"])
                if status != 302 or "sessionid" not in cookies:
                    raise CommandError(f"{student.username} could not sign in (status {status}).")
                script = Path(scratch) / "load.lua"
                script.write_text(WRK_SCRIPT)
                results = [
                    self.load(wrk, server, script, name, path, cookies if signed_in else {}, options)
                    for name, path, signed_in in targets
                ]
            except AppServerError as error:
                raise CommandError(str(error)) from None
            finally:
                server.stop()

        report = {
            "workers": options["workers"],
            "connections": options["connections"],
            "wrk_threads": options["threads"],
            "database": connection.settings_dict["NAME"],
            "rows": {
                "annotations": Course.objects.aggregate(n=Count("annotations"))["n"],
                "courses": Course.objects.count(),
            },
            "targets": results,
        }
        self.print_report(report)
        if options["json"]:
            options["json"].write_text(json.dumps(report, indent=2) + "\n")
        if any(result["not_200"] or result["socket_errors"] for result in results):
            raise CommandError("Some requests failed (see the table).")

    def student(self, username: str | None):
        memberships = Membership.objects.filter(role=Role.STUDENT).select_related("user")
        if username:
            membership = memberships.filter(user__username=username).first()
            if membership is None:
                raise CommandError(f"No student is called {username!r}.")
            return membership.user
        course = Course.objects.annotate(students=Count("memberships")).order_by("-students", "pk").first()
        membership = memberships.filter(course=course).order_by("user__username").first()
        if membership is None:
            raise CommandError("There is no course with students: run generate_scale_data or seed_demo.")
        return membership.user

    def load(self, wrk, server, script, name, path, cookies, options) -> dict:
        workers = server.worker_pids()
        # One untimed second so every worker has loaded its code and opened its connection.
        self.wrk(wrk, server, script, path, cookies, options, seconds=1)
        memory = [{pid: rss_kib(pid) for pid in workers}]
        rounds = []
        while sum(r["requests"] for r in rounds) < options["requests"]:
            rounds.append(self.wrk(wrk, server, script, path, cookies, options, options["round_seconds"]))
            memory.append({pid: rss_kib(pid) for pid in workers})
            if not rounds[-1]["requests"]:
                raise CommandError(f"No request to {path} was answered in a round.")
        if server.worker_pids() != workers:
            raise CommandError(f"A gunicorn worker was replaced during the {name} run.")
        seconds = sum(r["seconds"] for r in rounds)
        requests = sum(r["requests"] for r in rounds)
        return {
            "target": name,
            "path": path,
            "requests": requests,
            "seconds": round(seconds, 2),
            "requests_per_second": round(requests / seconds, 1),
            "p50_ms": round(sorted(r["p50_ms"] for r in rounds)[len(rounds) // 2], 1),
            "p99_ms": round(max(r["p99_ms"] for r in rounds), 1),
            "not_200": sum(r["not_200"] for r in rounds),
            "socket_errors": sum(r["socket_errors"] for r in rounds),
            "worker_rss_mib_after_each_round": [
                round(sum(snapshot.values()) / len(snapshot) / 1024, 1) for snapshot in memory
            ],
            "worker_rss_growth_mib": round(
                max((memory[-1][pid] - memory[0][pid]) / 1024 for pid in workers), 1
            ),
        }

    def wrk(self, wrk, server, script, path, cookies, options, seconds: int) -> dict:
        threads = options["threads"]
        cookie = "; ".join(f"{key}={value}" for key, value in cookies.items())
        done = subprocess.run(
            [
                wrk,
                "--threads",
                str(threads),
                "--connections",
                str(max(threads, options["connections"])),
                "--duration",
                f"{seconds}s",
                "--timeout",
                "10s",
                "--script",
                str(script),
                server.url + path,
            ],
            env={**os.environ, "LOAD_RUN_COOKIE": cookie},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
        if done.returncode:
            raise CommandError(f"wrk failed: {done.stderr or done.stdout}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def print_report(self, report: dict) -> None:
        self.stdout.write(
            f"gunicorn workers: {report['workers']}, wrk: {report['wrk_threads']} threads, "
            f"{report['connections']} connections; {report['rows']['annotations']:,} annotations "
            f"in {report['rows']['courses']:,} courses"
        )
        header = f"{'target':<14} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}  worker RSS MiB per round (growth)"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in report["targets"]:
            memory = " → ".join(f"{value:.0f}" for value in r["worker_rss_mib_after_each_round"])
            self.stdout.write(
                f"{r['target']:<14} {r['requests']:>9,} {r['requests_per_second']:>8.1f} {r['p50_ms']:>7.1f} "
                f"{r['p99_ms']:>7.1f} {r['not_200'] + r['socket_errors']:>7}  {memory} "
                f"({r['worker_rss_growth_mib']:+.1f})"
            )
