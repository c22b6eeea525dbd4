"""Back up a course or the whole site to one file, and restore such a file.

    manage.py backup export --course 3 -o course-3.json.gz
    manage.py backup export --site -o site.json.gz
    manage.py backup restore course-3.json.gz [--dry-run]
    manage.py backup check course-3.json.gz

A course is restored into a database that has the course's reading (``load_reading``)
and not the course; a site into an empty database after ``migrate``. A restore is all or
nothing, and is checked against the file's per-model counts and hashes before it is kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Course
from annotations.services.backup import BackupError, backup_read, backup_restore, backup_write


class Command(BaseCommand):
    help = (
        "Export a course (--course ID) or the whole site (--site) to a gzip-compressed JSON file; "
        "restore such a file into a database that does not hold it yet (--dry-run to try); "
        "check a file's integrity."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{export,restore,check}")
        export = actions.add_parser("export", help="Write a backup file.")
        which = export.add_mutually_exclusive_group(required=True)
        which.add_argument("--course", type=int, help="The id of the course to back up.")
        which.add_argument("--site", action="store_true", help="Back up every course, the reading and users.")
        export.add_argument(
            "-o", "--output", required=True, help="The file to write (- for standard output)."
        )
        restore = actions.add_parser("restore", help="Restore a backup file into this database.")
        restore.add_argument("file")
        restore.add_argument(
            "--dry-run", action="store_true", help="Restore and check everything, then roll back."
        )
        check = actions.add_parser("check", help="Check a backup file's format and hashes; write nothing.")
        check.add_argument("file")

    def handle(self, *args: object, action: str, **options: object) -> None:
        try:
            {"export": self._export, "restore": self._restore, "check": self._check}[action](**options)
        except BackupError as error:
            raise CommandError(str(error)) from None

    def _export(self, *, course: int | None, site: bool, output: str, **options: object) -> None:
        target = None
        if course is not None:
            target = Course.objects.select_related("reading").filter(pk=course).first()
            if target is None:
                raise CommandError(f"There is no course {course}.")
        scope = "site" if site else "course"
        if output == "-":
            tables = backup_write(stream=sys.stdout.buffer, scope=scope, course=target)
        else:
            with Path(output).open("wb") as stream:
                tables = backup_write(stream=stream, scope=scope, course=target)
        rows = sum(count for count, _digest in tables.values())
        # With the file on standard output, the summary goes to standard error.
        out = self.stderr if output == "-" else self.stdout
        out.write(f"Wrote {rows} rows of {len(tables)} models ({scope} backup) to {output}.")

    def _restore(self, *, file: str, dry_run: bool, **options: object) -> None:
        def progress(label: str, count: int) -> None:
            self.stdout.write(f"  {label:<32} {count:>8}")

        with Path(file).open("rb") as stream:
            report = backup_restore(stream=stream, dry_run=dry_run, progress=progress)
        verb = "Would restore" if dry_run else "Restored"
        reused = f"; {report.reused_users} existing accounts kept" if report.reused_users else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {report.total} rows ({report.scope} backup){reused}; counts and hashes match the file."
            )
        )

    def _check(self, *, file: str, **options: object) -> None:
        with Path(file).open("rb") as stream:
            data = backup_read(stream)
        rows = sum(table["count"] for table in data["models"])
        self.stdout.write(
            self.style.SUCCESS(
                f"{file}: a {data['scope']} backup of {data['created_at']}, {rows} rows in "
                f"{len(data['models'])} models; every hash matches."
            )
        )
