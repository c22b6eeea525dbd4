"""Assignment services: setting assignments, extensions, grades with a version check,
releasing grades, and marking the work made for anonymous assignments."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from annotations.models import Annotation, Claim, Notification, Section
from annotations.models.assignments import Assignment, Extension, Grade
from annotations.services import annotations as annotation_services
from annotations.services import assignments as services
from tests.factories import AnnotationFactory, DocumentFactory, SectionFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def settings_for(**overrides):
    return {
        "title": "Week 1: the Shanghai Five",
        "opens_at": NOW - dt.timedelta(days=1),
        "due_at": NOW + dt.timedelta(days=6),
        "required_annotations": 3,
        **overrides,
    }


@pytest.mark.parametrize("user", ["ta", "author", "other_instructor", "outsider"])
def test_only_instructors_set_assignments(request, course, user):
    with pytest.raises(PermissionDenied):
        services.assignment_create(user=request.getfixturevalue(user), course=course, **settings_for())
    assert not Assignment.objects.exists()


def test_an_instructor_sets_an_assignment_with_its_scope(course, instructor, paper):
    section = Section.objects.get(key="introduction")
    claim = Claim.objects.order_by("key")[0]

    assignment = services.assignment_create(
        user=instructor,
        course=course,
        sections=[section],
        claims=[claim],
        instructions="Read **closely**.",
        **settings_for(),
    )

    assert list(assignment.sections.all()) == [section]
    assert list(assignment.claims.all()) == [claim]
    assert assignment.instructions_html == "<p>Read <strong>closely</strong>.</p>\n"
    assert assignment.created_by == instructor


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"due_at": NOW - dt.timedelta(days=2)}, "due_at", services.DUE_BEFORE_OPEN),
        ({"late_until": NOW + dt.timedelta(days=1)}, "late_until", services.LATE_BEFORE_DUE),
        ({"required_annotations": 0}, "__all__", services.NOTHING_REQUIRED),
        ({"title": ""}, "title", "This field cannot be blank."),
        ({"late_penalty": 101}, "late_penalty", "Ensure this value is less than or equal to 100."),
        ({"points": Decimal("0")}, "points", "Ensure this value is greater than or equal to 0.01."),
    ],
)
def test_bad_settings_are_refused_on_the_field_at_fault(course, instructor, overrides, field, message):
    with pytest.raises(ValidationError) as refused:
        services.assignment_create(user=instructor, course=course, **settings_for(**overrides))
    assert message in refused.value.message_dict[field]
    assert not Assignment.objects.exists()


def test_a_scope_outside_the_course_reading_is_refused(course, instructor):
    stray = SectionFactory(document=DocumentFactory(), title="Elsewhere")
    with pytest.raises(ValidationError) as refused:
        services.assignment_create(user=instructor, course=course, sections=[stray], **settings_for())
    assert refused.value.message_dict["sections"] == [services.SECTION_ELSEWHERE.format("Elsewhere")]


def test_an_update_changes_only_what_is_given(assignment, instructor):
    services.assignment_update(user=instructor, assignment=assignment, title="Renamed", required_challenges=2)
    assignment.refresh_from_db()
    assert (assignment.title, assignment.required_challenges, assignment.required_annotations) == (
        "Renamed",
        2,
        2,
    )


def test_an_assignment_with_grades_cannot_be_deleted(assignment, instructor, author, ta):
    services.grade_set(user=ta, assignment=assignment, student=author, score="5")
    with pytest.raises(ValidationError, match="has grades"):
        services.assignment_delete(user=instructor, assignment=assignment)
    assert Assignment.objects.filter(pk=assignment.pk).exists()


def test_an_assignment_without_grades_is_deleted(assignment, instructor):
    services.assignment_delete(user=instructor, assignment=assignment)
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


def test_staff_grant_an_extension_that_replaces_an_earlier_one(assignment, ta, author):
    later = assignment.due_at + dt.timedelta(days=2)
    services.extension_grant(user=ta, assignment=assignment, student=author, due_at=later, reason="Ill")
    services.extension_grant(
        user=ta, assignment=assignment, student=author, due_at=later + dt.timedelta(days=1)
    )
    extension = Extension.objects.get(assignment=assignment, student=author)
    assert extension.due_at == later + dt.timedelta(days=1)
    assert extension.granted_by == ta


def test_an_extension_must_end_after_the_due_date_and_be_for_a_student(assignment, ta, author, instructor):
    with pytest.raises(ValidationError) as refused:
        services.extension_grant(user=ta, assignment=assignment, student=author, due_at=assignment.due_at)
    assert "must end after the assignment's due date" in refused.value.message_dict["due_at"][0]
    with pytest.raises(ValidationError) as refused:
        services.extension_grant(
            user=ta,
            assignment=assignment,
            student=instructor,
            due_at=assignment.due_at + dt.timedelta(days=1),
        )
    assert refused.value.message_dict["student"] == ["instructor is not a student of this course."]
    assert not Extension.objects.exists()


def test_students_cannot_grade_or_extend(assignment, author, groupmate):
    with pytest.raises(PermissionDenied):
        services.grade_set(user=author, assignment=assignment, student=groupmate, score="10")
    with pytest.raises(PermissionDenied):
        services.extension_grant(
            user=author,
            assignment=assignment,
            student=author,
            due_at=assignment.due_at + dt.timedelta(days=9),
        )
    assert not Grade.objects.exists()


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("11", "A score cannot be more than the assignment's 10 points."),
        ("-1", services.SCORE_NEGATIVE),
        ("ten", services.SCORE_NOT_A_NUMBER),
        ("NaN", services.SCORE_NOT_A_NUMBER),
    ],
)
def test_a_bad_score_is_refused(assignment, ta, author, score, message):
    with pytest.raises(ValidationError) as refused:
        services.grade_set(user=ta, assignment=assignment, student=author, score=score)
    assert refused.value.message_dict["score"] == [message]
    assert not Grade.objects.exists()


def test_a_grade_keeps_its_feedback_and_each_change_moves_its_version(assignment, ta, instructor, author):
    first = services.grade_set(
        user=ta,
        assignment=assignment,
        student=author,
        score="7.5",
        feedback="Good *sources*.",
        expected_version=0,
    )
    assert (first.score, first.version, first.feedback_html) == (
        Decimal("7.50"),
        1,
        "<p>Good <em>sources</em>.</p>\n",
    )
    second = services.grade_set(
        user=instructor, assignment=assignment, student=author, score=None, feedback="", expected_version=1
    )
    assert (second.score, second.version, second.graded_by) == (None, 2, instructor)


def test_grading_a_stale_version_is_a_conflict_and_keeps_the_first_grade(assignment, ta, instructor, author):
    services.grade_set(user=ta, assignment=assignment, student=author, score="6", expected_version=0)
    with pytest.raises(services.GradeConflict) as conflict:
        services.grade_set(
            user=instructor, assignment=assignment, student=author, score="9", expected_version=0
        )
    assert (conflict.value.current.score, conflict.value.current.version) == (Decimal("6.00"), 1)
    assert Grade.objects.get().score == Decimal("6.00")


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="SQLite serialises writers itself and has no SELECT … FOR UPDATE; run with DATABASE_URL=postgres://…",
)
@pytest.mark.django_db(transaction=True)
def test_twenty_graders_at_once_make_exactly_one_grade_of_version_one():
    from annotations.models import Document
    from annotations.services import reading_load

    # A transactional test starts from an empty database: load the paper for it.
    reading_load(path=settings.DEFAULT_READING_DIR)
    paper = Document.objects.get(slug="sco-institutionalization")
    from annotations.models.courses import Role
    from tests.factories import AssignmentFactory, CourseFactory, MembershipFactory, UserFactory

    course = CourseFactory(reading=paper)
    student = MembershipFactory(course=course).user
    graders = [MembershipFactory(course=course, user=UserFactory(), role=Role.TA).user for _ in range(20)]
    assignment = AssignmentFactory(course=course)
    outcomes: list[str] = []
    barrier = threading.Barrier(len(graders))

    def grade(user, score: int) -> None:
        barrier.wait()
        try:
            services.grade_set(
                user=user, assignment=assignment, student=student, score=str(score % 10), expected_version=0
            )
            outcomes.append("won")
        except services.GradeConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=grade, args=(user, n)) for n, user in enumerate(graders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * 19 + ["won"]
    assert Grade.objects.get(assignment=assignment).version == 1


def test_releasing_grades_tells_each_student_once(assignment, instructor, author, groupmate, ta):
    services.grades_release(user=instructor, assignment=assignment)

    assert assignment.grades_released
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "author",
        "groupmate",
    ]
    with pytest.raises(ValidationError, match="already released"):
        services.grades_release(user=instructor, assignment=assignment)
    assert Notification.objects.count() == 2


def test_tas_cannot_release_and_instructors_can_withhold(assignment, instructor, ta):
    with pytest.raises(PermissionDenied):
        services.grades_release(user=ta, assignment=assignment)
    services.grades_release(user=instructor, assignment=assignment)
    services.grades_withhold(user=instructor, assignment=assignment)
    assert not assignment.grades_released
    with pytest.raises(ValidationError, match="not released"):
        services.grades_withhold(user=instructor, assignment=assignment)


def test_work_made_for_an_anonymous_assignment_is_marked_and_unmarked_with_it(
    course, instructor, author, paper
):
    before = AnnotationFactory(course=course, author=author)  # made before the assignment opens
    before.created_at = NOW - dt.timedelta(days=3)
    before.save()
    assignment = services.assignment_create(
        user=instructor, course=course, anonymous_to_peers=True, **settings_for()
    )
    paragraph = paper.paragraphs.get(order=1)
    made = annotation_services.annotation_create(
        user=author, course=course, paragraph=paragraph, start=0, end=10, body="Mine.", visibility="course"
    )
    old = AnnotationFactory(course=course, author=author)  # in the window, made before the option was set
    Annotation.objects.filter(pk=old.pk).update(anonymous_to_peers=False)

    assert made.anonymous_to_peers
    services.assignment_update(user=instructor, assignment=assignment, anonymous_to_peers=True)
    assert set(Annotation.objects.filter(anonymous_to_peers=True).values_list("pk", flat=True)) == {
        made.pk,
        old.pk,
    }
    services.assignment_update(user=instructor, assignment=assignment, anonymous_to_peers=False)
    assert not Annotation.objects.filter(anonymous_to_peers=True).exists()


def test_a_refused_update_leaves_the_callers_assignment_as_stored(assignment, instructor):
    with pytest.raises(ValidationError):
        services.assignment_update(user=instructor, assignment=assignment, title="", required_annotations=0)
    assert assignment.title.startswith("Assignment")
    assert assignment.required_annotations == 2


def test_releasing_grades_costs_the_same_queries_for_a_larger_class(course, instructor, assignment, group_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotations.models import NotificationPreference
    from tests.factories import AssignmentFactory, MembershipFactory

    def release_queries() -> int:
        fresh = AssignmentFactory(course=course)
        with CaptureQueriesContext(connection) as queries:
            services.grades_release(user=instructor, assignment=fresh)
        return len(queries.captured_queries)

    MembershipFactory(course=course, group=group_a)
    release_queries()  # the instructor's membership is read once, then remembered
    small = release_queries()
    for _ in range(20):
        student = MembershipFactory(course=course).user
        NotificationPreference.objects.create(user=student, kind="grade_released", delivery="email")
    assert release_queries() == small
    assert Notification.objects.filter(kind="grade_released").count() == 1 + 1 + 21


def test_students_who_chose_e_mail_get_their_release_notice_by_e_mail(
    assignment, instructor, author, groupmate, mailoutbox, django_capture_on_commit_callbacks
):
    from annotations.models import NotificationPreference

    author.email = "author@example.org"
    author.save()
    NotificationPreference.objects.create(user=author, kind="grade_released", delivery="email")
    with django_capture_on_commit_callbacks(execute=True):
        services.grades_release(user=instructor, assignment=assignment)

    assert [message.to for message in mailoutbox] == [["author@example.org"]]
    assert "is out" in mailoutbox[0].subject
