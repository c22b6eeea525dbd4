"""Time the key pages and API endpoints: p50, p95 and max, each p95 against the floor.

The floor is ``/health/``, which does nothing but pass the middleware: a page's p95 as a
multiple of it says what the page itself costs, on any machine. The targets are found in
the data (see ``scoproject.benchmark.plan_targets``); the command only reads, apart from
the sign-ins and what the pages themselves write on a GET (a thread marked read).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoproject import benchmark

DEFAULT_PASSWORD = "demo-pass-2026"


def budget(text: str) -> tuple[str, float]:
    kind, sep, ms = text.partition("=")
    try:
        value = float(ms)
    except ValueError:
        value = -1.0
    if not sep or kind not in benchmark.BUDGETS_MS or value <= 0:
        raise ValueError(text)
    return kind, value


class Command(BaseCommand):
    help = (
        "Time the key pages and API endpoints of the course with most students through the whole "
        "middleware stack; print p50, p95, max and each p95 as a multiple of /health/'s, and write JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=200, help="Timed requests per target (200).")
        parser.add_argument("--warmup", type=int, default=20, help="Untimed requests first (20).")
        parser.add_argument(
            "--json", type=Path, default=Path("benchmark.json"), help="Where to write the results."
        )
        parser.add_argument(
            "--only",
            default="",
            help="Comma-separated target names to run (the floor always runs): "
            + ", ".join(benchmark.TARGET_NAMES[1:]),
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with status 1 when a target misses its budget or grew beyond --max-growth.",
        )
        parser.add_argument(
            "--budget",
            type=budget,
            action="append",
            default=[],
            metavar="KIND=MS",
            help="Override a p95 budget: "
            + ", ".join(f"{kind}={ms:g}" for kind, ms in benchmark.BUDGETS_MS.items())
            + " by default.",
        )
        parser.add_argument("--compare", type=Path, help="An earlier run's JSON: report each p95's growth.")
        parser.add_argument(
            "--max-growth",
            type=float,
            default=benchmark.MAX_GROWTH,
            help=f"The growth of a p95 over --compare's that fails ({benchmark.MAX_GROWTH:g}).",
        )
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD,
            help="The password of the accounts signed in as (DEMO_PASSWORD, or the demo default).",
        )
        parser.add_argument("--host", default="", help="The Host header (the first of ALLOWED_HOSTS).")
        parser.add_argument("--word", default="", help="The word searched for (the data's most common).")
        parser.add_argument(
            "--cold",
            action="store_true",
            help="Empty the cache before every request (untimed): first views, every rendered piece "
            "rendered and stored afresh, as after a deploy that changed the templates.",
        )

    def handle(self, *args: object, **options: object) -> None:
        requests, warmup = options["requests"], options["warmup"]
        if requests < 1 or warmup < 0:
            raise CommandError("--requests must be at least 1 and --warmup at least 0.")
        only = {name.strip() for name in str(options["only"]).split(",") if name.strip()}
        unknown = only - set(benchmark.TARGET_NAMES)
        if unknown:
            raise CommandError(
                f"Unknown target(s): {', '.join(sorted(unknown))}. Known: {', '.join(benchmark.TARGET_NAMES)}."
            )
        previous = None
        if options["compare"]:
            try:
                previous = benchmark.previous_p95s(options["compare"])
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise CommandError(f"Cannot read {options['compare']}: {error}") from None
        budgets = {**benchmark.BUDGETS_MS, **dict(options["budget"])}
        host = options["host"] or benchmark.default_host()

        plan = benchmark.plan_targets(word=options["word"] or None)
        if only:
            plan.targets = [t for t in plan.targets if t.kind == benchmark.FLOOR or t.name in only]
        verbose = options["verbosity"] >= 1
        results = benchmark.run(
            plan,
            password=options["password"],
            host=host,
            requests=requests,
            warmup=warmup,
            cold=options["cold"],
            progress=(lambda line: self.stderr.write(f"timing {line}")) if verbose else (lambda line: None),
        )
        if len([r for r in results if r.kind != benchmark.FLOOR]) == 0 and len(plan.targets) > 1:
            raise CommandError("No target could be timed: " + "; ".join(plan.notes))
        benchmark.judge(results, budgets, previous, options["max_growth"])

        for note in plan.notes:
            self.stdout.write(f"skipped {note}")
        if settings.DEBUG:
            self.stdout.write("DEBUG is on: every query is also logged, so the figures run a little high.")
        machine = benchmark.machine_speed()
        self.stdout.write(benchmark.speed_line(machine))
        self.stdout.write("\n".join(benchmark.results_table(results)))
        if previous is not None:
            self.stdout.write(f"\np95 against {options['compare']}:")
            self.stdout.write("\n".join(benchmark.growth_table(results, previous, options["max_growth"])))

        data = benchmark.report(
            results,
            notes=plan.notes,
            counts=benchmark.row_counts(),
            machine=machine,
            run_settings={
                "requests": requests,
                "warmup": warmup,
                "cold": options["cold"],
                "host": host,
                "only": sorted(only),
                "budgets_ms": budgets,
                "compare": str(options["compare"]) if options["compare"] else None,
                "max_growth": options["max_growth"],
            },
        )
        options["json"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        self.stdout.write(f"\nWrote {options['json']} ({data['database_vendor']}, {data['row_counts']}).")

        failed = [r.name for r in results if not r.passed]
        if failed and options["check"]:
            raise CommandError(f"{len(failed)} target(s) failed: {', '.join(failed)}.", returncode=1)
