"""/api/v1/assignments/: who reads, sets, changes and deletes assignments; progress, grades,
extensions and release by role; field errors with nothing written; the 409 on a stale
grade; query counts that do not grow with the class."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from annotations import grading
from annotations.api.assignments import GradeRowSerializer, ProgressSerializer, grade_data, progress_data
from annotations.models import Claim, Membership, Section
from annotations.models.assignments import Assignment, Extension, Grade
from annotations.models.courses import Role
from annotations.services import assignments as services
from tests.factories import AnnotationFactory, AssignmentFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/assignments/"
USERS = [
    "author", "groupmate", "other_group_student", "ungrouped_student", "other_course_student", "ta",
    "instructor", "other_instructor", "curator", "outsider",
]  # fmt: skip
MEMBERS = {"author", "groupmate", "other_group_student", "ungrouped_student", "ta", "instructor", "curator"}
STUDENTS = ["author", "groupmate", "other_group_student", "ungrouped_student"]


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def users(request) -> dict:
    return {name: request.getfixturevalue(name) for name in USERS}


@pytest.fixture
def section(paper) -> Section:
    return Section.objects.filter(document=paper).order_by("order").first()


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.filter(paragraph__document=paper).order_by("key").first()


def new_assignment(course, **fields) -> dict:
    now = timezone.now()
    body = {
        "course": course.pk,
        "title": "Read section one",
        "instructions": "Annotate *carefully*.",
        "opens_at": (now - dt.timedelta(days=1)).isoformat(),
        "due_at": (now + dt.timedelta(days=7)).isoformat(),
        "late_until": (now + dt.timedelta(days=9)).isoformat(),
        "requirements": {"annotations": 3, "sources": 1},
    }
    return {**body, **fields}


# -- reading ------------------------------------------------------------------------------


def test_anonymous_requests_are_refused_with_401(assignment, author):
    api = client_for(None)
    for url in [
        URL,
        f"{URL}{assignment.pk}/",
        f"{URL}{assignment.pk}/progress/",
        f"{URL}{assignment.pk}/grades/",
    ]:
        response = api.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
    assert client_for(None).post(URL, new_assignment(assignment.course), format="json").status_code == 401


def test_who_reads_an_assignment(assignment, users):
    for name, user in users.items():
        detail = client_for(user).get(f"{URL}{assignment.pk}/")
        listed = [row["id"] for row in client_for(user).get(URL).data["results"]]
        if name in MEMBERS:
            assert detail.status_code == 200, name
            assert detail.data["title"] == assignment.title
            assert listed == [assignment.pk], name
        else:
            assert detail.status_code == 404, name
            assert listed == [], name


def test_the_read_shape_shows_scope_requirements_and_status(course, instructor, author, section, claim):
    assignment = AssignmentFactory(course=course, late_penalty=20, required_links=1)
    assignment.sections.set([section])
    assignment.claims.set([claim])

    data = client_for(author).get(f"{URL}{assignment.pk}/").data

    assert data["scope"] == {
        "whole": False,
        "sections": [section.key],
        "claims": [claim.key],
        "description": f"{section.title}, {claim.key}",
    }
    assert data["requirements"] == {"annotations": 2, "challenges": 1, "sources": 0, "replies": 0, "links": 1}
    assert (data["status"], data["late_penalty"], data["points"]) == ("open", 20, "10.00")
    assert data["instructions_html"] == "<p>Annotate and challenge.</p>\n"
    assert data["url"].endswith(f"{URL}{assignment.pk}/")


def test_filters_by_course_status_and_due_date(course, other_course, curator, time_machine):
    time_machine.move_to(dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC))
    now = timezone.now()
    day = dt.timedelta(days=1)
    upcoming = AssignmentFactory(course=course, opens_at=now + day, due_at=now + 5 * day, late_until=None)
    open_ = AssignmentFactory(course=course, opens_at=now - day, due_at=now + 2 * day, late_until=None)
    late = AssignmentFactory(course=course, opens_at=now - 5 * day, due_at=now - day, late_until=now + day)
    closed = AssignmentFactory(course=course, opens_at=now - 9 * day, due_at=now - 3 * day, late_until=None)
    elsewhere = AssignmentFactory(course=other_course, opens_at=now - day, due_at=now + 3 * day)
    api = client_for(curator)

    def ids(**params) -> set[int]:
        response = api.get(URL, params)
        assert response.status_code == 200, response.data
        return {row["id"] for row in response.data["results"]}

    assert ids(status="upcoming") == {upcoming.pk}
    assert ids(status="open") == {open_.pk, elsewhere.pk}
    assert ids(status="late") == {late.pk}
    assert ids(status="closed") == {closed.pk}
    assert ids(course=other_course.pk) == {elsewhere.pk}
    assert ids(due_after=now.isoformat(), course=course.pk) == {upcoming.pk, open_.pk}
    assert ids(due_before=now.isoformat()) == {late.pk, closed.pk}
    assert {row["status"] for row in api.get(URL, {"course": course.pk}).data["results"]} == {
        "upcoming", "open", "late", "closed",
    }  # fmt: skip
    assert "status" in api.get(URL, {"status": "someday"}).data


def test_the_list_runs_a_fixed_number_of_queries(course, instructor, section, claim):
    api = client_for(instructor)
    AssignmentFactory(course=course).sections.set([section])
    with CaptureQueriesContext(connection) as one:
        assert api.get(URL).status_code == 200
    for _ in range(5):
        made = AssignmentFactory(course=course)
        made.sections.set([section])
        made.claims.set([claim])
    with CaptureQueriesContext(connection) as six:
        response = api.get(URL)
    assert len(response.data["results"]) == 6
    assert len(six.captured_queries) == len(one.captured_queries)


# -- setting, changing and deleting ----------------------------------------------------------


@pytest.mark.parametrize("name", ["instructor", "curator"])
def test_instructors_and_site_staff_set_an_assignment(course, users, name, section, claim):
    body = new_assignment(course, sections=[section.key], claims=[claim.key], scoring="all_or_nothing")

    response = client_for(users[name]).post(URL, body, format="json")

    assert response.status_code == 201, response.data
    made = Assignment.objects.get(pk=response.data["id"])
    assert (made.title, made.required_annotations, made.required_sources, made.required_challenges) == (
        "Read section one", 3, 1, 0,
    )  # fmt: skip
    assert [s.key for s in made.sections.all()] == [section.key]
    assert [c.key for c in made.claims.all()] == [claim.key]
    assert made.created_by == users[name]
    assert response.data["instructions_html"] == "<p>Annotate <em>carefully</em>.</p>\n"
    assert response.data["scope"]["whole"] is False
    assert response.data["scoring"] == "all_or_nothing"


@pytest.mark.parametrize("name", ["ta", "author"])
def test_tas_and_students_may_not_set_an_assignment(course, users, name):
    response = client_for(users[name]).post(URL, new_assignment(course), format="json")

    assert response.status_code == 403
    assert response.data["detail"] == services.NOT_INSTRUCTOR
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("name", ["other_instructor", "outsider"])
def test_setting_an_assignment_in_a_course_you_cannot_see_names_the_course(course, users, name):
    response = client_for(users[name]).post(URL, new_assignment(course), format="json")

    assert response.status_code == 400
    assert response.data["course"] == [f"There is no course {course.pk} that you can see."]
    assert not Assignment.objects.exists()


def test_unknown_section_and_claim_keys_are_named_field_by_field(course, instructor, section):
    body = new_assignment(course, sections=[section.key, "no-such-section"], claims=["NO-SUCH-CLAIM"])

    response = client_for(instructor).post(URL, body, format="json")

    assert response.status_code == 400
    assert response.data == {
        "sections": ["The course's reading has no section 'no-such-section'."],
        "claims": ["The course's reading has no claim 'NO-SUCH-CLAIM'."],
    }
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"requirements": {}}, "requirements", services.NOTHING_REQUIRED),
        ({"due_at": "2020-01-01T00:00:00Z"}, "due_at", services.DUE_BEFORE_OPEN),
        ({"late_penalty": 150}, "late_penalty", "Ensure this value is less than or equal to 100."),
        ({"requirements": {"annotations": -1}}, "requirements", None),
        ({"work_mode": "solo"}, "work_mode", '"solo" is not a valid choice.'),
        ({"title": ""}, "title", "This field may not be blank."),
    ],
)
def test_bad_settings_are_a_400_naming_the_field_and_nothing_is_written(
    course, instructor, changes, field, message
):
    response = client_for(instructor).post(URL, new_assignment(course, **changes), format="json")

    assert response.status_code == 400
    assert set(response.data) == {field}
    if message:
        assert message in response.data[field]
    assert not Assignment.objects.exists()


def test_patch_changes_only_what_is_sent(assignment, instructor, section):
    response = client_for(instructor).patch(
        f"{URL}{assignment.pk}/",
        {"title": "Renamed", "requirements": {"replies": 4}, "sections": [section.key]},
        format="json",
    )

    assert response.status_code == 200, response.data
    assignment.refresh_from_db()
    assert assignment.title == "Renamed"
    assert assignment.required() == {
        "annotations": 2,
        "challenges": 1,
        "sources": 0,
        "replies": 4,
        "links": 0,
    }
    assert response.data["scope"]["sections"] == [section.key]
    assert response.data["instructions"] == "Annotate and challenge."


def test_put_replaces_every_setting(assignment, instructor):
    body = new_assignment(assignment.course, title="Replaced", requirements={"links": 2})
    del body["course"], body["instructions"]

    response = client_for(instructor).put(f"{URL}{assignment.pk}/", body, format="json")

    assert response.status_code == 200, response.data
    assignment.refresh_from_db()
    assert (assignment.title, assignment.instructions) == ("Replaced", "")
    assert assignment.required() == {
        "annotations": 0,
        "challenges": 0,
        "sources": 0,
        "replies": 0,
        "links": 2,
    }


def test_a_bad_patch_writes_nothing(assignment, instructor):
    response = client_for(instructor).patch(
        f"{URL}{assignment.pk}/", {"title": "Renamed", "claims": ["NO-SUCH-CLAIM"]}, format="json"
    )

    assert response.status_code == 400
    assert response.data == {"claims": ["The course's reading has no claim 'NO-SUCH-CLAIM'."]}
    assignment.refresh_from_db()
    assert assignment.title != "Renamed"


@pytest.mark.parametrize(("name", "code"), [("ta", 403), ("author", 403), ("other_instructor", 404)])
def test_only_instructors_change_or_delete_an_assignment(assignment, users, name, code):
    api = client_for(users[name])
    title = assignment.title

    changed = api.patch(f"{URL}{assignment.pk}/", {"title": "Mine now"}, format="json")
    deleted = api.delete(f"{URL}{assignment.pk}/")

    assert (changed.status_code, deleted.status_code) == (code, code)
    assert Assignment.objects.get(pk=assignment.pk).title == title


def test_an_instructor_deletes_an_assignment_without_grades(assignment, instructor):
    response = client_for(instructor).delete(f"{URL}{assignment.pk}/")

    assert response.status_code == 204
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


def test_an_assignment_with_grades_is_not_deleted(assignment, instructor, author):
    services.grade_set(user=instructor, assignment=assignment, student=author, score="5")

    response = client_for(instructor).delete(f"{URL}{assignment.pk}/")

    assert response.status_code == 400
    assert response.data == {"non_field_errors": [services.HAS_GRADES]}
    assert Assignment.objects.filter(pk=assignment.pk).exists()


# -- progress -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ta", "instructor", "curator"])
def test_staff_see_every_students_progress(assignment, users, name, course):
    AnnotationFactory(course=course, author=users["author"])

    response = client_for(users[name]).get(f"{URL}{assignment.pk}/progress/")

    assert response.status_code == 200
    rows = {row["student"]["username"]: row for row in response.data}
    assert sorted(rows) == sorted(STUDENTS)
    mine = rows["author"]
    assert mine["group"]["name"] == "Group A"
    assert rows["ungrouped_student"]["group"] is None
    assert mine["tallies"]["annotations"] == {
        "required": 2, "on_time": 1, "late": 0, "counted": 1, "missing": 1, "met": False,
    }  # fmt: skip
    assert set(mine["tallies"]) == {"annotations", "challenges"}
    assert (mine["auto_score"], mine["score"], mine["overridden"], mine["graded"]) == (
        "2.50",
        "2.50",
        False,
        False,
    )
    assert mine["formula"] == "10 × (1/2 + 0/1) ÷ 2 = 2.5"
    assert mine["window"]["extended"] is False


def test_staff_narrow_progress_to_a_group(assignment, ta, author, groupmate, other_group_student, group_b):
    response = client_for(ta).get(f"{URL}{assignment.pk}/progress/", {"group": group_b.pk})
    bad = client_for(ta).get(f"{URL}{assignment.pk}/progress/", {"group": "B"})

    assert [row["student"]["username"] for row in response.data] == ["other_group_student"]
    assert bad.status_code == 400
    assert "group" in bad.data


def test_a_student_sees_only_their_own_progress_and_their_score_once_released(
    assignment, course, author, groupmate, instructor
):
    AnnotationFactory(course=course, author=author)
    services.grade_set(user=instructor, assignment=assignment, student=author, score="9", feedback="Good")
    api = client_for(author)

    before = api.get(f"{URL}{assignment.pk}/progress/")
    services.grades_release(user=instructor, assignment=assignment)
    after = api.get(f"{URL}{assignment.pk}/progress/")

    assert [row["student"]["username"] for row in before.data] == ["author"]
    row = before.data[0]
    assert row["tallies"]["annotations"]["counted"] == 1
    assert (row["auto_score"], row["formula"]) == ("2.50", "10 × (1/2 + 0/1) ÷ 2 = 2.5")
    assert (row["score"], row["overridden"]) == (None, None)
    assert (after.data[0]["score"], after.data[0]["overridden"]) == ("9.00", True)


@pytest.mark.parametrize("report", ["progress", "grades"])
@pytest.mark.parametrize("name", ["other_instructor", "other_course_student", "outsider"])
def test_the_reports_of_another_course_are_a_404(assignment, users, name, report):
    response = client_for(users[name]).get(f"{URL}{assignment.pk}/{report}/")

    assert response.status_code == 404
    assert response.data["detail"] == "No such assignment."


@pytest.mark.parametrize("report", ["progress", "grades"])
def test_the_reports_of_a_missing_assignment_are_a_404(assignment, instructor, report):
    response = client_for(instructor).get(f"{URL}{assignment.pk + 1000}/{report}/")

    assert response.status_code == 404
    assert response.data["detail"] == "No such assignment."


# -- grades -------------------------------------------------------------------------------


def test_staff_read_every_grade_row(assignment, ta, instructor, author, groupmate):
    services.grade_set(user=instructor, assignment=assignment, student=author, score="7.5", feedback="*Good*")

    response = client_for(ta).get(f"{URL}{assignment.pk}/grades/")

    rows = {row["student"]["username"]: row for row in response.data}
    assert sorted(rows) == ["author", "groupmate"]
    graded = rows["author"]
    assert (graded["auto_score"], graded["score"], graded["final_score"], graded["version"]) == (
        "0.00", "7.50", "7.50", 1,
    )  # fmt: skip
    assert (graded["feedback"], graded["feedback_html"], graded["graded_by"]) == (
        "*Good*", "<p><em>Good</em></p>\n", "instructor",
    )  # fmt: skip
    assert graded["graded_at"] is not None
    ungraded = rows["groupmate"]
    assert (ungraded["score"], ungraded["final_score"], ungraded["version"], ungraded["graded_by"]) == (
        None, "0.00", 0, None,
    )  # fmt: skip


def test_a_student_reads_only_their_own_grade_and_only_once_released(
    assignment, instructor, author, groupmate
):
    services.grade_set(user=instructor, assignment=assignment, student=author, score="6", feedback="Fine")
    api = client_for(author)

    before = api.get(f"{URL}{assignment.pk}/grades/")
    services.grades_release(user=instructor, assignment=assignment)
    after = api.get(f"{URL}{assignment.pk}/grades/")

    assert (before.status_code, before.data) == (200, [])
    assert [(row["student"]["username"], row["final_score"], row["feedback"]) for row in after.data] == [
        ("author", "6.00", "Fine")
    ]


@pytest.mark.parametrize("name", ["ta", "instructor", "curator"])
def test_staff_grade_a_student(assignment, users, name):
    author = users["author"]

    response = client_for(users[name]).put(
        f"{URL}{assignment.pk}/grades/{author.pk}/", {"score": 8, "feedback": "Well argued.", "version": 0}
    )

    assert response.status_code == 200, response.data
    assert (response.data["score"], response.data["final_score"], response.data["version"]) == (
        "8.00",
        "8.00",
        1,
    )
    grade = Grade.objects.get(assignment=assignment, student=author)
    assert (grade.score, grade.feedback, grade.graded_by) == (Decimal("8.00"), "Well argued.", users[name])


def test_a_null_score_keeps_the_automatic_score(assignment, ta, author):
    response = client_for(ta).put(
        f"{URL}{assignment.pk}/grades/{author.pk}/", {"score": None, "feedback": "See me.", "version": 0}
    )

    assert (response.data["score"], response.data["final_score"], response.data["feedback"]) == (
        None, response.data["auto_score"], "See me.",
    )  # fmt: skip
    assert Grade.objects.get(assignment=assignment, student=author).score is None


def test_grading_on_a_stale_version_is_a_409_with_the_current_grade(assignment, ta, instructor, author):
    services.grade_set(user=instructor, assignment=assignment, student=author, score="4", feedback="First")

    response = client_for(ta).put(
        f"{URL}{assignment.pk}/grades/{author.pk}/", {"score": "9", "feedback": "Second", "version": 0}
    )

    assert response.status_code == 409
    assert response.data["detail"] == services.CONFLICT
    current = response.data["current"]
    assert (current["score"], current["feedback"], current["version"], current["graded_by"]) == (
        "4.00", "First", 1, "instructor",
    )  # fmt: skip
    grade = Grade.objects.get(assignment=assignment, student=author)
    assert (grade.score, grade.feedback, grade.version) == (Decimal("4.00"), "First", 1)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"score": "eleven", "version": 0}, "score", services.SCORE_NOT_A_NUMBER),
        ({"score": "11", "version": 0}, "score", services.SCORE_TOO_HIGH.format("10")),
        ({"score": "-1", "version": 0}, "score", services.SCORE_NEGATIVE),
        ({"score": "5"}, "version", "This field is required."),
    ],
)
def test_a_bad_grade_is_a_400_naming_the_field_and_nothing_is_written(
    assignment, ta, author, body, field, message
):
    response = client_for(ta).put(f"{URL}{assignment.pk}/grades/{author.pk}/", body, format="json")

    assert response.status_code == 400
    assert response.data == {field: [message]}
    assert not Grade.objects.exists()


@pytest.mark.parametrize(("name", "code"), [("author", 403), ("groupmate", 403), ("other_instructor", 404)])
def test_students_and_other_courses_may_not_grade(assignment, users, name, code):
    response = client_for(users[name]).put(
        f"{URL}{assignment.pk}/grades/{users['author'].pk}/", {"score": "10", "version": 0}, format="json"
    )

    assert response.status_code == code
    assert "detail" in response.data
    assert not Grade.objects.exists()


@pytest.mark.parametrize("name", ["ta", "other_course_student", "outsider"])
def test_grading_someone_who_is_not_a_student_of_the_course_is_a_404(assignment, users, name):
    response = client_for(users["instructor"]).put(
        f"{URL}{assignment.pk}/grades/{users[name].pk}/", {"score": "10", "version": 0}, format="json"
    )

    assert response.status_code == 404
    assert response.data["detail"] == "No such student in this course."
    assert not Grade.objects.exists()


# -- extensions ---------------------------------------------------------------------------


def test_staff_grant_list_and_revoke_an_extension(assignment, ta, author):
    api = client_for(ta)
    due = assignment.due_at + dt.timedelta(days=3)

    granted = api.post(
        f"{URL}{assignment.pk}/extensions/",
        {"student": author.pk, "due_at": due.isoformat(), "reason": "Ill"},
        format="json",
    )
    listed = api.get(f"{URL}{assignment.pk}/extensions/")
    window = api.get(f"{URL}{assignment.pk}/progress/").data
    revoked = api.delete(f"{URL}{assignment.pk}/extensions/{author.pk}/")
    again = api.delete(f"{URL}{assignment.pk}/extensions/{author.pk}/")

    assert granted.status_code == 201, granted.data
    assert (granted.data["student"]["username"], granted.data["reason"], granted.data["granted_by"]) == (
        "author", "Ill", "ta",
    )  # fmt: skip
    assert [row["student"]["id"] for row in listed.data] == [author.pk]
    assert [row["window"]["extended"] for row in window] == [True]
    assert revoked.status_code == 204
    assert again.status_code == 404
    assert not Extension.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"student": "other_course_student", "days": 3}, "student"),
        ({"student": "author", "days": -1}, "due_at"),
        ({"student": "author", "days": None}, "due_at"),
    ],
)
def test_a_bad_extension_is_a_400_naming_the_field(assignment, users, body, field):
    student = users[body["student"]]
    data = {"student": student.pk}
    if body["days"] is not None:
        data["due_at"] = (assignment.due_at + dt.timedelta(days=body["days"])).isoformat()

    response = client_for(users["instructor"]).post(f"{URL}{assignment.pk}/extensions/", data, format="json")

    assert response.status_code == 400
    assert list(response.data) == [field]
    assert not Extension.objects.exists()


@pytest.mark.parametrize(("name", "code"), [("author", 403), ("other_instructor", 404)])
def test_students_may_not_touch_extensions(assignment, users, name, code):
    api = client_for(users[name])
    Extension.objects.create(assignment=assignment, student=users["author"], due_at=assignment.due_at)
    due = (assignment.due_at + dt.timedelta(days=3)).isoformat()

    listed = api.get(f"{URL}{assignment.pk}/extensions/")
    granted = api.post(f"{URL}{assignment.pk}/extensions/", {"student": users["author"].pk, "due_at": due})
    revoked = api.delete(f"{URL}{assignment.pk}/extensions/{users['author'].pk}/")

    assert (listed.status_code, granted.status_code, revoked.status_code) == (code, code, code)
    assert Extension.objects.get().due_at == assignment.due_at


# -- release ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["instructor", "curator"])
def test_instructors_release_and_withhold_grades(assignment, users, name):
    api = client_for(users[name])

    released = api.post(f"{URL}{assignment.pk}/release/")
    twice = api.post(f"{URL}{assignment.pk}/release/")
    withheld = api.post(f"{URL}{assignment.pk}/withhold/")

    assert released.status_code == 200
    assert released.data["grades_released_at"] is not None
    assert twice.status_code == 400
    assert twice.data == {"non_field_errors": [services.ALREADY_RELEASED]}
    assert (withheld.status_code, withheld.data["grades_released_at"]) == (200, None)
    assert Assignment.objects.get(pk=assignment.pk).grades_released_at is None


@pytest.mark.parametrize(("name", "code"), [("ta", 403), ("author", 403), ("other_instructor", 404)])
def test_only_instructors_release_grades(assignment, users, name, code):
    response = client_for(users[name]).post(f"{URL}{assignment.pk}/release/")

    assert response.status_code == code
    assert Assignment.objects.get(pk=assignment.pk).grades_released_at is None


# -- query counts -------------------------------------------------------------------------


def _enrol(course, group, count: int, prefix: str = "student") -> list:
    User = get_user_model()
    made = User.objects.bulk_create([User(username=f"{prefix}{n:03d}") for n in range(count)])
    made = list(User.objects.filter(username__in=[user.username for user in made]).order_by("username"))
    Membership.objects.bulk_create(
        [Membership(course=course, user=user, role=Role.STUDENT, group=group) for user in made]
    )
    return made


def _queries(api: APIClient, url: str) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as context:
        response = api.get(url)
    assert response.status_code == 200, response.data
    return len(context.captured_queries), response.data


@pytest.mark.parametrize("size", [3, 300])
def test_progress_and_grades_run_a_fixed_number_of_queries_whatever_the_class_size(
    course, group_a, assignment, instructor, size, django_assert_max_num_queries
):
    students = _enrol(course, group_a, size)
    for student in students[:20]:
        AnnotationFactory(course=course, author=student)
    for student in students[:5]:
        services.grade_set(user=instructor, assignment=assignment, student=student, score="5")
    Extension.objects.create(
        assignment=assignment, student=students[0], due_at=assignment.due_at + dt.timedelta(days=1)
    )
    api = client_for(instructor)

    with django_assert_max_num_queries(20):
        progress = api.get(f"{URL}{assignment.pk}/progress/")
    with django_assert_max_num_queries(20):
        grades = api.get(f"{URL}{assignment.pk}/grades/")

    assert len(progress.data) == len(grades.data) == size
    assert progress.data[0]["tallies"]["annotations"]["counted"] == 1
    assert progress.data[0]["window"]["extended"] is True
    assert [row["final_score"] for row in grades.data[:2]] == ["5.00", "5.00"]


def test_progress_and_grades_cost_the_same_for_3_students_as_for_300(course, group_a, assignment, instructor):
    def fresh() -> APIClient:
        # A user object as each request gets it: it remembers its memberships once asked.
        return client_for(get_user_model().objects.get(pk=instructor.pk))

    few = _enrol(course, group_a, 3)
    AnnotationFactory(course=course, author=few[0])
    small = {name: _queries(fresh(), f"{URL}{assignment.pk}/{name}/")[0] for name in ("progress", "grades")}

    many = _enrol(course, None, 297, prefix="more")
    for student in many[:30]:
        AnnotationFactory(course=course, author=student)
    large = {name: _queries(fresh(), f"{URL}{assignment.pk}/{name}/") for name in ("progress", "grades")}

    assert {name: count for name, (count, _) in large.items()} == small
    assert len(large["progress"][1]) == 3 + 297


# -- the reports built directly -----------------------------------------------------------


@pytest.fixture
def varied_reports(assignment, course, instructor, author, groupmate, other_group_student, ungrouped_student):
    """Students with work on time and late, an extension, grades with and without an override
    and with feedback, a full name, a student with no group."""
    now = timezone.now()
    author.first_name, author.last_name = "Ada", "Lovelace"
    author.save(update_fields=["first_name", "last_name"])
    for n in range(3):
        AnnotationFactory(course=course, author=author, body=f"Note {n}.")
    AnnotationFactory(course=course, author=groupmate, body="One note.")
    services.extension_grant(
        user=instructor,
        assignment=assignment,
        student=groupmate,
        due_at=assignment.due_at + dt.timedelta(days=3),
    )
    services.grade_set(
        user=instructor, assignment=assignment, student=author, score="7.25", feedback="*Good*"
    )
    services.grade_set(
        user=instructor, assignment=assignment, student=other_group_student, feedback="See me."
    )
    assert now < assignment.due_at
    return assignment


def _drf(serializer_class, rows, **context) -> list:
    return json.loads(
        json.dumps(serializer_class(rows, many=True, context=context).data, cls=DjangoJSONEncoder)
    )


def _lean(data) -> list:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


@pytest.mark.parametrize("released", [False, True])
@pytest.mark.parametrize("who", ["instructor", "author", "groupmate", "ungrouped_student"])
def test_the_reports_built_from_standings_are_what_the_serializers_give_of_progress(
    varied_reports, users, who, released, rf
):
    user = users[who]
    if released:
        services.grades_release(user=users["instructor"], assignment=varied_reports)
        varied_reports.refresh_from_db()
    staff = who == "instructor"
    if staff:
        progress_rows = grading.class_progress(varied_reports)
        standings = grading.class_standings(varied_reports)
    else:
        progress_rows = [grading.student_progress(varied_reports, user)]
        standings = grading.class_standings(varied_reports, students=[user.pk])
    request = rf.get("/")
    request.user = user

    progress = _lean(progress_data(standings, shows_grade=staff or released))
    grades = _lean(grade_data(standings))

    assert progress == _drf(ProgressSerializer, progress_rows, request=request, staff=staff)
    assert grades == _drf(GradeRowSerializer, progress_rows)
    assert len(progress) == (4 if staff else 1)
    # The variety is there: an extension, an override, feedback without one, a full name.
    if staff:
        by_name = {row["student"]["username"]: row for row in progress}
        assert by_name["groupmate"]["window"]["extended"] is True
        assert by_name["author"]["student"]["name"] == "Ada Lovelace"
        assert by_name["author"]["tallies"]["annotations"]["counted"] == 3
        assert by_name["ungrouped_student"]["group"] is None
        assert {row["score"] for row in grades} >= {"7.25", None}
        assert "See me." in {row["feedback"] for row in grades}


def test_the_reports_endpoints_answer_what_the_builders_build(varied_reports, instructor, author):
    api = client_for(instructor)
    standings = grading.class_standings(varied_reports)

    progress = api.get(f"{URL}{varied_reports.pk}/progress/").json()
    grades = api.get(f"{URL}{varied_reports.pk}/grades/").json()
    own = client_for(author).get(f"{URL}{varied_reports.pk}/progress/").json()

    assert progress == _lean(progress_data(standings, shows_grade=True))
    assert grades == _lean(grade_data(standings))
    # The student's own line, without the grade until it is released.
    mine = next(row for row in progress if row["student"]["username"] == "author")
    assert mine["score"] == "7.25"
    assert own == [{**mine, "score": None, "overridden": None}]
