"""manage.py import_annotations <course_id> <username> <file.json> [--visibility …] [--dry-run]."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Annotation
from annotations.models.annotation import Visibility

pytestmark = pytest.mark.django_db

QUOTE = "Qian Qichen and Shevardnadze began discussions on this topic in April 1990."


@pytest.fixture
def export_file(tmp_path):
    """A Hypothesis export: one note that anchors, one whose quote is not in the paper."""
    rows = [
        {
            "id": "hypA",
            "user": "acct:grace@hypothes.is",
            "uri": "https://journal.example.org/sco.html",
            "text": "Check the year.",
            "tags": ["dates"],
            "target": [
                {
                    "source": "https://journal.example.org/sco.html",
                    "selector": [{"type": "TextQuoteSelector", "exact": QUOTE}],
                }
            ],
        },
        {
            "id": "hypB",
            "user": "acct:grace@hypothes.is",
            "uri": "https://journal.example.org/sco.html",
            "text": "?",
            "target": [
                {
                    "source": "https://journal.example.org/sco.html",
                    "selector": [{"type": "TextQuoteSelector", "exact": "not in the paper at all"}],
                }
            ],
        },
    ]
    path = tmp_path / "hypothesis.json"
    path.write_text(json.dumps({"total": 2, "rows": rows}), encoding="utf-8")
    return path


def run(*args: object) -> str:
    out = StringIO()
    call_command("import_annotations", *[str(a) for a in args], stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_imports_what_anchors_and_lists_what_does_not(course, author, export_file, paper):
    output = run(course.pk, "author", export_file, "--visibility", "course")

    note = Annotation.objects.get(course=course)
    assert (note.author, note.paragraph.anchor, note.exact) == (author, "p-5", QUOTE)
    assert note.visibility == Visibility.COURSE
    assert note.imported_from.startswith("id=hypA; creator=acct:grace@hypothes.is")
    assert "item 1: quote_not_found" in output
    assert "Imported 1 annotation(s)" in output
    assert "1 not imported" in output


def test_a_dry_run_says_what_would_happen_and_writes_nothing(course, author, export_file):
    output = run(course.pk, "author", export_file, "--dry-run")

    assert "Would import 1 annotation(s)" in output
    assert "Dry run: nothing was written." in output
    assert not Annotation.objects.exists()


def test_running_it_twice_imports_twice_because_each_run_is_a_new_import(course, author, export_file):
    run(course.pk, "author", export_file)
    run(course.pk, "author", export_file)

    assert Annotation.objects.filter(course=course, author=author).count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{course}", "nobody", "{file}"), "There is no user 'nobody'."),
        (("999999", "author", "{file}"), "There is no course 999999."),
        (("{course}", "reader", "{file}"), "Only members of this course can import annotations into it."),
        (("{course}", "author", "{missing}"), "Cannot read"),
        (("{course}", "author", "{bad}"), "is not JSON"),
        (("{course}", "author", "{shape}"), "Send a W3C AnnotationCollection"),
    ],
)
def test_it_refuses_with_a_message_and_writes_nothing(
    course, author, outsider, export_file, tmp_path, args, message
):
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    shape = tmp_path / "shape.json"
    shape.write_text('{"hello": "world"}', encoding="utf-8")
    values = {
        "course": course.pk,
        "file": export_file,
        "missing": tmp_path / "missing.json",
        "bad": bad,
        "shape": shape,
    }

    with pytest.raises(CommandError, match=re.escape(message)):
        run(*[arg.format(**values) for arg in args])

    assert not Annotation.objects.exists()
