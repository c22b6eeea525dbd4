"""An in-place reply the server refuses, or that never arrives, is announced in the form's
own alert region; what was typed stays; the next good post clears the message."""

from __future__ import annotations

import re

import pytest

from annotations.models import Post
from annotations.services import threads as thread_services
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The failures this test causes on purpose, as the browser and htmx log them; anything else
# the page reports is a fault.
EXPECTED_PROBLEMS = re.compile(
    r"^(400: |429: |request failed: .*ERR_FAILED|console: Failed to load resource"
    r"|console: Response Status Error Code (400|429) |console: htmx:(sendError|afterRequest), )"
)


def test_a_refused_or_lost_reply_is_announced_and_the_text_is_kept(page, demo):
    student1 = demo.memberships.get(user__username="student1").user
    group = demo.memberships.get(user__username="student1").group
    thread = thread_services.thread_create(
        user=student1, course=demo, title="Where did it start?", body="The first post.", group=group
    )
    first = thread.posts.get()
    post_url = f"/courses/{demo.pk}/threads/{thread.pk}/posts/"

    log_in(page, "student1")
    page.goto(f"/courses/{demo.pk}/threads/{thread.pk}/")
    page.wait_for_function("() => window.htmx !== undefined")
    # The first post's own reply form (replies nested under it have theirs).
    details = page.locator(f"#post-{first.pk} > .post-body > details.reply")
    details.locator("summary").click()
    box = details.get_by_label("Reply to student1")
    send = details.get_by_role("button", name="Post reply")
    feedback = details.locator(".form-feedback")
    assert feedback.get_attribute("role") == "alert"

    # The server refuses a reply that is too long: its own words, in the form's region.
    too_long = "x" * 20001
    box.fill(too_long)
    send.click()
    page.wait_for_function(
        "element => element.textContent !== ''", arg=feedback.element_handle(), timeout=10_000
    )
    assert feedback.inner_text() == "Ensure this value has at most 20000 characters (it has 20001)."
    assert box.input_value() == too_long
    assert details.evaluate("details => details.open") is True
    # Nothing of the answer is swapped into the thread: neither its paragraph nor a page.
    assert page.locator("#replies-root p.error, #replies-root h1").count() == 0

    # Throttled: the answer's Retry-After gives the wait.
    box.fill("A fair point, but which year?")
    page.route(
        re.compile(re.escape(post_url) + "$"),
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "30", "Content-Type": "text/html"},
            body="<!doctype html><title>Too many</title><h1>Please slow down</h1>",
        ),
    )
    send.click()
    page.wait_for_function(
        "element => element.textContent.includes('30')", arg=feedback.element_handle(), timeout=10_000
    )
    assert feedback.inner_text() == "You are posting too fast; try again in 30 seconds."
    assert box.input_value() == "A fair point, but which year?"
    assert "Please slow down" not in page.locator("#replies-root").inner_text()
    page.unroute(re.compile(re.escape(post_url) + "$"))

    # The connection drops.
    page.route(re.compile(re.escape(post_url) + "$"), lambda route: route.abort("failed"))
    send.click()
    page.wait_for_function(
        "element => element.textContent.includes('connection')", arg=feedback.element_handle(), timeout=10_000
    )
    assert feedback.inner_text() == (
        "This could not be sent: check your connection and try again. What you wrote is still here."
    )
    assert box.input_value() == "A fair point, but which year?"
    page.unroute(re.compile(re.escape(post_url) + "$"))

    # It goes through: the message is cleared, the reply is in place, the form folds away.
    send.click()
    page.locator(f"#replies-{first.pk}").get_by_text("A fair point, but which year?").wait_for()
    assert feedback.inner_text() == ""
    assert box.input_value() == ""
    assert details.evaluate("details => details.open") is False
    assert Post.objects.filter(thread=thread, parent=first, body="A fair point, but which year?").count() == 1

    unexpected = [problem for problem in page.problems if not EXPECTED_PROBLEMS.match(problem)]
    assert unexpected == []


def test_an_empty_new_post_is_refused_in_place_and_a_good_one_clears_the_message(page, demo):
    student1 = demo.memberships.get(user__username="student1").user
    group = demo.memberships.get(user__username="student1").group
    thread = thread_services.thread_create(
        user=student1, course=demo, title="Blank lines", body="Opening words.", group=group
    )

    log_in(page, "student1")
    page.goto(f"/courses/{demo.pk}/threads/{thread.pk}/")
    page.wait_for_function("() => window.htmx !== undefined")
    form = page.locator("form.stacked-form")
    box = form.get_by_label("Your post")
    feedback = form.locator(".form-feedback")

    # Only spaces: the browser lets it through (the field is not empty), the server refuses.
    box.fill("   ")
    form.get_by_role("button", name="Post").click()
    page.wait_for_function(
        "element => element.textContent !== ''", arg=feedback.element_handle(), timeout=10_000
    )
    assert feedback.inner_text() == "This field is required."
    assert box.input_value() == "   "

    box.fill("Now with words.")
    form.get_by_role("button", name="Post").click()
    page.locator("#replies-root").get_by_text("Now with words.").wait_for()
    assert feedback.inner_text() == ""
    assert box.input_value() == ""

    unexpected = [problem for problem in page.problems if not EXPECTED_PROBLEMS.match(problem)]
    assert unexpected == []
