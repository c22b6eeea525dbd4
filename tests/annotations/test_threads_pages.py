"""Discussion pages: visibility, forms with and without htmx, nesting in bounded queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Claim, Notification, Post
from annotations.services import moderation as moderation_services
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


def test_the_list_filters_by_group_and_shows_nothing_for_a_group_that_is_not_a_number(
    client, group_thread, author, group_a, course
):
    services.thread_create(user=author, course=course, title="Whole course", body="x")
    client.force_login(author)
    url = reverse("threads:list", args=[course.pk])

    in_group = client.get(url, {"group": group_a.pk}).content.decode()
    course_wide = client.get(url, {"group": "course"}).content.decode()
    bogus = client.get(url, {"group": "<script>alert(1)</script>"})

    assert "Group talk" in in_group
    assert "Whole course" not in in_group
    assert "Whole course" in course_wide
    assert "Group talk" not in course_wide
    assert bogus.status_code == 200
    assert "Group talk" not in bogus.content.decode()
    assert "Whole course" not in bogus.content.decode()


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
    assert body.lstrip().startswith('<li id="post-')
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


# -- pages of a long thread --------------------------------------------------------------


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of about four posts, so a few posts make a long thread."""
    monkeypatch.setattr("annotations.views.threads.POSTS_PER_PAGE", 4)


def _post_ids(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li id="post-(\d+)" class="post">', page)]


def test_a_long_thread_is_paged_and_the_pages_hold_every_post_once_with_replies_beside_parents(
    client, group_thread, author, groupmate, small_pages
):
    first = group_thread.posts.get()
    tops = [first] + [
        services.post_create(user=author, thread=group_thread, body=f"Top {n}") for n in range(5)
    ]
    reply = services.post_create(user=groupmate, thread=group_thread, body="Reply to top 2", parent=tops[2])
    nested = services.post_create(user=author, thread=group_thread, body="Reply to the reply", parent=reply)
    client.force_login(groupmate)

    page_one = client.get(detail_url(group_thread)).content.decode()
    page_two = client.get(detail_url(group_thread), {"page": 2}).content.decode()
    page_three = client.get(detail_url(group_thread), {"page": 3}).content.decode()

    # Page one fills up to four posts without parting top 2 from its two replies.
    assert _post_ids(page_one) == [tops[0].pk, tops[1].pk, tops[2].pk, reply.pk, nested.pk]
    assert _post_ids(page_two) == [tops[3].pk, tops[4].pk, tops[5].pk]
    assert _post_ids(page_three) == _post_ids(page_two)  # past the end: the last page
    assert sorted(_post_ids(page_one) + _post_ids(page_two)) == sorted(
        group_thread.posts.values_list("pk", flat=True)
    )
    assert "Page 1 of 2" in page_one
    assert 'href="?page=2"' in page_one
    assert "Reply to the reply" in page_one
    assert "Top 4" in page_two
    assert "Top 4" not in page_one


def test_a_link_to_a_post_opens_the_page_that_holds_it(client, group_thread, author, groupmate, small_pages):
    tops = [services.post_create(user=author, thread=group_thread, body=f"Top {n}") for n in range(6)]
    reply = services.post_create(user=groupmate, thread=group_thread, body="Late reply", parent=tops[-1])
    client.force_login(author)

    response = client.get(detail_url(group_thread), {"post": reply.pk})

    assert response.context["page"].number == 2
    assert reply.pk in _post_ids(response.content.decode())
    notification = Notification.objects.get(recipient=author, kind="reply")
    assert notification.url == f"{detail_url(group_thread)}?post={reply.pk}#post-{reply.pk}"
    assert client.get(reverse("notifications:open", args=[notification.pk])).url == notification.url


def test_a_notification_written_before_threads_were_paged_opens_the_posts_page(
    client, group_thread, author, groupmate
):
    reply = services.post_create(
        user=groupmate, thread=group_thread, body="Hi", parent=group_thread.posts.get()
    )
    notification = Notification.objects.get(recipient=author, kind="reply")
    notification.url = f"{detail_url(group_thread)}#post-{reply.pk}"
    notification.save()
    client.force_login(author)

    response = client.get(reverse("notifications:open", args=[notification.pk]))

    assert response.url == f"{detail_url(group_thread)}?post={reply.pk}#post-{reply.pk}"


def test_a_link_to_a_post_the_reader_may_not_see_opens_the_first_page_and_shows_nothing_of_it(
    client, group_thread, author, groupmate, instructor, small_pages
):
    moderation_services.course_set_premoderation(user=instructor, course=group_thread.course, enabled=True)
    for n in range(6):
        services.post_create(user=author, thread=group_thread, body=f"Waiting {n}")
    waiting = Post.objects.get(body="Waiting 5")
    client.force_login(groupmate)

    response = client.get(detail_url(group_thread), {"post": waiting.pk})

    text = response.content.decode()
    assert response.context["page"].number == 1
    assert "Waiting" not in text
    assert "In the group" in text
    assert not response.context["page"].has_other_pages()
