"""/api/v1/threads/ and /api/v1/posts/: the visibility rule, writes, filters, query counts."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annotations.models import Claim, Notification
from annotations.services import threads as services

THREADS = "/api/v1/threads/"
POSTS = "/api/v1/posts/"


@pytest.fixture
def claim(paper):
    return Claim.objects.filter(paragraph__document=paper).first()


@pytest.fixture
def group_thread(author, group_a, course, claim):
    return services.thread_create(
        user=author, course=course, title="Group talk", body="In the group", group=group_a, claim=claim
    )


@pytest.fixture
def course_thread(author, course):
    return services.thread_create(user=author, course=course, title="Course talk", body="For all")


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_anonymous_gets_401():
    assert APIClient().get(THREADS).status_code == 401
    assert APIClient().get(POSTS).status_code == 401


@pytest.mark.parametrize(
    ("username", "sees_group", "sees_course"),
    [
        ("author", True, True),
        ("groupmate", True, True),
        ("other_group_student", False, True),
        ("ungrouped_student", False, True),
        ("other_course_student", False, False),
        ("ta", True, True),
        ("instructor", True, True),
        ("other_instructor", False, False),
        ("curator", True, True),
        ("outsider", False, False),
    ],
)
def test_the_visibility_matrix(request, group_thread, course_thread, username, sees_group, sees_course):
    user = request.getfixturevalue(username)
    client = client_for(user)
    titles = {row["title"] for row in client.get(THREADS).data["results"]}
    assert ("Group talk" in titles) is sees_group
    assert ("Course talk" in titles) is sees_course
    assert client.get(f"{THREADS}{group_thread.pk}/").status_code == (200 if sees_group else 404)
    bodies = {row["body"] for row in client.get(POSTS).data["results"]}
    assert ("In the group" in bodies) is sees_group
    post = group_thread.posts.get()
    assert client.get(f"{POSTS}{post.pk}/").status_code == (200 if sees_group else 404)


def test_a_member_opens_a_thread_and_replies(author, groupmate, course, group_a, claim):
    response = client_for(author).post(
        THREADS,
        {
            "course": course.pk,
            "group": group_a.pk,
            "title": "New",
            "body": "Hi @groupmate",
            "claim": claim.key,
        },
    )
    assert response.status_code == 201, response.data
    assert response.data["claim"] == claim.key
    assert response.data["group"] == group_a.pk
    first = Notification.objects.get(recipient=groupmate)
    assert first.kind == "mention"
    thread_id = response.data["id"]
    post_id = client_for(author).get(POSTS, {"thread": thread_id}).data["results"][0]["id"]
    reply = client_for(groupmate).post(POSTS, {"thread": thread_id, "parent": post_id, "body": "**yes**"})
    assert reply.status_code == 201
    assert reply.data["parent"] == post_id
    assert reply.data["body_html"] == "<p><strong>yes</strong></p>\n"
    assert Notification.objects.filter(recipient=author, kind="reply").exists()


def test_a_student_of_another_course_cannot_create_in_it(other_course_student, course):
    response = client_for(other_course_student).post(
        THREADS, {"course": course.pk, "title": "x", "body": "y"}
    )
    assert response.status_code == 404


def test_a_locked_thread_refuses_posts_with_400(group_thread, author, ta):
    response = client_for(ta).patch(f"{THREADS}{group_thread.pk}/", {"locked": True})
    assert response.status_code == 200
    assert response.data["locked"] is True
    response = client_for(author).post(POSTS, {"thread": group_thread.pk, "body": "more"})
    assert response.status_code == 400
    assert response.data["non_field_errors"] == ["This thread is locked: no new posts."]


def test_students_cannot_moderate(group_thread, author):
    response = client_for(author).patch(f"{THREADS}{group_thread.pk}/", {"pinned": True})
    assert response.status_code == 403


def test_staff_move_a_thread_between_groups(group_thread, instructor, other_group_student, group_b):
    response = client_for(instructor).patch(f"{THREADS}{group_thread.pk}/", {"group": group_b.pk})
    assert response.data["group"] == group_b.pk
    assert client_for(other_group_student).get(f"{THREADS}{group_thread.pk}/").status_code == 200


def test_authors_edit_and_delete_their_posts(group_thread, author, groupmate):
    post = group_thread.posts.get()
    assert client_for(groupmate).patch(f"{POSTS}{post.pk}/", {"body": "x"}).status_code == 403
    response = client_for(author).patch(f"{POSTS}{post.pk}/", {"body": "changed"})
    assert response.data["edited"] is True
    assert response.data["body"] == "changed"
    assert post.revisions.get().body == "In the group"
    assert client_for(author).delete(f"{POSTS}{post.pk}/").status_code == 204
    data = client_for(groupmate).get(f"{POSTS}{post.pk}/").data
    assert data["deleted"] is True
    assert data["body"] == ""


def test_helpful_toggles_once_per_user(group_thread, groupmate, other_group_student):
    post = group_thread.posts.get()
    url = f"{POSTS}{post.pk}/helpful/"
    assert client_for(groupmate).post(url).data == {"helpful": True, "helpful_count": 1}
    assert client_for(groupmate).post(url).data == {"helpful": False, "helpful_count": 0}
    assert client_for(other_group_student).post(url).status_code == 404


def test_filters(group_thread, course_thread, author, ta, claim, group_a):
    client = client_for(ta)
    by = lambda **params: {row["title"] for row in client.get(THREADS, params).data["results"]}  # noqa: E731
    assert by(claim=claim.key) == {"Group talk"}
    assert by(group=group_a.pk) == {"Group talk"}
    assert by(author="author") == {"Group talk", "Course talk"}
    assert by(created_after="2999-01-01T00:00:00Z") == set()
    assert len(client.get(POSTS, {"thread": course_thread.pk}).data["results"]) == 1
    assert client.get(POSTS, {"author": "nobody"}).data["results"] == []


def test_post_list_queries_are_bounded(group_thread, author, django_assert_max_num_queries):
    parent = group_thread.posts.get()
    for n in range(40):
        parent = services.post_create(user=author, thread=group_thread, body=f"@groupmate {n}", parent=parent)
    client = client_for(author)
    with django_assert_max_num_queries(8):
        response = client.get(POSTS, {"thread": group_thread.pk})
    assert len(response.data["results"]) == 41


def test_unread_threads_and_posts_are_those_posted_since_you_last_read(
    group_thread, course_thread, author, groupmate
):
    mate = client_for(groupmate)

    unread_before = {t["id"] for t in mate.get("/api/v1/threads/", {"unread": "true"}).json()["results"]}
    mate.get(f"/api/v1/threads/{group_thread.pk}/")  # reading the thread marks it read
    unread_after = {t["id"] for t in mate.get("/api/v1/threads/", {"unread": "true"}).json()["results"]}
    reply = services.post_create(user=author, thread=group_thread, body="Something new")
    unread_again = {t["id"] for t in mate.get("/api/v1/threads/", {"unread": "true"}).json()["results"]}
    new_posts = [
        p["id"]
        for p in mate.get("/api/v1/posts/", {"unread": "true", "thread": group_thread.pk}).json()["results"]
    ]
    own_posts = client_for(author).get("/api/v1/posts/", {"unread": "true", "thread": group_thread.pk}).json()

    assert unread_before == {group_thread.pk, course_thread.pk}
    assert unread_after == {course_thread.pk}
    assert unread_again == {group_thread.pk, course_thread.pk}
    assert new_posts == [reply.pk]
    assert all(p["author"] != "author" for p in own_posts["results"])


def test_the_thread_page_marks_it_read(client, group_thread, course, groupmate):
    client.force_login(groupmate)

    client.get(f"/courses/{course.pk}/threads/{group_thread.pk}/")

    assert group_thread.visits.get(user=groupmate).last_read_at >= group_thread.last_post_at


def test_walking_a_courses_posts_lists_each_visible_post_once_oldest_first(
    group_thread, course_thread, author, groupmate, other_group_student, course, time_machine
):
    # The page's posts are chosen first and read in full after (``PostViewSet.page_rows``):
    # the walk must still give every post the reader may see once, in order, both ways.
    import datetime as dt

    from annotations.models import Post
    from annotations.models.moderated import ModerationState

    moment = dt.datetime(2027, 5, 1, 9, 0, tzinfo=dt.UTC)
    for n in range(13):
        # Shared timestamps: the pk breaks the ties.
        time_machine.move_to(moment + dt.timedelta(minutes=n % 3), tick=False)
        thread = group_thread if n % 2 else course_thread
        services.post_create(user=groupmate if n % 3 else author, thread=thread, body=f"Post {n}")
    hidden = Post.objects.filter(thread=course_thread).last()
    Post.objects.filter(pk=hidden.pk).update(moderation=ModerationState.HIDDEN)
    client = client_for(other_group_student)
    expected = list(
        Post.objects.filter(thread=course_thread)
        .exclude(pk=hidden.pk)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    pages, response = [], client.get(POSTS, {"course": course.pk, "page_size": 3})
    while True:
        pages.append([row["id"] for row in response.data["results"]])
        if not response.data["next"]:
            break
        response = client.get(response.data["next"])
    assert [pk for page in pages for pk in page] == expected
    back = client.get(response.data["previous"])
    assert [row["id"] for row in back.data["results"]] == pages[-2]
    assert all(row["helpful_count"] == 0 and row["author"] for row in back.data["results"])
