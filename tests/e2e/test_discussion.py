"""Two students of one group discuss a claim; a mention reaches the other; another group sees nothing."""

from __future__ import annotations

import re

import pytest

from annotations.models import Notification, Post, Thread
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_two_groupmates_discuss_a_claim_and_another_group_sees_none_of_it(page, demo):
    log_in(page, "student1")
    page.goto(f"/courses/{demo.pk}/threads/?claim=c-20-8")
    page.get_by_label("Title").fill("Is this date right?")
    page.get_by_label("Who takes part").select_option(label="Group A")
    page.get_by_label("First post").fill("@student2 what do you think?")
    page.get_by_role("button", name="Start the thread").click()
    page.wait_for_url(re.compile(r"/threads/\d+/$"))

    thread = Thread.objects.get(title="Is this date right?")
    assert (thread.claim.key, thread.group.name) == ("c-20-8", "Group A")
    thread_url = f"/courses/{demo.pk}/threads/{thread.pk}/"
    assert page.url.endswith(thread_url)
    assert "@student2 what do you think?" in page.locator("#replies-root").inner_text()

    log_in(page, "student2")
    page.goto("/notifications/")
    page.get_by_role("link", name="student1 mentioned you in “Is this date right?”").click()
    page.wait_for_url(re.compile(re.escape(thread_url)))
    page.wait_for_function("() => window.htmx !== undefined")

    # The reply is swapped in place: a marker set on the page survives the post.
    page.evaluate("window.stillHere = true")
    first = thread.posts.get()
    post = page.locator(f"#post-{first.pk}")
    post.locator("summary", has_text="Reply").click()
    post.get_by_label("Reply to student1").fill("The record gives another year.")
    post.get_by_role("button", name="Post reply").click()
    page.locator(f"#replies-{first.pk}").get_by_text("The record gives another year.").wait_for()
    assert page.evaluate("window.stillHere") is True
    assert Post.objects.get(body="The record gives another year.").parent == first
    assert Notification.objects.filter(recipient__username="student1", kind="reply").exists()
    assert page.problems == []

    log_in(page, "student4")
    response = page.goto(thread_url)
    assert response.status == 404
    page.goto(f"/courses/{demo.pk}/threads/")
    assert "Is this date right?" not in page.content()
    assert not Notification.objects.filter(
        recipient__username="student4", kind__in=["mention", "reply"]
    ).exists()
    page.goto("/notifications/")
    assert "Is this date right?" not in page.content()
