"""Twenty people at once, through the API, on PostgreSQL.

Acts on one version (resolving a challenge, grading, moderating): exactly one wins, the
nineteen others get a 409 that carries the state that won, nothing is overwritten, and one
audit entry (or notification) is written. Counters (flags on an item, "helpful" marks, replies
and the unread news they make) come out exact.

Each test commits for real from twenty threads, so it starts from an empty database and loads
the paper itself. SQLite serialises writers and has no ``SELECT … FOR UPDATE``: skipped there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from annotations.models import Claim, Document, Notification, Post, Reaction, Thread
from annotations.models.assignments import Grade
from annotations.models.challenges import Stance
from annotations.models.courses import Course, Role
from annotations.models.discussion import NotificationKind
from annotations.models.moderation import AuditEntry, Flag, ModerationItem
from annotations.services import reading_load
from annotations.services import threads as thread_services
from annotations.services.challenges import challenge_create
from tests.factories import AssignmentFactory, CourseFactory, MembershipFactory, UserFactory

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="SQLite serialises writers itself and has no SELECT … FOR UPDATE; run with DATABASE_URL=postgres://…",
    ),
    pytest.mark.django_db(transaction=True),
]

TWENTY = 20


def course_with(role: str, prefix: str) -> tuple[Course, Any, list]:
    """A course on the paper (loaded afresh: the database starts empty), its first student,
    and twenty members of ``role``."""
    reading_load(path=settings.DEFAULT_READING_DIR)
    course = CourseFactory(title="Race", reading=Document.objects.get(slug="sco-institutionalization"))
    student = MembershipFactory(course=course, user=UserFactory(username="racer"), role=Role.STUDENT).user
    many = [
        MembershipFactory(course=course, user=UserFactory(username=f"{prefix}{n:02d}"), role=role).user
        for n in range(TWENTY)
    ]
    return course, student, many


def all_at_once(users: list, act: Callable[[APIClient, Any], Any]) -> list[tuple[Any, Any]]:
    """Run ``act(client, user)`` for every user in threads released together; returns
    ``(user, response)`` pairs."""
    barrier = threading.Barrier(len(users))
    results: list[tuple[Any, Any]] = []
    lock = threading.Lock()

    def run(user) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait()
            response = act(client, user)
            with lock:
                results.append((user, response))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(users)
    return results


def one_winner(results: list[tuple[Any, Any]]) -> tuple[Any, Any, list]:
    """The single 200 and the nineteen 409s; fails on anything else."""
    assert sorted(response.status_code for _, response in results) == [200] + [409] * (TWENTY - 1)
    (winner, won), *_ = [(user, response) for user, response in results if response.status_code == 200]
    lost = [response.json() for _, response in results if response.status_code == 409]
    return winner, won.json(), lost


# One version, one winner -------------------------------------------------------------------------


def test_twenty_staff_resolving_one_challenge_make_one_resolution_and_nineteen_409s_with_it():
    course, student, staff = course_with(Role.TA, "ta")
    claim = Claim.objects.order_by("key").first()
    challenge = challenge_create(
        user=student, course=course, claim=claim, stance=Stance.SUPPORTS, argument="The record agrees."
    )
    url = f"/api/v1/challenges/{challenge.pk}/resolve/"

    results = all_at_once(
        staff,
        lambda client, user: client.post(
            url, {"status": "upheld", "feedback": f"Upheld by {user.username}.", "version": 1}, format="json"
        ),
    )

    winner, won, lost = one_winner(results)
    challenge.refresh_from_db()
    assert (challenge.status, challenge.version, challenge.resolved_by) == ("upheld", 2, winner)
    assert challenge.feedback == won["feedback"] == f"Upheld by {winner.username}."
    # Each loser is shown the winner's resolution, not its own.
    assert {(body["current"]["version"], body["current"]["feedback"]) for body in lost} == {
        (2, challenge.feedback)
    }
    assert all(body["detail"] for body in lost)
    # Resolving writes no audit entry; the one trace of it besides the row is the author's news.
    told = Notification.objects.filter(kind=NotificationKind.CHALLENGE_RESOLVED)
    assert [(n.recipient, n.actor) for n in told] == [(student, winner)]


def test_twenty_graders_at_once_make_one_grade_one_audit_entry_and_nineteen_409s_with_it():
    course, student, graders = course_with(Role.TA, "grader")
    assignment = AssignmentFactory(course=course, points=10)
    url = f"/api/v1/assignments/{assignment.pk}/grades/{student.pk}/"

    results = all_at_once(
        graders,
        lambda client, user: client.put(
            url,
            {"score": str(int(user.username[-2:]) % 10), "feedback": user.username, "version": 0},
            format="json",
        ),
    )

    winner, won, lost = one_winner(results)
    grade = Grade.objects.get(assignment=assignment, student=student)
    assert (grade.version, grade.feedback, grade.graded_by) == (1, winner.username, winner)
    assert won["feedback"] == winner.username
    assert {
        (body["current"]["version"], body["current"]["feedback"], body["current"]["score"]) for body in lost
    } == {(1, winner.username, f"{grade.score:.2f}")}
    entries = list(AuditEntry.objects.filter(action="grading.grade"))
    assert [(e.actor, e.target_id, e.after["version"]) for e in entries] == [(winner, str(grade.pk), 1)]


def test_twenty_moderators_hiding_one_item_make_one_act_one_audit_entry_and_nineteen_409s_with_it():
    course, student, moderators = course_with(Role.TA, "mod")
    flagger = MembershipFactory(course=course, user=UserFactory(username="flagger"), role=Role.STUDENT).user
    thread = thread_services.thread_create(user=student, course=course, title="Off-topic?", body="Buy now.")
    post = thread.posts.get()
    client = APIClient()
    client.force_authenticate(flagger)
    assert (
        client.post("/api/v1/flags/", {"kind": "post", "target": str(post.pk), "reason": "spam"}).status_code
        == 201
    )
    item = ModerationItem.objects.get(post=post)

    results = all_at_once(
        moderators,
        lambda client, user: client.post(
            f"/api/v1/moderation/{item.pk}/act/",
            {"action": "hide", "reason": f"Hidden by {user.username}.", "version": 1},
            format="json",
        ),
    )

    winner, won, lost = one_winner(results)
    item.refresh_from_db()
    post.refresh_from_db()
    assert (item.version, item.flag_count, item.last_action_by) == (2, 0, winner)
    assert (post.moderation, post.moderation_reason) == ("hidden", f"Hidden by {winner.username}.")
    assert won["version"] == 2
    assert {(body["current"]["version"], body["current"]["state"]) for body in lost} == {(2, "hidden")}
    entries = list(AuditEntry.objects.filter(action="moderation.hide"))
    assert [(e.actor, e.reason) for e in entries] == [(winner, post.moderation_reason)]
    assert list(Flag.objects.values_list("status", flat=True)) == ["upheld"]


# Counters ----------------------------------------------------------------------------------------


def test_twenty_students_flagging_one_post_at_once_count_twenty_flags():
    course, student, flaggers = course_with(Role.STUDENT, "student")
    thread = thread_services.thread_create(user=student, course=course, title="Rude", body="Something rude.")
    post = thread.posts.get()

    results = all_at_once(
        flaggers,
        lambda client, user: client.post(
            "/api/v1/flags/",
            {"kind": "post", "target": str(post.pk), "reason": "inappropriate"},
            format="json",
        ),
    )

    assert [response.status_code for _, response in results] == [201] * TWENTY
    item = ModerationItem.objects.get(post=post)
    assert (item.flag_count, item.status) == (TWENTY, "open")
    assert Flag.objects.filter(item=item, status="open").count() == TWENTY
    assert set(Flag.objects.values_list("flagger__username", flat=True)) == {u.username for u in flaggers}
    staff = MembershipFactory(course=course, user=UserFactory(username="queue_ta"), role=Role.TA).user
    client = APIClient()
    client.force_authenticate(staff)
    queue = client.get("/api/v1/moderation/", {"course": course.pk}).json()["results"]
    assert [(row["id"], row["flag_count"]) for row in queue] == [(item.pk, TWENTY)]


def test_twenty_members_marking_one_post_helpful_at_once_show_twenty():
    course, student, readers = course_with(Role.STUDENT, "reader")
    thread = thread_services.thread_create(user=student, course=course, title="Useful", body="A useful note.")
    post = thread.posts.get()
    url = f"/api/v1/posts/{post.pk}/helpful/"

    results = all_at_once(readers, lambda client, user: client.post(url))

    assert [(response.status_code, response.json()["helpful"]) for _, response in results] == [
        (200, True)
    ] * TWENTY
    # Each answer counted the marks committed by then; none may count more than there are.
    assert max(response.json()["helpful_count"] for _, response in results) <= TWENTY
    assert Reaction.objects.filter(post=post).count() == TWENTY
    client = APIClient()
    client.force_authenticate(student)
    assert client.get(f"/api/v1/posts/{post.pk}/").json()["helpful_count"] == TWENTY


def test_twenty_replies_at_once_count_exactly_in_the_thread_and_in_the_unread_news():
    course, student, repliers = course_with(Role.STUDENT, "replier")
    thread = thread_services.thread_create(user=student, course=course, title="Dates", body="Which year?")
    first = thread.posts.get()
    reader = MembershipFactory(course=course, user=UserFactory(username="reader"), role=Role.STUDENT).user
    reading = APIClient()
    reading.force_authenticate(reader)
    assert reading.get(f"/api/v1/threads/{thread.pk}/").json()["post_count"] == 1  # marks it read

    results = all_at_once(
        repliers,
        lambda client, user: client.post(
            "/api/v1/posts/",
            {"thread": thread.pk, "parent": first.pk, "body": f"{user.username}: 2001."},
            format="json",
        ),
    )

    assert [response.status_code for _, response in results] == [201] * TWENTY
    assert Post.objects.filter(thread=thread).count() == TWENTY + 1
    # The thread's last activity is its latest post, whatever order the replies committed in.
    latest = Post.objects.filter(thread=thread).order_by("-created_at").first()
    assert Thread.objects.get(pk=thread.pk).last_post_at == latest.created_at
    unread = reading.get("/api/v1/posts/", {"thread": thread.pk, "unread": "true"}).json()["results"]
    assert len(unread) == TWENTY
    assert [row["id"] for row in reading.get("/api/v1/threads/", {"unread": "true"}).json()["results"]] == [
        thread.pk
    ]
    # The author of the post replied to hears of each reply once.
    author = APIClient()
    author.force_authenticate(student)
    news = author.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]
    assert len(news) == TWENTY
    assert {row["kind"] for row in news} == {"reply"}
    assert author.get(f"/api/v1/threads/{thread.pk}/").json()["post_count"] == TWENTY + 1
