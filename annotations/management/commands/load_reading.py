"""Load a reading's folder (the paper by default) into the database."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.services import ReadingError, reading_load


class Command(BaseCommand):
    help = (
        "Load a reading (reading.md or reading.txt with its sources, actors, events and claims) "
        "from a folder; idempotent. Defaults to the SCO paper in fixtures/sco-paper."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", nargs="?", default=str(settings.DEFAULT_READING_DIR))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would change; write nothing.",
        )

    def handle(self, *args: object, folder: str, dry_run: bool, **options: object) -> None:
        try:
            report = reading_load(path=Path(folder), dry_run=dry_run)
        except ReadingError as error:
            lines = "\n".join(f"  - {problem}" for problem in error.problems)
            raise CommandError(f"{folder} was not loaded; nothing was written:\n{lines}") from None
        verb = "Would load" if dry_run else "Loaded"
        self.stdout.write(f"{verb} {report.document!r} from {folder}")
        self.stdout.write(report.as_table())
        if not report.changed:
            self.stdout.write(self.style.SUCCESS("Already up to date: nothing changed."))
