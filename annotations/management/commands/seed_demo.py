"""Create the demo course and its accounts (idempotent) and print how to log in."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from annotations.models import Course, CourseGroup, Document, Membership
from annotations.models.courses import Role

DEFAULT_PASSWORD = "demo-pass-2026"
COURSE_TITLE = "SCO Seminar"
JOIN_CODE = "SCO-DEMO"
READING_SLUG = "sco-institutionalization"
GROUPS = {"Group A": ["student1", "student2", "student3"], "Group B": ["student4", "student5", "student6"]}

# username → (first name, last name, site staff?)
DEMO_USERS = {
    "curator": ("Site", "Curator", True),
    "instructor": ("Ines", "Instructor", False),
    "ta": ("Tariq", "Assistant", False),
    **{f"student{n}": ("Student", str(n), False) for n in range(1, 7)},
}


class Command(BaseCommand):
    help = (
        f"Create the course {COURSE_TITLE!r} (join code {JOIN_CODE}) on the paper, with instructor, ta and "
        "student1…student6 in two groups, and the site curator; passwords from DEMO_PASSWORD "
        f"(default {DEFAULT_PASSWORD!r}). Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be created; write nothing."
        )

    def handle(self, *args: object, dry_run: bool, **options: object) -> None:
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        User = get_user_model()
        created = updated = 0
        reading = Document.objects.filter(slug=READING_SLUG).first()
        if reading is None:
            raise CommandError("The paper is not loaded: run `python manage.py load_reading` first.")
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
            self._seed_course(reading)
            if dry_run:
                transaction.set_rollback(True)
        verb = "Would create" if dry_run else "Created"
        self.stdout.write(f"{verb} {created} demo account(s); {updated} password(s) reset.")
        self.stdout.write(f"Course {COURSE_TITLE!r}, join code {JOIN_CODE}.")
        self.stdout.write(f"Demo logins (password: {password}):")
        self.stdout.write("  instructor   runs the course (and may create courses)")
        self.stdout.write("  ta           teaching assistant")
        self.stdout.write("  student1-3   students in Group A;  student4-6  students in Group B")
        self.stdout.write("  curator      site staff: the admin at /admin/")

    def _seed_course(self, reading: Document) -> None:
        User = get_user_model()
        instructor = User.objects.get(username="instructor")
        instructor.user_permissions.add(
            Permission.objects.get(codename="add_course", content_type__app_label="annotations")
        )
        course, _ = Course.objects.get_or_create(
            join_code=JOIN_CODE,
            defaults={
                "title": COURSE_TITLE,
                "term": "Demo term",
                "reading": reading,
                "created_by": instructor,
            },
        )
        Membership.objects.get_or_create(course=course, user=instructor, defaults={"role": Role.INSTRUCTOR})
        Membership.objects.get_or_create(
            course=course, user=User.objects.get(username="ta"), defaults={"role": Role.TA}
        )
        for name, usernames in GROUPS.items():
            group, _ = CourseGroup.objects.get_or_create(course=course, name=name)
            for username in usernames:
                membership, _ = Membership.objects.get_or_create(
                    course=course, user=User.objects.get(username=username), defaults={"role": Role.STUDENT}
                )
                if membership.group_id != group.pk and membership.role == Role.STUDENT:
                    membership.group = group
                    membership.save(update_fields=["group"])
