"""Fill the database with one seed's synthetic course work at university scale.

Courses on the loaded paper with their instructors, TAs, students and groups; annotations
anchored on real spans, challenges citing sources, threads and posts, the review queue,
link and event proposals, notifications, assignments and grades — as the app's services would have
written them, in one transaction. Idempotent per seed; ``--replace`` regenerates a seed.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from annotations.scale_data import (
    NOT_LOADED,
    PASSWORD,
    READING_SLUG,
    TOUCHED,
    Generator,
    Plan,
    Reading,
    Sink,
    delete_seed,
    reading_or_none,
    seed_exists,
)


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Generate synthetic course work for benchmarks: per seed, courses 'Scale <seed> · course NNN' "
        f"with users s<seed>-cNNN-… (password {PASSWORD!r}). Needs the paper (load_reading). Running "
        "it again for the same seed writes nothing; --replace deletes that seed's data and regenerates it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = Plan()
        parser.add_argument("--seed", type=int, default=defaults.seed, help="Seed of the data (default 1).")
        for name, help_text in (
            ("courses", "Courses."),
            ("students", "Students per course (course 1 has --big-course-students)."),
            ("annotations", "Annotations in all."),
            ("challenges", "Challenges in all."),
            ("posts", "Posts in all, the big thread's included."),
            ("big-course-students", "Students of course 1."),
            ("big-thread-posts", "Posts of one thread of course 1."),
        ):
            default = getattr(defaults, name.replace("-", "_"))
            parser.add_argument(
                f"--{name}", type=_count, default=default, help=f"{help_text} Default {default}."
            )
        parser.add_argument("--reading", default=READING_SLUG, help="Slug of the loaded reading.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be created; write nothing."
        )
        parser.add_argument(
            "--replace", action="store_true", help="Delete this seed's data first, then regenerate."
        )

    def handle(self, *args: object, **options) -> None:
        plan = Plan(
            seed=options["seed"],
            courses=options["courses"],
            students=options["students"],
            annotations=options["annotations"],
            challenges=options["challenges"],
            posts=options["posts"],
            big_course_students=options["big_course_students"],
            big_thread_posts=options["big_thread_posts"],
        )
        document = reading_or_none(options["reading"])
        if document is None:
            raise CommandError(NOT_LOADED)
        exists = seed_exists(plan)
        if options["dry_run"]:
            verb = "replace" if exists and options["replace"] else "create"
            if exists and not options["replace"]:
                self.stdout.write(f"Seed {plan.seed} is already there; nothing would be written.")
                return
            self.stdout.write(f"Would {verb} seed {plan.seed} on {document.slug} (wrote nothing):")
            self._table(plan.expected())
            return
        if exists and not options["replace"]:
            self.stdout.write(
                f"Seed {plan.seed} is already there; nothing written (use --replace to regenerate)."
            )
            return
        started = time.monotonic()
        sink = Sink(progress=options["verbosity"] > 0)
        with transaction.atomic():
            if exists:
                sink.begin_bulk_load((*TOUCHED, get_user_model()))
                deleted = delete_seed(plan, sink)
                self.stdout.write(f"Deleted seed {plan.seed}'s {deleted} rows.")
            Generator(plan, Reading.load(document), sink).run()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # The load (and a --replace's deletions) leave dead rows and stale statistics;
            # where autovacuum is off or behind, the first queries would pay for them.
            with connection.cursor() as cursor:
                for model in (*TOUCHED, get_user_model()):
                    cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
                # And every other table, the reading's among them: loaded earlier, they may
                # never have been analysed, and a small table without statistics is planned
                # as if it held thousands of rows.
                cursor.execute("ANALYZE")
        self.stdout.write(f"Seed {plan.seed} created on {document.slug}:")
        self._table(sink.counts)
        self.stdout.write(f"Elapsed: {time.monotonic() - started:.1f} s")

    def _table(self, counts: dict[str, int]) -> None:
        width = max(len(label) for label in counts)
        for label, n in counts.items():
            self.stdout.write(f"  {label:<{width}}  {n:>10,}")
        self.stdout.write(f"  {'total':<{width}}  {sum(counts.values()):>10,}")
