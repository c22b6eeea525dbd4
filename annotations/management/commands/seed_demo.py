"""Create the demo course and its accounts (idempotent) and print how to log in."""

from __future__ import annotations

import datetime as dt
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from annotations.models import Claim, Course, CourseGroup, Document, Membership, Source
from annotations.models.assignments import Assignment
from annotations.models.challenges import ChallengeStatus, Stance
from annotations.models.courses import Role
from annotations.services import annotations, assignments, challenges, links
from timeline.models import Event

DEFAULT_PASSWORD = "demo-pass-2026"
COURSE_TITLE = "SCO Seminar"
JOIN_CODE = "SCO-DEMO"
READING_SLUG = "sco-institutionalization"
GROUPS = {"Group A": ["student1", "student2", "student3"], "Group B": ["student4", "student5", "student6"]}

# username → (first name, last name, site staff?)
ASSIGNMENT_TITLE = "Week 1: from the Shanghai Five to the SCO"
ASSIGNMENT_SECTIONS = ["international-coordination", "collective-intention"]  # key prefixes

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
            course = self._seed_course(reading)
            self._seed_examples(course)
            self._seed_assignment(course)
            if dry_run:
                transaction.set_rollback(True)
        verb = "Would create" if dry_run else "Created"
        self.stdout.write(f"{verb} {created} demo account(s); {updated} password(s) reset.")
        self.stdout.write(f"Course {COURSE_TITLE!r}, join code {JOIN_CODE}, assignment {ASSIGNMENT_TITLE!r}.")
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
        return course

    def _seed_examples(self, course: Course) -> None:
        """A few challenges and link proposals in each status, once, through the services."""
        if course.challenges.exists() or course.link_proposals.exists():
            return
        User = get_user_model()
        people = {
            name: User.objects.get(username=name)
            for name in ["instructor", "student1", "student2", "student4"]
        }
        claims = {
            c.key: c for c in Claim.objects.filter(key__in=["c-21-2", "c-28-4", "c-23-9", "c-05-2", "c-15-1"])
        }
        pan_hu = Source.objects.get(key="pan-hu-2006")
        xing = Source.objects.get(key="xing-sun-2007-p8")
        # disputed: a dispute the instructor upheld
        upheld = challenges.challenge_create(
            user=people["student1"],
            course=course,
            claim=claims["c-28-4"],
            stance=Stance.DISPUTES,
            argument="The fifth summit met in Dushanbe on **5 July 2000**, the day after the foreign ministers, not on 5 May.",
            citations=[
                {
                    "source": xing,
                    "page": "8",
                    "quote": "The five chiefs of state gathered the next day in Dushanbe",
                }
            ],
        )
        challenges.challenge_resolve(
            user=people["instructor"],
            challenge=upheld,
            status=ChallengeStatus.UPHELD,
            feedback="Well found: the record dates it 5 July 2000.",
            expected_version=upheld.version,
        )
        # contested: an open qualification
        challenges.challenge_create(
            user=people["student4"],
            course=course,
            claim=claims["c-05-2"],
            stance=Stance.QUALIFIES,
            argument="The 1990 agreement set guiding principles; the actual troop cuts were agreed only in 1997.",
            citations=[{"source": pan_hu, "page": "42"}],
        )
        # supported: a supporting challenge the instructor upheld
        supported = challenges.challenge_create(
            user=people["student2"],
            course=course,
            claim=claims["c-21-2"],
            stance=Stance.SUPPORTS,
            argument="Contemporary reports confirm the July 1998 Almaty meeting.",
            citations=[{"source": xing, "page": "8"}],
        )
        challenges.challenge_resolve(
            user=people["instructor"],
            challenge=supported,
            status=ChallengeStatus.UPHELD,
            feedback="Agreed.",
            expected_version=supported.version,
        )
        # rejected: a dispute without merit leaves the claim unchallenged
        rejected = challenges.challenge_create(
            user=people["student4"],
            course=course,
            claim=claims["c-15-1"],
            stance=Stance.NEEDS_CONTEXT,
            argument="Which pipelines are meant here?",
        )
        challenges.challenge_resolve(
            user=people["instructor"],
            challenge=rejected,
            status=ChallengeStatus.REJECTED,
            feedback="The next sentences name them.",
            expected_version=rejected.version,
        )
        # links: one accepted, one waiting (whose date disagrees), one declined
        events = {
            e.key: e
            for e in Event.objects.filter(
                key__in=["almaty-summit-1998", "moscow-summit-1997", "bishkek-summit-1999"]
            )
        }
        accepted = links.link_propose(
            user=people["student1"],
            course=course,
            claim=claims["c-21-2"],
            event=events["almaty-summit-1998"],
            relation="describes",
            note="The Almaty summit of July 1998.",
        )
        links.link_decide(user=people["instructor"], proposal=accepted, accept=True, feedback="Yes.")
        links.link_propose(
            user=people["student2"],
            course=course,
            claim=Claim.objects.get(key="c-20-8"),
            event=events["moscow-summit-1997"],
            relation="dates",
            note="The paper says 2012; the agreement is of 1997.",
        )
        declined = links.link_propose(
            user=people["student4"],
            course=course,
            claim=claims["c-21-2"],
            event=events["bishkek-summit-1999"],
            relation="context",
            note="The next summit.",
        )
        links.link_decide(
            user=people["instructor"],
            proposal=declined,
            accept=False,
            feedback="Not what this claim is about.",
        )

    def _seed_assignment(self, course: Course) -> Assignment | None:
        """A first assignment, open since three days and due in a week, on the two sections
        where the example challenges and links are; student1 has done part of it. Once."""
        if Assignment.objects.filter(course=course, title=ASSIGNMENT_TITLE).exists():
            return None
        User = get_user_model()
        instructor = User.objects.get(username="instructor")
        now = timezone.now()
        sections = [
            course.reading.sections.get(key__startswith=prefix, parent__isnull=True)
            for prefix in ASSIGNMENT_SECTIONS
        ]
        assignment = assignments.assignment_create(
            user=instructor,
            course=course,
            title=ASSIGNMENT_TITLE,
            instructions=(
                "Read the sections on international coordination and on collective intention.\n\n"
                "- Annotate **three** passages for your group or the course: what is claimed, and on what evidence?\n"
                "- Challenge one claim, citing at least one source.\n"
                "- Reply twice to classmates, and link one claim to an event of the timeline."
            ),
            sections=sections,
            opens_at=now - dt.timedelta(days=3),
            due_at=now + dt.timedelta(days=7),
            late_until=now + dt.timedelta(days=9),
            late_penalty=10,
            required_annotations=3,
            required_challenges=1,
            required_sources=1,
            required_replies=2,
            required_links=1,
        )
        student1, student2 = User.objects.get(username="student1"), User.objects.get(username="student2")
        paragraphs = list(course.reading.paragraphs.filter(anchor__in=["p-21", "p-25"]).order_by("order"))
        notes = []
        for paragraph, body in zip(
            paragraphs,
            [
                "Is the shift from bilateral talks to a multilateral forum argued here, or only dated?",
                "The Declaration is quoted, but which of its articles carries the institutional weight?",
            ],
            strict=True,
        ):
            sentence_end = paragraph.text.find(". ") + 1 or len(paragraph.text)
            notes.append(
                annotations.annotation_create(
                    user=student1,
                    course=course,
                    paragraph=paragraph,
                    start=0,
                    end=sentence_end,
                    body=body,
                    visibility="group",
                )
            )
        annotations.reply_create(user=student2, annotation=notes[0], body="Only dated, I think: see p-22.")
        return assignment
