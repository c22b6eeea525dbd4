"""The main flows with the keyboard alone: no mouse, no filling of fields by the test driver.

Elements are reached with Tab (or ``locator.focus()``, which is where a screen reader's
jump-to-heading or a Tab sequence would land), and every value is typed with
``page.keyboard``. Options of a closed ``<select>`` are chosen by typing their first letters,
as a keyboard user does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from annotations.models import Annotation, Challenge, CourseGroup, ModerationItem, Post, Source
from annotations.services import moderation as moderation_services
from annotations.services import reading_load
from annotations.services import threads as thread_services
from tests.e2e.conftest import chromium_path, watched

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-pass-2026"
SPAM = "Cheap essays written for you at essays.example"
REASON = "Advertising is not allowed in course discussions."

IS_FOCUSED = "element => element === document.activeElement"
FOCUS_RING = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    element: element.outerHTML.slice(0, 120),
    outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
    boxShadow: style.boxShadow,
  };
}"""


def keyboard_log_in(page: Any, username: str) -> None:
    """Logs in by typing into the login form and pressing Enter."""
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def is_focused(locator: Any) -> bool:
    return locator.evaluate(IS_FOCUSED)


def tab_to(page: Any, locator: Any, limit: int = 60) -> int:
    """Presses Tab until ``locator`` has the focus; returns how many presses it took, and
    fails if it is not reached within ``limit`` (so it is unreachable or buried)."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if is_focused(locator):
            return presses
    raise AssertionError(f"Tab never reached {locator} in {limit} presses")


def assert_visible_focus(page: Any) -> None:
    """The focused element draws a focus indicator: an outline or a box shadow."""
    ring = page.evaluate(FOCUS_RING)
    assert ring["outline"] > 0 or ring["boxShadow"] != "none", f"no visible focus on {ring['element']}"


@pytest.fixture
def caret_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A page in a Chromium with caret browsing on (F7 in a desktop Chrome; headless
    Chromium has no F7 switch, so the command-line one): the keyboard moves a caret through
    the text and Shift+arrows select it."""
    reading_load(path=settings.DEFAULT_READING_DIR)
    caret_browser = browser.browser_type.launch(
        executable_path=chromium_path(),
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-caret-browsing"],
    )
    context = caret_browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = watched(context.new_page())
    yield page
    context.close()
    caret_browser.close()


def test_the_skip_link_is_the_first_tab_stop_and_takes_the_focus_to_the_main_content(page, demo):
    keyboard_log_in(page, "student1")
    for path in ["/", f"/courses/{demo.pk}/read/", "/timeline/"]:
        page.goto(path)
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        assert is_focused(skip), f"the first Tab stop of {path} is not the skip link"
        box = skip.bounding_box()
        assert box is not None
        assert min(box["x"], box["y"]) >= 0, "the focused skip link is off screen"
        assert_visible_focus(page)
        page.keyboard.press("Enter")
        # Following an in-page link is asynchronous: wait for it rather than race it.
        page.wait_for_function("() => location.hash === '#main' && document.activeElement.id === 'main'")
        assert page.url.endswith("#main")
        # The next Tab stop is inside the main content, past the site's navigation.
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


def test_every_page_has_one_banner_main_and_contentinfo_and_named_navigation(page, demo):
    keyboard_log_in(page, "student1")
    for path in ["/", "/read/", "/claims/", f"/courses/{demo.pk}/", f"/courses/{demo.pk}/claims/c-28-4/"]:
        page.goto(path)
        for role in ["banner", "main", "contentinfo"]:
            assert page.get_by_role(role).count() == 1, f"{path} has no single {role} landmark"
        assert page.get_by_role("navigation", name="Main").count() == 1
        assert page.get_by_role("navigation", name="Account").count() == 1
        assert page.locator("h1").count() == 1, f"{path} has no single <h1>"


