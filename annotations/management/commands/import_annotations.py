"""Import W3C Web Annotations or a Hypothesis export from a JSON file into a course.

The same service as ``POST /api/v1/courses/<id>/annotations/import/``: each item anchored by
its quote and written as the given member's, those that cannot be anchored reported.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Course
from annotations.models.annotation import Visibility
from annotations.services.importing import IMPORTED, annotations_import

PROGRESS_EVERY = 250


class Command(BaseCommand):
    help = (
        "Import annotations (a W3C AnnotationCollection, AnnotationPage or list of annotations, or a "
        "Hypothesis JSON export) into a course as one member's, anchoring each by its quoted text. "
        "Items that cannot be anchored are listed and not written; the others are written together."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("course_id", type=int, help="The course's id.")
        parser.add_argument("username", help="The member of the course who becomes the author.")
        parser.add_argument("file", type=Path, help="The JSON file to import.")
        parser.add_argument(
            "--visibility",
            choices=Visibility.values,
            default=Visibility.PRIVATE,
            help="Who sees the imported annotations (default: private).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be imported; write nothing."
        )

    def handle(
        self,
        *args: object,
        course_id: int,
        username: str,
        file: Path,
        visibility: str,
        dry_run: bool,
        **options: object,
    ) -> None:
        course = Course.objects.filter(pk=course_id).select_related("reading").first()
        if course is None:
            raise CommandError(f"There is no course {course_id}.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        try:
            data = json.loads(file.read_text(encoding="utf-8-sig"))
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}.") from None
        except json.JSONDecodeError as error:
            raise CommandError(f"{file} is not JSON: {error}.") from None
        try:
            report = annotations_import(
                user=user,
                course=course,
                data=data,
                visibility=visibility,
                dry_run=dry_run,
                progress=self._progress if options.get("verbosity", 1) and sys.stderr.isatty() else None,
            )
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        for item in report.items:
            if item.status != IMPORTED:
                self.stdout.write(f"  item {item.index}: {item.reason}: {item.message}")
            for warning in item.warnings:
                self.stdout.write(f"  item {item.index}: note: {warning}")
        verb = "Would import" if dry_run else "Imported"
        summary = (
            f"{verb} {report.imported} annotation(s) into “{course}” as {username} ({visibility}); "
            f"{report.not_imported} not imported."
        )
        self.stdout.write(self.style.SUCCESS(summary) if report.imported else summary)
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")

    def _progress(self, done: int, total: int) -> None:
        if done % PROGRESS_EVERY == 0 or done == total:
            self.stderr.write(f"\r  {done}/{total}", ending="")
            if done == total:
                self.stderr.write("")
