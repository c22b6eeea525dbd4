"""The course's reading finds a member's notes through indexes that answer by themselves
(PostgreSQL): a paragraph's newest notes and their capped count from the index they are
walked by, the member's own notes from an index of their notes in the course."""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations import selectors
from annotations.models.annotation import Annotation, Visibility
from tests.factories import AnnotationFactory
from tests.helpers import plan_with_only

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="The indexes are read by PostgreSQL's planner."
)


def _reading_sql(user, course) -> str:
    paragraphs = list(course.reading.paragraphs.order_by("order"))
    with CaptureQueriesContext(connection) as queries:
        notes, totals = selectors.reading_notes(
            user, course, paragraphs=paragraphs, per_paragraph=3, count_up_to=50
        )
    # The query below is the one that found them.
    assert notes
    assert totals
    [sql] = [query["sql"] for query in queries.captured_queries if "unnest" in query["sql"]]
    return sql


@pytest.fixture
def notes(course, author, groupmate, group_a, other_group_student):
    AnnotationFactory(course=course, author=author)
    AnnotationFactory(course=course, author=groupmate, group=group_a, visibility=Visibility.GROUP)
    AnnotationFactory(course=course, author=other_group_student)
    AnnotationFactory(course=course, author=author, visibility=Visibility.PRIVATE)


@pytest.mark.django_db
def test_a_paragraphs_notes_and_their_count_come_from_its_index_alone(notes, course, author):
    plan = plan_with_only("annotation_para_new_idx", _reading_sql(author, course))
    # The count, the newest notes of each paragraph and the member's own: every scan of the
    # notes reads the index alone, none a row of the table.
    scans = [line for line in plan.splitlines() if " on annotations_annotation " in line]
    assert len(scans) == 3, plan
    assert all("Index Only Scan using annotation_para_new_idx" in line for line in scans), plan


def _copies(note: Annotation, n: int, **changes) -> list[Annotation]:
    made = []
    for _ in range(n):
        copied = copy.copy(note)
        copied.pk = None
        for name, value in changes.items():
            setattr(copied, name, value)
        made.append(copied)
    return made


@pytest.mark.django_db
def test_a_members_own_notes_are_found_without_reading_the_whole_courses(
    notes, course, other_course, author, groupmate
):
    # A course of thousands of notes by others, and a member with many notes in another
    # course, statistics up to date: the planner chooses as it would in a real course, with
    # every index there. Before the author's index in a course, it intersected the author's
    # notes with the whole course's.
    others = _copies(Annotation.objects.filter(author=groupmate).first(), 3000)
    elsewhere = _copies(
        Annotation.objects.filter(author=author).first(), 1000, course=other_course, group=None
    )
    Annotation.objects.bulk_create(others + elsewhere)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotations_annotation")
        cursor.execute(f"EXPLAIN {_reading_sql(author, course)}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    own = plan[plan.index("row_number()") :]
    found_by_both = f"Index Cond: ((author_id = {author.pk}) AND (course_id = '{course.pk}'::bigint))"
    assert found_by_both in own, plan
    assert "annotation_author_course_idx" in own, plan
