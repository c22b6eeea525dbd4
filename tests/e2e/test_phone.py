"""The reading view and the timeline on a phone (390×844, touch): nothing scrolls sideways,
the text stays readable, and the note form can be opened and used by touch.

Each test saves a full-page screenshot to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from annotations.models import Annotation, Assignment
from annotations.services import reading_load
from tests.e2e.conftest import ARTIFACTS, log_in, watched

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 390, 844
SCREENSHOTS = ARTIFACTS / "screenshots"
MIN_TEXT_PX = 14
# Elements wider than the screen, by selector, with their right edge (what made a page scroll
# sideways, when one does).
OVERFLOWING = """width => [...document.querySelectorAll("body *")]
  .filter(element => element.getBoundingClientRect().right > width + 0.5)
  .filter(element => getComputedStyle(element).position === "absolute"
                     || !element.parentElement.closest(".timeline-scroll, .table-scroll"))
  .slice(0, 10)
  .map(element => element.tagName.toLowerCase() + (element.className ? "." + String(element.className).replace(/ /g, ".") : "")
       + " → " + Math.round(element.getBoundingClientRect().right))"""
OPEN_ALL_DETAILS = "() => document.querySelectorAll('details').forEach(details => { details.open = true; })"


@pytest.fixture
def phone(browser: Any, live_server: Any) -> Iterator[Any]:
    """A touch phone's page, 390×844, watched for problems as the desktop page is."""
    reading_load(path=settings.DEFAULT_READING_DIR)
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": WIDTH, "height": HEIGHT},
        is_mobile=True,
        has_touch=True,
    )
    page = watched(context.new_page())
    yield page
    context.close()


def assert_fits_the_screen(page: Any) -> None:
    """The page does not scroll sideways (wide figures and tables scroll inside their own box)."""
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= WIDTH, f"{page.url} is {scroll_width}px wide: {page.evaluate(OVERFLOWING, WIDTH)}"


def smallest_font(page: Any, selector: str) -> float:
    return page.evaluate(
        "selector => Math.min(...[...document.querySelectorAll(selector)].map(e => parseFloat(getComputedStyle(e).fontSize)))",
        selector,
    )


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_the_course_reading_view_fits_a_phone_and_its_note_form_works_by_touch(phone, demo):
    page = phone
    log_in(page, "student1")
    page.goto(f"/courses/{demo.pk}/read/")
    assert page.evaluate("() => window.innerWidth") == WIDTH

    assert_fits_the_screen(page)
    assert smallest_font(page, ".paragraph__text") >= MIN_TEXT_PX
    assert smallest_font(page, ".sidebar .note") >= MIN_TEXT_PX - 1

    form = page.locator("#p-3 .annotate-form")
    summary = form.locator("summary")
    summary.scroll_into_view_if_needed()
    box = summary.bounding_box()
    assert 0 <= box["x"] <= WIDTH - box["width"]
    assert box["height"] >= 24, "the control is too small to tap"
    summary.tap()
    assert form.get_attribute("open") is not None
    quote = form.get_by_label("Quoted text")
    quote.tap()
    page.keyboard.type("Initially named as the")
    note = form.get_by_label("Note", exact=True)
    note.tap()
    page.keyboard.type("Typed on a phone.")
    for field in [quote, note, form.get_by_role("button", name="Save note")]:
        field_box = field.bounding_box()
        assert 0 <= field_box["x"] <= WIDTH - field_box["width"], f"{field} is off screen: {field_box}"
    assert_fits_the_screen(page)  # the open form does not widen the page
    screenshot(page, "phone-reading-view")

    form.get_by_role("button", name="Save note").tap()
    page.wait_for_url(f"**/courses/{demo.pk}/read/#a-*")
    saved = Annotation.objects.get(paragraph_anchor="p-3", author__username="student1")
    assert (saved.exact, saved.body) == ("Initially named as the", "Typed on a phone.")
    assert "Typed on a phone." in page.locator(f"#a-{saved.pk}").inner_text()
    assert_fits_the_screen(page)
    assert page.problems == []


def test_the_public_reading_fits_a_phone(phone):
    page = phone
    page.goto("/read/")
    assert_fits_the_screen(page)
    assert smallest_font(page, ".paragraph__text") >= MIN_TEXT_PX
    # The table of contents comes first on a phone but does not bury the text.
    toc = page.locator(".toc").bounding_box()
    assert toc["height"] <= HEIGHT * 0.5
    screenshot(page, "phone-public-reading")
    assert page.problems == []


def test_the_timeline_fits_a_phone(phone, demo):
    page = phone
    page.goto("/timeline/")
    assert_fits_the_screen(page)
    assert smallest_font(page, ".event-card__title, .event-card__date, .event-card p") >= MIN_TEXT_PX
    # The drawing keeps its size and scrolls sideways inside its own box.
    drawing = page.locator(".timeline-scroll")
    assert drawing.evaluate("box => box.scrollWidth > box.clientWidth")
    assert drawing.bounding_box()["width"] <= WIDTH
    screenshot(page, "phone-timeline")

    log_in(page, "student1")
    page.goto(f"/courses/{demo.pk}/timeline/")
    assert_fits_the_screen(page)
    screenshot(page, "phone-course-timeline")
    assert page.problems == []


def test_the_other_main_pages_fit_a_phone(phone, demo):
    page = phone
    assignment = Assignment.objects.get(course=demo)
    log_in(page, "student1")
    for path in [
        f"/courses/{demo.pk}/",
        f"/courses/{demo.pk}/claims/",
        f"/courses/{demo.pk}/claims/c-28-4/",
        f"/assignments/{assignment.pk}/",
        "/claims/",
        "/events/almaty-summit-1998/",
    ]:
        page.goto(path)
        page.evaluate(OPEN_ALL_DETAILS)
        assert_fits_the_screen(page)
    screenshot(page, "phone-event")
    log_in(page, "instructor")
    for path in [
        f"/assignments/{assignment.pk}/progress/",
        f"/courses/{demo.pk}/dashboard/",
        f"/courses/{demo.pk}/moderation/",
        f"/courses/{demo.pk}/manage/",
    ]:
        page.goto(path)
        page.evaluate(OPEN_ALL_DETAILS)
        assert_fits_the_screen(page)
    assert page.problems == []
