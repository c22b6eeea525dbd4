"""Moderation services: flags, acts on the review queue with a version check, pre-moderation,
notifications, and the append-only audit log (of moderation and grading acts)."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from annotations import selectors
from annotations.models import AuditEntry, Flag, Membership, ModerationItem, Notification, Post
from annotations.models.annotation import Visibility
from annotations.models.moderated import ModerationState
from annotations.models.moderation import FlagStatus, ItemStatus
from annotations.services import annotations as annotation_services
from annotations.services import assignments as assignment_services
from annotations.services import moderation as services
from annotations.services import sources as source_services
from annotations.services import threads as thread_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(course, author, group_a):
    return thread_services.thread_create(user=author, course=course, title="On p-1", body="Opening post.")


@pytest.fixture
def post(thread, author):
    return thread_services.post_create(user=author, thread=thread, body="Something off-topic.")


def act(user, item, action, reason="", version=None):
    item.refresh_from_db()
    return services.moderate(
        user=user,
        item=item,
        action=action,
        reason=reason,
        expected_version=item.version if version is None else version,
    )


def test_a_member_flags_work_once_and_it_enters_the_queue(post, groupmate, other_group_student):
    services.flag_create(user=groupmate, target=post, reason="off_topic")
    services.flag_create(user=other_group_student, target=post, reason="other", text="Not about the paper.")

    item = ModerationItem.objects.get(post=post)
    assert (item.status, item.flag_count, item.kind, item.author.username) == (
        ItemStatus.OPEN,
        2,
        "post",
        "author",
    )
    with pytest.raises(ValidationError, match="already flagged"):
        services.flag_create(user=groupmate, target=post, reason="spam")
    assert Flag.objects.count() == 2


@pytest.mark.parametrize(
    ("who", "reason", "text", "error"),
    [
        ("author", "spam", "", ValidationError),  # own work
        ("groupmate", "other", "  ", ValidationError),  # "other" needs words
        ("groupmate", "rude", "", ValidationError),  # no such reason
        ("other_course_student", "spam", "", PermissionDenied),
        ("outsider", "spam", "", PermissionDenied),
    ],
)
def test_bad_flags_are_refused_and_nothing_is_written(request, post, who, reason, text, error):
    with pytest.raises(error):
        services.flag_create(user=request.getfixturevalue(who), target=post, reason=reason, text=text)
    assert not Flag.objects.exists()


def test_a_student_cannot_flag_what_they_cannot_see(course, author, other_group_student, paper):
    note = annotation_services.annotation_create(
        user=author,
        course=course,
        paragraph=paper.paragraphs.get(order=1),
        start=0,
        end=10,
        body="For my group.",
        visibility=Visibility.GROUP,
    )
    with pytest.raises(PermissionDenied):
        services.flag_create(user=other_group_student, target=note, reason="spam")


def test_hiding_needs_a_reason_and_tells_the_author_and_the_flaggers(post, groupmate, ta):
    services.flag_create(user=groupmate, target=post, reason="off_topic")
    item = ModerationItem.objects.get(post=post)
    with pytest.raises(ValidationError) as refused:
        act(ta, item, "hide")
    assert refused.value.message_dict == {"reason": [services.NEEDS_REASON]}

    act(ta, item, "hide", reason="Off-topic: keep threads on the reading.")

    post.refresh_from_db()
    item.refresh_from_db()
    assert (post.moderation, post.moderation_reason, post.moderated_by) == (
        ModerationState.HIDDEN,
        "Off-topic: keep threads on the reading.",
        ta,
    )
    assert (item.status, item.flag_count, item.last_action) == (ItemStatus.CLOSED, 0, "hide")
    assert Flag.objects.get().status == FlagStatus.UPHELD
    news = {n.recipient.username: n.text for n in Notification.objects.filter(kind="moderation")}
    assert news == {
        "author": "Your post was hidden by a moderator: Off-topic: keep threads on the reading.",
        "groupmate": "The post you flagged was hidden. Thank you.",
    }


def test_nothing_is_destroyed_restoring_brings_the_work_back(post, ta, groupmate):
    item = services.hide(user=ta, target=post, reason="Spam.")
    assert not selectors.visible_posts(groupmate).filter(pk=post.pk).exists()
    act(ta, item, "restore")
    post.refresh_from_db()
    assert (post.moderation, post.moderation_reason, post.body) == ("published", "", "Something off-topic.")
    assert selectors.visible_posts(groupmate).filter(pk=post.pk).exists()


def test_dismissing_and_reviewing_close_the_flags_and_leave_the_work(
    post, groupmate, other_group_student, ta
):
    services.flag_create(user=groupmate, target=post, reason="spam")
    item = ModerationItem.objects.get(post=post)
    act(ta, item, "dismiss")
    assert Flag.objects.get(flagger=groupmate).status == FlagStatus.DISMISSED
    services.flag_create(user=other_group_student, target=post, reason="spam")
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN  # a new flag reopens it
    act(ta, item, "review")
    post.refresh_from_db()
    assert post.moderation == ModerationState.PUBLISHED
    assert Flag.objects.get(flagger=other_group_student).status == FlagStatus.REVIEWED


@pytest.mark.parametrize("who", ["author", "groupmate", "other_instructor", "outsider"])
def test_only_the_courses_staff_moderate(request, post, who):
    item = ModerationItem.objects.create(
        course=post.thread.course, kind="post", post=post, author=post.author
    )
    with pytest.raises(PermissionDenied):
        act(request.getfixturevalue(who), item, "hide", reason="No.")
    assert not AuditEntry.objects.exists()


def test_acting_on_a_stale_version_is_a_conflict_with_the_current_state(post, groupmate, ta, instructor):
    services.flag_create(user=groupmate, target=post, reason="spam")
    item = ModerationItem.objects.get(post=post)
    seen = item.version
    act(ta, item, "dismiss", version=seen)
    with pytest.raises(services.ModerationConflict) as conflict:
        act(instructor, item, "hide", reason="Spam.", version=seen)
    assert (conflict.value.current.last_action, conflict.value.current.version) == ("dismiss", seen + 1)
    post.refresh_from_db()
    assert post.moderation == ModerationState.PUBLISHED
    assert AuditEntry.objects.filter(action__startswith="moderation.").count() == 1


def test_a_bulk_act_does_every_item_it_can_and_reports_the_rest(course, author, thread, ta, instructor):
    posts = [thread_services.post_create(user=author, thread=thread, body=f"Post {n}") for n in range(3)]
    items = [services._item_for(p, course) for p in posts]
    act(instructor, items[1], "hide", reason="Already dealt with.")

    outcomes = services.moderate_many(
        user=ta, acts=[(item, 1) for item in items], action="hide", reason="Off-topic."
    )

    assert [o.done for o in outcomes] == [True, False, True]
    assert outcomes[1].message == services.CONFLICT
    assert [Post.objects.get(pk=p.pk).moderation_reason for p in posts] == [
        "Off-topic.",
        "Already dealt with.",
        "Off-topic.",
    ]


def test_every_act_is_audited_with_the_state_before_and_after(post, ta):
    item = services.hide(user=ta, target=post, reason="Rude.")
    act(ta, item, "restore")
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [(e.action, e.actor_name, e.target_type, e.target_id) for e in entries] == [
        ("moderation.hide", "ta", "post", str(post.pk)),
        ("moderation.restore", "ta", "post", str(post.pk)),
    ]
    assert (entries[0].before["moderation"], entries[0].after["moderation"], entries[0].reason) == (
        "published",
        "hidden",
        "Rude.",
    )
    assert entries[1].after["moderation"] == "published"


def test_grading_acts_are_audited(assignment, ta, instructor, author):
    assignment_services.grade_set(user=ta, assignment=assignment, student=author, score="7", feedback="Good.")
    assignment_services.grade_set(user=instructor, assignment=assignment, student=author, score="8")
    assignment_services.grades_release(user=instructor, assignment=assignment)

    entries = list(AuditEntry.objects.order_by("pk").values_list("action", "actor_name", "before", "after"))
    assert entries[0][:2] == ("grading.grade", "ta")
    assert entries[1][2]["score"] == "7.00"
    assert entries[1][3]["score"] == "8.00"
    assert entries[2][:2] == ("grading.release", "instructor")


def test_the_audit_log_refuses_changes_and_deletion(post, ta):
    services.hide(user=ta, target=post, reason="Rude.")
    entry = AuditEntry.objects.get()
    entry.reason = "Rewritten."
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(reason="Rewritten.")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().reason == "Rude."


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="The trigger that keeps the audit log append-only is PostgreSQL's; SQLite relies on the model.",
)
def test_postgresql_itself_refuses_to_change_the_audit_log(post, ta):
    services.hide(user=ta, target=post, reason="Rude.")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE annotations_auditentry SET reason = 'Rewritten.'")
    assert AuditEntry.objects.get().reason == "Rude."


# -- pre-moderation ---------------------------------------------------------------------------


def test_in_a_premoderated_course_students_work_waits_and_staff_work_does_not(
    course, instructor, author, groupmate, ta, thread
):
    services.course_set_premoderation(user=instructor, course=course, enabled=True)
    waiting = thread_services.post_create(user=author, thread=thread, body="Mine.")
    staff_post = thread_services.post_create(user=ta, thread=thread, body="Staff's.")

    assert (waiting.moderation, staff_post.moderation) == ("pending", "published")
    assert ModerationItem.objects.get(post=waiting).status == ItemStatus.OPEN
    assert not selectors.visible_posts(groupmate).filter(pk=waiting.pk).exists()
    assert selectors.visible_posts(author).filter(pk=waiting.pk).exists()
    act(ta, ModerationItem.objects.get(post=waiting), "approve")
    assert selectors.visible_posts(groupmate).filter(pk=waiting.pk).exists()
    assert AuditEntry.objects.filter(action="moderation.course_premoderation", actor=instructor).exists()


def test_a_waiting_mention_notifies_nobody_until_it_is_approved(
    course, instructor, author, groupmate, ta, thread
):
    services.course_set_premoderation(user=instructor, course=course, enabled=True)
    waiting = thread_services.post_create(user=author, thread=thread, body="What do you think, @groupmate?")
    assert not Notification.objects.filter(recipient=groupmate).exists()

    act(ta, ModerationItem.objects.get(post=waiting), "approve")

    assert Notification.objects.get(recipient=groupmate, kind="mention").url.endswith(f"#post-{waiting.pk}")
    assert Notification.objects.get(recipient=author, kind="moderation").text == (
        "Your post was approved and is now visible."
    )


def test_staff_put_one_student_under_premoderation(course, ta, author, groupmate, thread):
    membership = Membership.objects.get(course=course, user=author)
    services.membership_set_premoderated(
        user=ta, membership=membership, enabled=True, reason="Repeated spam."
    )

    assert thread_services.post_create(user=author, thread=thread, body="Again.").moderation == "pending"
    assert thread_services.post_create(user=groupmate, thread=thread, body="Fine.").moderation == "published"
    source, _ = source_services.source_add(
        user=author, course=course, kind="book", authors=["Doe, Jane"], year=2001, title="A book"
    )
    assert source.moderation == "pending"
    entry = AuditEntry.objects.get(action="moderation.student_premoderation")
    assert (entry.reason, entry.before, entry.after) == (
        "Repeated spam.",
        {"premoderated": False},
        {"premoderated": True},
    )


def test_students_and_tas_cannot_switch_course_premoderation(course, ta, author):
    for user in (ta, author):
        with pytest.raises(PermissionDenied):
            services.course_set_premoderation(user=user, course=course, enabled=True)
    course.refresh_from_db()
    assert not course.premoderation


def test_an_open_premoderated_assignment_holds_work_in_its_scope_only(
    course, instructor, author, paper, assignment
):
    assignment_services.assignment_update(
        user=instructor,
        assignment=assignment,
        premoderation=True,
        claims=[paper.paragraphs.get(order=2).claims.first()],
    )
    inside = annotation_services.annotation_create(
        user=author, course=course, paragraph=paper.paragraphs.get(order=2), start=0, end=10, body="In scope."
    )
    outside = annotation_services.annotation_create(
        user=author,
        course=course,
        paragraph=paper.paragraphs.get(order=5),
        start=0,
        end=10,
        body="Elsewhere.",
    )
    assert (inside.moderation, outside.moderation) == ("pending", "published")


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="SQLite serialises writers itself and has no SELECT … FOR UPDATE; run with DATABASE_URL=postgres://…",
)
@pytest.mark.django_db(transaction=True)
def test_twenty_moderators_at_once_make_exactly_one_act():
    from annotations.models import Document
    from annotations.services import reading_load

    # A transactional test starts from an empty database: load the paper for it.
    reading_load(path=settings.DEFAULT_READING_DIR)
    paper = Document.objects.get(slug="sco-institutionalization")
    from annotations.models.courses import Role
    from tests.factories import CourseFactory, MembershipFactory, UserFactory

    course = CourseFactory(reading=paper)
    student = MembershipFactory(course=course).user
    moderators = [MembershipFactory(course=course, user=UserFactory(), role=Role.TA).user for _ in range(20)]
    thread = thread_services.thread_create(user=student, course=course, title="T", body="First.")
    item = services._item_for(thread.posts.get(), course)
    outcomes: list[str] = []
    barrier = threading.Barrier(len(moderators))

    def hide(user) -> None:
        barrier.wait()
        try:
            services.moderate(user=user, item=item, action="hide", reason=f"By {user}", expected_version=1)
            outcomes.append("won")
        except services.ModerationConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=hide, args=(user,)) for user in moderators]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["conflict"] * 19 + ["won"]
    assert AuditEntry.objects.filter(action="moderation.hide").count() == 1
    assert ModerationItem.objects.get(pk=item.pk).version == 2
