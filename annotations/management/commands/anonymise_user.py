"""Anonymise an account on its owner's request, keeping their work, grades and the audit log.

manage.py anonymise_user alice --actor admin [--dry-run]
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from annotations.services.privacy import pseudonym_for, user_anonymise


class Command(BaseCommand):
    help = (
        "Replace an account's username by a pseudonym (former-student-<id>), clear its names, "
        "e-mail and password and deactivate it; its work, threads, grades and audit entries stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The account to anonymise.")
        parser.add_argument(
            "--actor", required=True, help="The site staff member acting (recorded in the audit log)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would happen; change nothing.")

    def handle(self, *args: object, username: str, actor: str, dry_run: bool, **options: object) -> None:
        users = get_user_model().objects
        person = users.filter(username=username).first()
        if person is None:
            raise CommandError(f"There is no account {username!r}.")
        staff = users.filter(username=actor).first()
        if staff is None:
            raise CommandError(f"There is no account {actor!r} to act as.")
        try:
            with transaction.atomic():
                done = user_anonymise(actor=staff, user=person)
                if dry_run:
                    transaction.set_rollback(True)
        except (PermissionDenied, ValidationError) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        verb = "Would anonymise" if dry_run else "Anonymised"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {username!r} as {done.username or pseudonym_for(person)}.")
        )
