"""Discussion pages: visibility, forms with and without htmx, nesting in bounded queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Claim, Notification, Post
from annotations.services import threads as services


@pytest.fixture
def claim(paper):
    return Claim.objects.filter(paragraph__document=paper).first()


@pytest.fixture
def group_thread(author, group_a, course, claim):
    return services.thread_create(
        user=author, course=course, title="Group talk", body="In the group", group=group_a, claim=claim
    )


def detail_url(thread) -> str:
    return reverse("threads:detail", args=[thread.course_id, thread.pk])


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("author", 200),
        ("groupmate", 200),
        ("ta", 200),
        ("curator", 200),
        ("other_group_student", 404),
        ("ungrouped_student", 404),
        ("other_course_student", 404),
        ("outsider", 404),
    ],
)
def test_who_sees_a_group_thread(request, client, group_thread, username, status):
    client.force_login(request.getfixturevalue(username))
    response = client.get(detail_url(group_thread))
    assert response.status_code == status
    if status == 200:
        assert "In the group" in response.content.decode()


def test_the_list_shows_only_visible_threads(client, group_thread, other_group_student, course):
    services.thread_create(user=other_group_student, course=course, title="Whole course", body="x")
    client.force_login(other_group_student)
    page = client.get(reverse("threads:list", args=[course.pk])).content.decode()
    assert "Whole course" in page
    assert "Group talk" not in page


def test_anonymous_is_sent_to_log_in(client, group_thread):
    response = client.get(detail_url(group_thread))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_a_thread_is_opened_on_a_claim_from_the_list(client, author, course, group_a, claim):
    client.force_login(author)
    url = reverse("threads:list", args=[course.pk]) + f"?claim={claim.key}"
    page = client.get(url).content.decode()
    assert "Group A" in page
    response = client.post(url, {"title": "About it", "group": group_a.pk, "body": "What now?"})
    thread = course.threads.get()
    assert response.status_code == 302
    assert response.url == detail_url(thread)
    assert thread.claim == claim
    assert thread.group == group_a


def test_the_group_select_offers_only_the_students_group(client, author, course, group_a, group_b):
    client.force_login(author)
    response = client.post(
        reverse("threads:list", args=[course.pk]), {"title": "x", "group": group_b.pk, "body": "y"}
    )
    assert response.status_code == 400
    assert not course.threads.exists()


def test_a_reply_without_javascript_redirects(client, group_thread, groupmate, author):
    client.force_login(groupmate)
    parent = group_thread.posts.get()
    url = reverse("threads:post", args=[group_thread.course_id, group_thread.pk])
    response = client.post(url, {"body": "Plain reply", "parent": parent.pk})
    reply = Post.objects.get(body="Plain reply")
    assert response.status_code == 302
    assert response.url.endswith(f"#post-{reply.pk}")
    assert reply.parent == parent
    assert Notification.objects.filter(recipient=author, kind="reply").exists()


def test_a_reply_with_htmx_returns_the_fragment(client, group_thread, groupmate):
    client.force_login(groupmate)
    url = reverse("threads:post", args=[group_thread.course_id, group_thread.pk])
    response = client.post(
        url, {"body": "Live reply", "parent": group_thread.posts.get().pk}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith('<li id="post-')
    assert "Live reply" in body
    assert "<html" not in body


def test_a_locked_thread_shows_a_notice_and_refuses_posts(client, group_thread, author, ta):
    services.thread_lock(user=ta, thread=group_thread)
    client.force_login(author)
    page = client.get(detail_url(group_thread)).content.decode()
    assert "This thread is locked: no new posts." in page
    assert "Post reply" not in page
    url = reverse("threads:post", args=[group_thread.course_id, group_thread.pk])
    response = client.post(url, {"body": "more"})
    assert response.status_code == 400
    assert "This thread is locked: no new posts." in response.content.decode()


def test_staff_moderate_from_the_page_and_students_cannot(client, group_thread, author, ta, group_b):
    url = reverse("threads:moderate", args=[group_thread.course_id, group_thread.pk])
    client.force_login(author)
    assert client.post(url, {"act": "pin"}).status_code == 403
    client.force_login(ta)
    client.post(url, {"act": "pin"})
    client.post(url, {"act": "move", "group": group_b.pk})
    group_thread.refresh_from_db()
    assert group_thread.pinned
    assert group_thread.group == group_b


def test_edit_marks_the_post_and_shows_history(client, group_thread, author, groupmate):
    post = group_thread.posts.get()
    client.force_login(groupmate)
    assert client.get(reverse("threads:post-edit", args=[post.pk])).status_code == 403
    client.force_login(author)
    client.post(reverse("threads:post-edit", args=[post.pk]), {"body": "Better words"})
    page = client.get(detail_url(group_thread)).content.decode()
    assert "Better words" in page
    assert "(edited)" in page
    assert "In the group" in client.get(reverse("threads:post-edit", args=[post.pk])).content.decode()


def test_delete_leaves_a_tombstone_with_its_replies(client, group_thread, author, groupmate):
    post = group_thread.posts.get()
    services.post_create(user=groupmate, thread=group_thread, body="Still here", parent=post)
    client.force_login(author)
    client.post(reverse("threads:post-delete", args=[post.pk]))
    page = client.get(detail_url(group_thread)).content.decode()
    assert "This post was deleted." in page
    assert "Still here" in page
    assert "In the group" not in page


def test_helpful_toggles_in_place(client, group_thread, groupmate):
    post = group_thread.posts.get()
    client.force_login(groupmate)
    response = client.post(reverse("threads:post-helpful", args=[post.pk]), HTTP_HX_REQUEST="true")
    assert "Helpful · 1" in response.content.decode()
    assert post.reactions.count() == 1


def test_mentions_endpoint_lists_members_only(client, course, author, groupmate, other_course_student):
    client.force_login(author)
    url = reverse("threads:mentions", args=[course.pk])
    assert client.get(url, {"q": "gro"}).json() == {"results": ["groupmate"]}
    assert client.get(url, {"q": "other_c"}).json() == {"results": []}
    client.force_login(other_course_student)
    assert client.get(url, {"q": "gro"}).status_code == 404


def _grow(thread, user, count: int) -> None:
    """``count`` posts: a long chain, with branches off it."""
    posts = list(thread.posts.all())
    for n in range(count):
        parent = posts[-1] if n % 3 else posts[len(posts) // 2]
        posts.append(
            Post.objects.create(
                thread=thread, author=user, parent=parent, body=f"p{n}", body_html=f"<p>p{n}</p>"
            )
        )


def _queries(client, thread) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(detail_url(thread))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_a_deep_thread_renders_in_a_bounded_number_of_queries(client, author, course, group_a):
    small = services.thread_create(user=author, course=course, title="small", body="root", group=group_a)
    large = services.thread_create(user=author, course=course, title="large", body="root", group=group_a)
    _grow(small, author, 30)
    _grow(large, author, 300)
    client.force_login(author)
    small_count, _ = _queries(client, small)
    large_count, page = _queries(client, large)
    assert large_count == small_count, (small_count, large_count)
    assert large_count <= 12, large_count
    assert page.count('class="post"') == 301
    assert page.count("<ol") == page.count("</ol>")
    assert "replies--deep" in page


def test_site_staff_read_threads_and_posts_in_the_admin(client, group_thread, curator):
    client.force_login(curator)
    assert "Group talk" in client.get(reverse("admin:annotations_thread_changelist")).content.decode()
    post = group_thread.posts.get()
    page = client.get(reverse("admin:annotations_post_change", args=[post.pk])).content.decode()
    assert "In the group" in page
