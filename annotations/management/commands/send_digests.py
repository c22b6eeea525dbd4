"""Send each user one e-mail digest of their notifications not yet e-mailed.

Only kinds the user set to the daily digest go in; each notification goes in at most one
digest, so the command is safe to run again (daily, from cron).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from annotations.services.notifications import digests_send


class Command(BaseCommand):
    help = "E-mail each user a digest of their un-e-mailed notifications of the kinds they digest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Say what would be sent; send nothing.")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        run = digests_send(dry_run=dry_run, progress=self.stdout.write)
        verb = "Would send" if dry_run else "Sent"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {run.users} digest(s) with {run.notifications} notification(s).")
        )
