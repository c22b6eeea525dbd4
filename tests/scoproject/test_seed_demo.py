"""The demo accounts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotations.models import Claim, Course, Membership
from annotations.models.courses import Role
from annotations.services.challenges import evidence_for

pytestmark = pytest.mark.django_db


def test_it_creates_the_demo_course_with_two_groups(paper):
    call_command("seed_demo")

    course = Course.objects.get(join_code="SCO-DEMO")
    roles = {m.user.username: (m.role, m.group.name if m.group else None) for m in course.memberships.all()}
    assert course.title == "SCO Seminar"
    assert course.reading == paper
    assert roles["instructor"] == (Role.INSTRUCTOR, None)
    assert roles["ta"] == (Role.TA, None)
    assert {roles[f"student{n}"] for n in (1, 2, 3)} == {(Role.STUDENT, "Group A")}
    assert {roles[f"student{n}"] for n in (4, 5, 6)} == {(Role.STUDENT, "Group B")}
    assert get_user_model().objects.get(username="instructor").has_perm("annotations.add_course")


def test_it_needs_the_paper_loaded(paper):
    paper.paragraphs.all().delete()
    paper.sections.all().delete()
    paper.delete()

    with pytest.raises(CommandError, match="load_reading"):
        call_command("seed_demo")


def test_it_creates_the_demo_accounts_with_the_demo_password(paper, capsys, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-pass-2026")

    call_command("seed_demo")

    User = get_user_model()
    names = set(User.objects.values_list("username", flat=True))
    assert {"curator", "instructor", "ta", *(f"student{n}" for n in range(1, 7))} <= names
    assert User.objects.get(username="student3").check_password("another-pass-2026")
    assert User.objects.get(username="curator").is_superuser
    assert not User.objects.get(username="student1").is_staff
    assert "password: another-pass-2026" in capsys.readouterr().out


def test_running_it_twice_changes_nothing(paper, capsys):
    call_command("seed_demo")
    before = list(get_user_model().objects.order_by("pk").values_list("pk", "password"))
    memberships = list(Membership.objects.order_by("pk").values_list("pk", "course", "user", "role", "group"))

    call_command("seed_demo")

    assert list(get_user_model().objects.order_by("pk").values_list("pk", "password")) == before
    assert (
        list(Membership.objects.order_by("pk").values_list("pk", "course", "user", "role", "group"))
        == memberships
    )
    assert Course.objects.filter(join_code="SCO-DEMO").count() == 1
    assert "Created 0 demo account(s); 0 password(s) reset." in capsys.readouterr().out


def test_a_dry_run_writes_nothing(paper):
    call_command("seed_demo", "--dry-run")

    assert not get_user_model().objects.filter(username="student1").exists()
    assert not Course.objects.filter(join_code="SCO-DEMO").exists()


def test_the_demo_course_has_challenges_and_links_in_every_status(paper):
    call_command("seed_demo")
    call_command("seed_demo")  # the examples are made once

    course = Course.objects.get(join_code="SCO-DEMO")
    statuses = {c.status for c in course.challenges.all()}
    evidence = evidence_for(
        course, list(Claim.objects.filter(key__in=["c-28-4", "c-05-2", "c-21-2", "c-15-1"]))
    )
    by_key = {Claim.objects.get(pk=pk).key: e.status for pk, e in evidence.items()}
    assert statuses == {"open", "upheld", "rejected"}
    assert by_key == {
        "c-28-4": "disputed",
        "c-05-2": "contested",
        "c-21-2": "supported",
        "c-15-1": "unchallenged",
    }
    assert sorted(p.status for p in course.link_proposals.all()) == ["accepted", "declined", "proposed"]
    assert course.link_proposals.get(status="proposed").date_disagrees


def test_the_demo_course_has_a_first_assignment_that_student1_has_partly_done(paper):
    from annotations import grading
    from annotations.models import Assignment

    call_command("seed_demo")
    call_command("seed_demo")  # the assignment and its work are made once

    assignment = Assignment.objects.get(course__join_code="SCO-DEMO")
    assert assignment.title == "Week 1: from the Shanghai Five to the SCO"
    assert grading.Scope(assignment).describe().startswith("International Coordination")
    progress = {p.student.username: p for p in grading.class_progress(assignment)}
    assert len(progress) == 6
    assert progress["student1"].tallies["annotations"].counted == 2
    assert progress["student1"].missing == {"annotations": 1, "replies": 2}
    assert not progress["student3"].tallies["annotations"].counted
