"""Threads, posts and reactions: the services' rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from annotations.models import Claim, Notification, Post, Reaction
from annotations.services import threads as services
from tests.factories import AnnotationFactory


@pytest.fixture
def claim(paper):
    return Claim.objects.filter(paragraph__document=paper).first()


@pytest.fixture
def group_thread(author, group_a, course, claim):
    return services.thread_create(
        user=author, course=course, title="On the claim", body="First post", group=group_a, claim=claim
    )


def test_it_opens_a_thread_with_its_first_post(group_thread, author):
    assert group_thread.posts.get().body == "First post"
    assert group_thread.author == author
    assert group_thread.last_post_at is not None


def test_a_student_cannot_open_a_thread_in_another_group(author, course, group_b):
    with pytest.raises(ValidationError) as error:
        services.thread_create(user=author, course=course, title="x", body="y", group=group_b)
    assert services.NOT_YOUR_GROUP in error.value.messages


def test_staff_open_threads_in_any_group(ta, course, group_b):
    thread = services.thread_create(user=ta, course=course, title="x", body="y", group=group_b)
    assert thread.group == group_b


def test_outsiders_cannot_open_threads(other_course_student, course):
    with pytest.raises(PermissionDenied):
        services.thread_create(user=other_course_student, course=course, title="x", body="y")


def test_a_target_must_belong_to_the_course(author, course, other_course, other_course_student, paper):
    annotation = AnnotationFactory(author=other_course_student, course=other_course, visibility="course")
    with pytest.raises(ValidationError):
        services.thread_create(user=author, course=course, title="x", body="y", annotation=annotation)


def test_a_locked_thread_refuses_new_posts(group_thread, author, ta):
    services.thread_lock(user=ta, thread=group_thread)
    with pytest.raises(ValidationError) as error:
        services.post_create(user=author, thread=group_thread, body="more")
    assert error.value.messages == ["This thread is locked: no new posts."]


def test_only_staff_pin_lock_and_move(group_thread, author, instructor, group_b):
    for act in (services.thread_pin, services.thread_lock):
        with pytest.raises(PermissionDenied):
            act(user=author, thread=group_thread)
    with pytest.raises(PermissionDenied):
        services.thread_move(user=author, thread=group_thread, group=None)
    services.thread_pin(user=instructor, thread=group_thread)
    services.thread_move(user=instructor, thread=group_thread, group=group_b)
    group_thread.refresh_from_db()
    assert group_thread.pinned
    assert group_thread.group == group_b


def test_a_thread_cannot_move_to_another_courses_group(group_thread, instructor, other_course):
    from tests.factories import GroupFactory

    with pytest.raises(ValidationError):
        services.thread_move(user=instructor, thread=group_thread, group=GroupFactory(course=other_course))


def test_other_groups_cannot_post(group_thread, other_group_student):
    with pytest.raises(PermissionDenied):
        services.post_create(user=other_group_student, thread=group_thread, body="hi")


def test_a_reply_must_be_in_the_same_thread(group_thread, author, course):
    other = services.thread_create(user=author, course=course, title="x", body="y")
    with pytest.raises(ValidationError):
        services.post_create(user=author, thread=group_thread, body="r", parent=other.posts.get())


def test_mentions_notify_members_who_see_the_thread_only(
    group_thread, author, groupmate, other_group_student, other_course_student, ta
):
    post = services.post_create(
        user=author,
        thread=group_thread,
        body="@groupmate @other_group_student @other_course_student @ta look",
    )
    assert set(post.mentions.values_list("username", flat=True)) == {"groupmate", "ta"}
    notified = set(Notification.objects.filter(kind="mention").values_list("recipient__username", flat=True))
    assert notified == {"groupmate", "ta"}


def test_a_reply_notifies_the_parents_author(group_thread, author, groupmate):
    parent = group_thread.posts.get()
    services.post_create(user=groupmate, thread=group_thread, body="I agree", parent=parent)
    notification = Notification.objects.get(recipient=author)
    assert notification.kind == "reply"
    assert "#post-" in notification.url


def test_editing_keeps_the_history(group_thread, author, groupmate):
    post = group_thread.posts.get()
    services.post_edit(user=author, post=post, body="Second version")
    post.refresh_from_db()
    assert post.edited_at is not None
    assert post.body == "Second version"
    assert list(post.revisions.values_list("body", flat=True)) == ["First post"]
    with pytest.raises(PermissionDenied):
        services.post_edit(user=groupmate, post=post, body="not mine")


def test_deleting_leaves_a_tombstone_that_keeps_replies(group_thread, author, groupmate):
    post = group_thread.posts.get()
    reply = services.post_create(user=groupmate, thread=group_thread, body="reply", parent=post)
    services.post_delete(user=author, post=post)
    post.refresh_from_db()
    assert post.deleted_at is not None
    assert Post.objects.get(pk=reply.pk).parent_id == post.pk


def test_helpful_is_once_per_user_and_toggles(group_thread, groupmate, ta, author, course):
    post = group_thread.posts.get()
    assert services.reaction_toggle(user=groupmate, post=post) is True
    assert services.reaction_toggle(user=ta, post=post) is True
    assert post.reactions.count() == 2
    assert services.reaction_toggle(user=groupmate, post=post) is False
    assert post.reactions.count() == 1
    annotation = AnnotationFactory(author=author, course=course, visibility="course")
    assert services.reaction_toggle(user=groupmate, annotation=annotation) is True
    assert Reaction.objects.filter(annotation=annotation).count() == 1


def test_helpful_is_refused_to_those_who_cannot_see(group_thread, other_group_student):
    with pytest.raises(PermissionDenied):
        services.reaction_toggle(user=other_group_student, post=group_thread.posts.get())


def test_mention_candidates_are_members_only(course, author, groupmate, other_course_student, outsider):
    assert services.mention_candidates(user=author, course=course, prefix="gr") == ["groupmate"]
    assert services.mention_candidates(user=author, course=course, prefix="other_c") == []
    assert services.mention_candidates(user=outsider, course=course, prefix="") == []