def test_every_tab_stop_of_a_claim_page_shows_a_visible_focus_indicator(page, demo):
    keyboard_log_in(page, "student2")
    page.goto(f"/courses/{demo.pk}/claims/c-28-4/")
    seen = set()
    kinds = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === document.body"):
            break
        assert_visible_focus(page)
        seen.add(page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)"))
        kinds.add(page.evaluate("() => document.activeElement.tagName.toLowerCase()"))
    # Links, buttons, a <select> and text areas were among the stops checked.
    assert {"a", "button", "select", "textarea"} <= kinds
    assert len(seen) > 20


def test_a_student_selects_words_with_the_keyboard_and_annotates_them(caret_page, demo):
    page = caret_page
    keyboard_log_in(page, "student2")
    page.goto(f"/courses/{demo.pk}/read/")

    # To the claim that opens paragraph 5; the first arrow key puts the caret into its
    # text, so one step right and one back leaves it at the claim's first letter.
    claim = page.locator("#p-5 .paragraph__text a", has_text="Qian Qichen and Shevardnadze")
    claim.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    for _ in range(3):
        page.keyboard.press("Control+Shift+ArrowRight")  # select word by word
    form = page.locator("#p-5 .annotate-form")
    page.wait_for_function("() => document.querySelector('#p-5 .annotate-form').open")
    assert form.locator("[name=exact]").input_value() == "Qian Qichen and"
    # The selection is announced through the page's live region.
    status = page.locator("#annotate-status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.inner_text() == "Selected 15 characters. The note form is open beside the paragraph."

    # Moving the caret resets Chromium's Tab starting point to the top of the page, so the
    # student jumps to the form as a screen reader's next-field key does.
    form.get_by_label("Kind of note").focus()
    page.keyboard.type("questioning")
    tab_to(page, form.get_by_label("Note", exact=True), limit=3)
    page.keyboard.type("Who else took part in these talks?")
    tab_to(page, form.get_by_label("Who sees it"), limit=2)
    page.keyboard.type("my group")
    tab_to(page, form.get_by_role("button", name="Save note"), limit=2)
    assert_visible_focus(page)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/courses/{demo.pk}/read/#a-*")

    note = Annotation.objects.get(author__username="student2", paragraph_anchor="p-5")
    assert (note.exact, note.motivation, note.visibility) == ("Qian Qichen and", "questioning", "group")
    paragraph = page.locator("#p-5 .paragraph__text")
    assert paragraph.locator(f'span.hl[data-annotations="a-{note.pk}"]').inner_text() == "Qian Qichen and"
    assert note.start == paragraph.inner_text().index("Qian Qichen and")
    assert "Who else took part in these talks?" in page.locator(f"#a-{note.pk}").inner_text()
    assert page.problems == []


def test_a_student_files_a_challenge_with_the_keyboard_alone(page, demo):
    source = Source.objects.get(key="pan-hu-2006")
    keyboard_log_in(page, "student5")
    page.goto(f"/courses/{demo.pk}/claims/c-20-8/")

    page.get_by_role("heading", name="Challenge this claim").scroll_into_view_if_needed()
    page.get_by_label("Your stance").focus()
    page.keyboard.type("disputes")
    page.keyboard.press("Tab")
    page.keyboard.type("The Moscow agreement was signed in **April 1997**, not in 2012.")
    page.keyboard.press("Tab")  # who sees it: the whole course, as it stands
    tab_to(page, page.get_by_label("Source 1", exact=True), limit=3)
    page.keyboard.type((source.citation or source.key)[:12])
    assert page.get_by_label("Source 1", exact=True).input_value() == "pan-hu-2006"
    page.keyboard.press("Tab")
    page.keyboard.type("42")
    page.keyboard.press("Tab")
    page.keyboard.type("The second summit, Moscow, April 1997")
    tab_to(page, page.get_by_role("button", name="File the challenge"), limit=20)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    challenge = Challenge.objects.get(author__username="student5")
    assert (challenge.claim.key, challenge.stance, challenge.visibility) == ("c-20-8", "disputes", "course")
    citation = challenge.citations.get()
    assert (citation.source.key, citation.page, citation.quote) == (
        "pan-hu-2006",
        "42",
        "The second summit, Moscow, April 1997",
    )
    assert "Evidence status: contested" in page.locator("#evidence-heading").inner_text()
    assert (
        "The Moscow agreement was signed in April 1997"
        in page.locator(f"#challenge-{challenge.pk}").inner_text()
    )
    assert page.problems == []


def test_a_student_replies_in_a_thread_with_the_keyboard_and_hears_it_posted(page, demo):
    student1, student2 = User.objects.get(username="student1"), User.objects.get(username="student2")
    thread = thread_services.thread_create(
        user=student1,
        course=demo,
        group=CourseGroup.objects.get(course=demo, name="Group A"),
        title="Who dated the Moscow agreement?",
        body="The paper says 2012; I think it was 1997.",
    )
    first = thread.posts.get()
    keyboard_log_in(page, "student2")
    page.goto(f"/courses/{demo.pk}/threads/{thread.pk}/")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.stillHere = true; }")  # survives only an in-place update

    post = page.locator(f"#post-{first.pk}")
    tab_to(page, post.locator("summary", has_text="Reply"))
    assert_visible_focus(page)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert is_focused(post.get_by_label("Reply to student1"))
    page.keyboard.type("The record gives 24 April 1997.")
    page.keyboard.press("Tab")
    assert is_focused(post.get_by_role("button", name="Post reply"))
    page.keyboard.press("Enter")

    reply_text = page.locator(f"#replies-{first.pk}").get_by_text("The record gives 24 April 1997.")
    reply_text.wait_for()
    reply = Post.objects.get(body="The record gives 24 April 1997.")
    assert (reply.parent, reply.author) == (first, student2)
    assert page.evaluate("() => window.stillHere") is True
    # The update is announced, and the focus moves to the new reply rather than being lost
    # with the folded form.
    live = page.locator("#live-status")
    assert live.get_attribute("role") == "status"
    assert live.inner_text() == "Your reply is posted."
    page.wait_for_function(f"() => document.activeElement.id === 'post-{reply.pk}'")

    # Marking a post helpful swaps its button in place; the focus stays on it.
    helpful = post.locator(f"#helpful-{first.pk}")
    helpful.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => document.querySelector('#helpful-{first.pk}').textContent.startsWith('Helpful · 1')"
    )
    assert is_focused(helpful)
    assert post.locator(f"#helpful-{first.pk}").inner_text().startswith("Helpful · 1")
    assert page.problems == []


