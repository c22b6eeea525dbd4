"""Assignments and grades in the admin: grades change through the grading service, with
its checks and its version; releasing grades is an admin action."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from annotations.models import Notification
from annotations.models.assignments import Grade
from annotations.services import assignments as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def grade(assignment, ta, author) -> Grade:
    return services.grade_set(user=ta, assignment=assignment, student=author, score="6", feedback="Fair.")


def grade_url(grade: Grade) -> str:
    return reverse("admin:annotations_grade_change", args=[grade.pk])


def post_grade(client, grade: Grade, **data):
    form = {"score": "7", "feedback": "Better.", "seen_version": grade.version, **data}
    return client.post(grade_url(grade), form)


def test_site_staff_see_assignments_and_grades(client, curator, assignment, grade):
    client.force_login(curator)
    listing = client.get(reverse("admin:annotations_assignment_changelist")).content.decode()
    change = client.get(reverse("admin:annotations_assignment_change", args=[assignment.pk]))
    assert assignment.title in listing
    assert change.status_code == 200
    assert "author" in client.get(reverse("admin:annotations_grade_changelist")).content.decode()


def test_a_grade_saved_in_the_admin_goes_through_the_service(client, curator, grade):
    client.force_login(curator)
    response = post_grade(client, grade)
    assert response.status_code == 302
    grade.refresh_from_db()
    assert (grade.score, grade.feedback_html, grade.graded_by, grade.version) == (
        Decimal("7.00"),
        "<p>Better.</p>\n",
        curator,
        2,
    )


def test_a_stale_grade_form_is_refused_with_the_current_state(client, curator, ta, grade):
    client.force_login(curator)
    seen = grade.version
    services.grade_set(
        user=ta, assignment=grade.assignment, student=grade.student, score="9", expected_version=seen
    )
    response = post_grade(client, grade, seen_version=seen)
    assert response.status_code == 200
    assert "Someone else changed this grade first" in response.content.decode()
    grade.refresh_from_db()
    assert grade.score == Decimal("9.00")


def test_a_score_above_the_points_is_refused_on_its_field(client, curator, grade):
    client.force_login(curator)
    response = post_grade(client, grade, score="12")
    assert "A score cannot be more than the assignment&#x27;s 10 points." in response.content.decode()
    grade.refresh_from_db()
    assert grade.score == Decimal("6.00")


def test_the_release_action_releases_and_notifies(client, curator, assignment, author, groupmate):
    client.force_login(curator)
    client.post(
        reverse("admin:annotations_assignment_changelist"),
        {"action": "release_grades", "_selected_action": [assignment.pk]},
    )
    assignment.refresh_from_db()
    assert assignment.grades_released
    assert Notification.objects.filter(kind="grade_released").count() == 2
