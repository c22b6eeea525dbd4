"""Create the demo accounts (idempotent) and print how to log in."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

DEFAULT_PASSWORD = "demo-pass-2026"

# username → (first name, last name, site staff?)
DEMO_USERS = {
    "curator": ("Site", "Curator", True),
    "instructor": ("Ines", "Instructor", False),
    "ta": ("Tariq", "Assistant", False),
    **{f"student{n}": ("Student", str(n), False) for n in range(1, 7)},
}


class Command(BaseCommand):
    help = (
        "Create the demo accounts (curator, instructor, ta, student1…student6) with the password "
        f"from DEMO_PASSWORD (default {DEFAULT_PASSWORD!r}); running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be created; write nothing."
        )

    def handle(self, *args: object, dry_run: bool, **options: object) -> None:
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        User = get_user_model()
        created = updated = 0
        with transaction.atomic():
            for username, (first, last, staff) in DEMO_USERS.items():
                user, new = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "first_name": first,
                        "last_name": last,
                        "is_staff": staff,
                        "is_superuser": staff,
                    },
                )
                created += new
                if new or not user.check_password(password):
                    user.set_password(password)
                    user.save(update_fields=["password"])
                    updated += not new
            if dry_run:
                transaction.set_rollback(True)
        verb = "Would create" if dry_run else "Created"
        self.stdout.write(f"{verb} {created} demo account(s); {updated} password(s) reset.")
        self.stdout.write(f"Demo logins (password: {password}):")
        self.stdout.write("  curator     site staff: the admin at /admin/")
        self.stdout.write("  instructor, ta, student1 … student6")