def test_the_ta_hides_a_flagged_post_from_the_review_queue_with_the_keyboard(page, demo):
    users = {u.username: u for u in User.objects.filter(username__in=["student1", "student2"])}
    thread = thread_services.thread_create(
        user=users["student1"],
        course=demo,
        group=CourseGroup.objects.get(course=demo, name="Group A"),
        title="Who dated the Moscow agreement?",
        body="The paper says 2012; I think it was 1997.",
    )
    spam = thread_services.post_create(user=users["student2"], thread=thread, body=SPAM)
    moderation_services.flag_create(user=users["student1"], target=spam, reason="spam")
    item = ModerationItem.objects.get(post=spam)

    keyboard_log_in(page, "ta")
    page.goto(f"/courses/{demo.pk}/moderation/")
    row = page.locator(f"#item-{item.pk}")
    assert SPAM in row.inner_text()
    tab_to(page, row.get_by_role("checkbox"))
    assert_visible_focus(page)
    page.keyboard.press("Space")
    assert row.get_by_role("checkbox").is_checked()
    tab_to(page, page.get_by_label("hide", exact=True), limit=3)
    page.keyboard.press("Space")
    assert page.get_by_label("hide", exact=True).is_checked()
    tab_to(page, page.get_by_label("Reason (required to hide; its author will read it)"), limit=3)
    page.keyboard.type(REASON)
    page.keyboard.press("Tab")
    assert is_focused(page.get_by_role("button", name="Apply"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.get_by_role("status", name="Messages").inner_text() == "Done for 1 item."
    spam.refresh_from_db()
    assert spam.is_hidden
    assert spam.moderation_reason == REASON
    page.goto(f"/courses/{demo.pk}/threads/{thread.pk}/")
    assert f"Hidden by a moderator: {REASON}" in page.locator(f"#post-{spam.pk}").inner_text()
    assert page.problems == []
