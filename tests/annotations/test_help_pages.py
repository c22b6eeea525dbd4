"""The newcomer's first minute: the start page, the help pages, an empty course's next steps,
and error pages that say what went wrong and what to do."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.urls import path, reverse
from django.views import defaults

from annotations import selectors
from annotations.models.annotation import Visibility
from annotations.models.challenges import ChallengeStatus, EvidenceStatus, Stance
from annotations.models.moderation import FlagReason
from annotations.services import threads as thread_services
from annotations.views.help import TOPICS, evidence_order, help_topic
from scoproject.middleware import database_unavailable_response
from tests.factories import AnnotationFactory, AssignmentFactory, UserFactory


def _text(response) -> str:
    return response.content.decode()


# -- help pages -----------------------------------------------------------------------------

# Each help page and words it must hold: the rules as the code applies them.
HELP_PAGES = {
    "help:index": ["Help", "Annotations", "Challenges", "Evidence status", "For instructors"],
    "help:annotations": ["only me", "my group", "the whole course", "Shift", "caret browsing", "Annotate this paragraph"],
    "help:challenges": ["must cite at least one source", "Responses", "partly upheld", "reopen"],
    "help:evidence": ["first that holds", "shared with the whole course", "erratum"],
    "help:assignments": ["late window", "extension", "releases the assignment", "All or nothing", "10 × (2/2 + 0/1) ÷ 2 = 5"],
    "help:moderation": ["review queue", "restore", "waits for approval", "audit log", "never told who flagged"],
    "help:instructors": ["join code", "Create groups", "Set the first assignment", "TA"],
}  # fmt: skip


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize("name", list(HELP_PAGES))
def test_each_help_page_explains_its_topic_to_anyone(client, reader, name, signed_in):
    if signed_in:
        client.force_login(reader)

    response = client.get(reverse(name))

    assert response.status_code == 200
    text = _text(response)
    for words in HELP_PAGES[name]:
        assert words in text, f"{name} lacks {words!r}"
    assert "<script" not in text


def test_the_help_index_links_to_every_topic(client, db):
    text = _text(client.get(reverse("help:index")))

    for slug, (title, _summary) in TOPICS.items():
        assert f'href="{reverse(f"help:{slug}")}"' in text
        assert title in text


def test_every_page_links_to_help_and_marks_it_current_on_help_pages(client, db):
    home = _text(client.get(reverse("annotations:home")))
    help_page = _text(client.get(reverse("help:evidence")))

    assert f'<a href="{reverse("help:index")}">Help</a>' in home
    assert f'<a href="{reverse("help:index")}" aria-current="page">Help</a>' in help_page


def test_the_evidence_page_lists_the_statuses_in_the_order_the_rule_applies_them(client, db):
    text = _text(client.get(reverse("help:evidence")))

    positions = [text.index(f'id="status-{status.value}"') for status in evidence_order()]
    assert positions == sorted(positions)
    assert [status.value for status in evidence_order()] == [
        "corrected",
        "disputed",
        "supported",
        "contested",
        "unchallenged",
    ]
    assert set(evidence_order()) == set(EvidenceStatus)


def test_the_challenges_page_names_every_stance_and_resolution(client, db):
    text = _text(client.get(reverse("help:challenges")))

    for stance in Stance:
        assert f"<dt>{stance.label}</dt>" in text
    for status in ChallengeStatus:
        if status != ChallengeStatus.OPEN:
            assert f"<strong>{status.label}</strong>" in text
    assert "disputes or qualifies</strong> a claim must cite at least one source" in text


def test_the_moderation_page_names_every_flag_reason(client, db):
    text = _text(client.get(reverse("help:moderation")))

    for reason in FlagReason:
        assert f"<li>{reason.label}" in text


def test_an_unknown_help_topic_is_not_found(rf):
    with pytest.raises(Http404):
        help_topic(rf.get("/help/nothing/"), topic="nothing")


# -- the start page ------------------------------------------------------------------------


def test_home_shows_both_starting_points_and_asks_a_visitor_to_sign_up_or_log_in(client, paper):
    text = _text(client.get(reverse("annotations:home")))

    assert "As a student" in text
    assert "As an instructor" in text
    for step in ("Join your course", "Read", "Annotate", "Challenge"):
        assert f"<strong>{step}</strong>" in text
    for step in ("Create a course", "Share the join code", "Set an assignment", "Moderate"):
        assert f"<strong>{step}</strong>" in text
    assert f'href="{reverse("signup")}"' in text
    assert f'href="{reverse("login")}?next={reverse("courses:list")}"' in text
    assert "Your courses" not in text


def test_home_lists_a_students_courses_with_their_role(client, course, author):
    client.force_login(author)

    text = _text(client.get(reverse("annotations:home")))

    assert "Your courses" in text
    assert f'<a href="{course.get_absolute_url()}">SCO Seminar</a> — student, Group A' in text
    assert f'href="{reverse("signup")}"' not in text
    assert f'href="{reverse("courses:create")}"' not in text
    assert "site staff give the permission to create courses" in text


def test_home_asks_a_user_in_no_course_to_join_one(client, reader):
    client.force_login(reader)

    text = _text(client.get(reverse("annotations:home")))

    assert "You are not in a course yet" in text
    assert f'<a href="{reverse("courses:list")}">Join a course</a>' in text


def test_home_offers_course_creation_to_whoever_may_create_courses(client, course, instructor):
    instructor.user_permissions.add(
        Permission.objects.get(codename="add_course", content_type__app_label="annotations")
    )
    client.force_login(instructor)

    text = _text(client.get(reverse("annotations:home")))

    assert f'<a href="{reverse("courses:create")}">create a course</a>' in text
    assert "— instructor" in text


# -- an empty course -------------------------------------------------------------------------


def test_an_empty_course_tells_a_student_to_open_the_reading_and_make_a_first_note(client, course, author):
    client.force_login(author)

    text = _text(client.get(course.get_absolute_url()))

    assert "Getting started" in text
    assert "Nothing has been written in this course yet." in text
    assert "<strong>Make a first note</strong>" in text
    assert f'href="{reverse("annotate:reading", kwargs={"pk": course.pk})}"' in text
    assert course.join_code not in text
    assert reverse("assignments:create", kwargs={"pk": course.pk}) not in text


def test_an_empty_course_tells_the_instructor_to_share_the_code_make_groups_and_set_an_assignment(
    client, course, instructor
):
    client.force_login(instructor)

    text = _text(client.get(course.get_absolute_url()))

    assert "Getting started" in text
    assert f'<strong>Share the join code</strong> <code class="join-code">{course.join_code}</code>' in text
    assert "<strong>Create groups</strong>" in text
    assert f'<a href="{reverse("courses:manage", kwargs={"pk": course.pk})}">Manage the course</a>' in text
    assert f'<a href="{reverse("assignments:create", kwargs={"pk": course.pk})}">New assignment</a>' in text
    assert "Make a first note" not in text


def test_an_empty_course_with_joining_off_says_to_switch_it_on(client, course, instructor):
    course.join_enabled = False
    course.save()
    client.force_login(instructor)

    text = _text(client.get(course.get_absolute_url()))

    assert "Joining with the code is off: switch it on" in text


def test_an_empty_course_tells_a_ta_what_the_role_does(client, course, ta):
    client.force_login(ta)

    text = _text(client.get(course.get_absolute_url()))

    assert "Getting started" in text
    assert "resolve their challenges, review flagged work and grade" in text
    assert reverse("assignments:create", kwargs={"pk": course.pk}) not in text


def _private_note(course, author):
    AnnotationFactory(course=course, author=author, visibility=Visibility.PRIVATE)


def _assignment(course, author):
    AssignmentFactory(course=course)


def _thread(course, author):
    thread_services.thread_create(user=author, course=course, title="Where to begin?", body="Any thoughts?")


@pytest.mark.parametrize(
    "make_work", [_private_note, _assignment, _thread], ids=["note", "assignment", "thread"]
)
def test_the_next_steps_go_once_the_course_has_work(client, course, author, groupmate, instructor, make_work):
    make_work(course, author)

    for user in (groupmate, instructor):
        client.force_login(user)
        text = _text(client.get(course.get_absolute_url()))
        assert "Getting started" not in text
        assert f'href="{reverse("annotate:reading", kwargs={"pk": course.pk})}"' in text


def test_whether_a_course_has_work_costs_one_query(course, author, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert selectors.course_has_work(course) is False
    AnnotationFactory(course=course, author=author)
    with django_assert_num_queries(1):
        assert selectors.course_has_work(course) is True


# -- error pages ---------------------------------------------------------------------------


def _boom(request: HttpRequest):
    raise RuntimeError("an unexpected failure")


# A test URL configuration: the project's pages, and one that fails.
urlpatterns = [path("boom/", _boom)]


@override_settings(DEBUG=False)
def test_a_missing_page_says_what_may_be_wrong_and_where_to_go(db):
    client = Client(raise_request_exception=False)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    text = _text(response)
    assert "We could not find that page" in text
    assert "mistyped" in text
    assert "may not be yours to see" in text
    assert f'<a href="{reverse("annotations:home")}">The start page</a>' in text
    assert f'href="{reverse("login")}"' in text


@override_settings(DEBUG=False)
def test_another_courses_page_is_the_same_helpful_not_found_with_a_link_to_my_courses(other_course, author):
    client = Client(raise_request_exception=False)
    client.force_login(author)

    response = client.get(other_course.get_absolute_url())

    assert response.status_code == 404
    text = _text(response)
    assert "We could not find that page" in text
    assert "Another seminar" not in text
    assert f'<a href="{reverse("courses:list")}">My courses</a>' in text
    assert "You are signed in as <strong>author</strong>" in text


@override_settings(DEBUG=False)
def test_a_refused_page_says_why_and_to_ask_the_instructor(course, author):
    client = Client(raise_request_exception=False)
    client.force_login(author)

    response = client.get(reverse("courses:manage", kwargs={"pk": course.pk}))

    assert response.status_code == 403
    text = _text(response)
    assert "You may not do this" in text
    assert "<strong>ask your course's instructor</strong>" in text
    assert "signed in as <strong>author</strong>" in text
    assert f'<a href="{reverse("courses:list")}">My courses</a>' in text


def test_the_403_page_renders_the_reason_it_was_given(rf, db):
    request = rf.get("/")
    request.user = UserFactory(username="someone")

    response = defaults.permission_denied(
        request, PermissionDenied("Only the course's instructors can do that.")
    )

    assert response.status_code == 403
    assert "Only the course&#x27;s instructors can do that." in _text(response)


@pytest.mark.urls(__name__)
@override_settings(DEBUG=False)
def test_a_server_error_says_it_was_not_you_and_your_work_is_safe(db):
    client = Client(raise_request_exception=False)

    response = client.get("/boom/")

    assert response.status_code == 500
    text = _text(response)
    assert "Something went wrong on our side" in text
    assert "Nothing you did caused this" in text
    assert "your work is safe" in text
    assert "try again" in text
    assert "an unexpected failure" not in text


def test_the_500_page_renders_without_the_database(rf):
    # No ``db`` fixture: any query here fails the test.
    response = defaults.server_error(rf.get("/somewhere/"))

    assert response.status_code == 500
    assert "your work is safe" in _text(response)


def test_the_503_page_renders_without_the_database(rf):
    response = database_unavailable_response(rf.get("/claims/"))

    assert response.status_code == 503
    text = _text(response)
    assert "Your work is safe" in text
    assert 'href="/claims/"' in text


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("413.html", "shorten the text (or split it into several notes or posts), and send it again"),
        ("429.html", "wait a moment, and send your change again"),
    ],
)
def test_the_413_and_429_pages_say_what_to_do(template, words):
    text = render_to_string(template, {"message": "The message of the refusal."})

    assert "The message of the refusal." in text
    assert words in text
