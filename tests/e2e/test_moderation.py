"""A student flags a post, the TA hides it from the review queue, the other students no
longer see it, and its author sees why."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from annotations.models import CourseGroup, ModerationItem
from annotations.services import threads as thread_services
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SPAM = "Cheap essays written for you at essays.example"
REASON = "Advertising is not allowed in course discussions."


def test_a_flagged_post_is_hidden_from_the_queue_and_its_author_sees_why(page, demo):
    group_a = CourseGroup.objects.get(course=demo, name="Group A")
    thread = thread_services.thread_create(
        user=User.objects.get(username="student1"),
        course=demo,
        group=group_a,
        title="Who dated the Moscow agreement?",
        body="The paper says 2012; I think it was 1997.",
    )
    spam = thread_services.post_create(user=User.objects.get(username="student2"), thread=thread, body=SPAM)
    thread_url = f"/courses/{demo.pk}/threads/{thread.pk}/"

    log_in(page, "student1")
    page.goto(thread_url)
    post = page.locator("article.post-body").filter(has_text=SPAM)
    post.locator("summary", has_text="Flag").click()
    post.get_by_label("spam").check()
    post.get_by_role("button", name="Send the flag").click()
    page.wait_for_load_state()
    assert "Thank you: the course's staff will review it." in page.locator("main").inner_text()

    log_in(page, "ta")
    page.goto(f"/courses/{demo.pk}/")
    page.get_by_role("link", name="Review queue").click()
    row = page.locator(f"#item-{ModerationItem.objects.get(post=spam).pk}")
    assert SPAM in row.inner_text()
    assert "student1: spam" in row.inner_text()
    row.get_by_role("checkbox").check()
    page.get_by_label("hide", exact=True).check()
    page.get_by_label("Reason (required to hide; its author will read it)").fill(REASON)
    page.screenshot(path=str(ARTIFACTS / "moderation-queue.png"), full_page=True)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "Done for 1 item." in page.locator("main").inner_text()

    log_in(page, "student3")
    page.goto(thread_url)
    main = page.locator("main").inner_text()
    assert SPAM not in main
    assert "Hidden by a moderator." in main

    log_in(page, "student2")
    page.goto(thread_url)
    main = page.locator("main").inner_text()
    assert SPAM in main
    assert f"Hidden by a moderator: {REASON}" in main
    page.goto("/notifications/")
    assert f"Your post was hidden by a moderator: {REASON}" in page.locator("main").inner_text()
    assert page.problems == []
