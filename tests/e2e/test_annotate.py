"""Students annotate inside the demo course; the visibility rule holds in the browser."""

from __future__ import annotations

import pytest

from annotations.models import Annotation
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SENTENCE = "Qian Qichen and Shevardnadze began discussions on this topic in April 1990."


def test_a_student_annotates_a_sentence_that_only_their_group_and_staff_see(page, demo):
    log_in(page, "student1")
    page.goto(f"/courses/{demo.pk}/read/#p-5")
    sentence = page.locator("#p-5 .paragraph__text a", has_text=SENTENCE)
    sentence.select_text()  # the student selects the sentence

    form = page.locator("#p-5 .annotate-form")
    # A function, not an expression: Playwright evaluates a bare expression with eval(),
    # which the page's Content-Security-Policy refuses.
    page.wait_for_function("() => document.querySelector('#p-5 .annotate-form').open")
    assert form.locator("[name=exact]").input_value() == SENTENCE
    form.get_by_label("Kind of note").select_option("questioning")
    form.get_by_label("Note", exact=True).fill("Was it **really** April 1990?")
    form.get_by_label("Who sees it").select_option("group")
    form.get_by_role("button", name="Save note").click()
    page.wait_for_url(f"**/courses/{demo.pk}/read/#a-*")

    note = Annotation.objects.get(exact=SENTENCE)  # the demo has notes of its own
    card = page.locator(f"#a-{note.pk}")
    assert "Was it really April 1990?" in card.inner_text()
    assert page.locator(f'#p-5 span.hl[data-annotations="a-{note.pk}"]').inner_text() == SENTENCE
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "annotated.png"))

    log_in(page, "student4")  # Group B
    page.goto(f"/courses/{demo.pk}/read/")
    assert page.locator(f"#a-{note.pk}").count() == 0
    assert "Was it really April 1990?" not in page.content()

    log_in(page, "instructor")
    page.goto(f"/courses/{demo.pk}/read/")
    assert "Was it really April 1990?" in page.locator(f"#a-{note.pk}").inner_text()
    assert page.problems == []


def test_a_student_annotates_with_the_keyboard_alone(page, demo):
    log_in(page, "student2")
    page.goto(f"/courses/{demo.pk}/read/")

    summary = page.locator("#p-3 .annotate-form summary")
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # to the quote
    page.keyboard.type("Initially named as the")
    page.keyboard.press("Tab")  # about the claim: left empty
    page.keyboard.press("Tab")  # kind of note
    page.keyboard.press("Tab")  # tags
    page.keyboard.type("names")
    page.keyboard.press("Tab")  # note
    page.keyboard.type("The original name matters.")
    page.keyboard.press("Tab")  # who sees it
    page.keyboard.press("Tab")  # save
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/courses/{demo.pk}/read/#a-*")

    note = Annotation.objects.get(paragraph_anchor="p-3")  # the demo has notes elsewhere
    assert note.exact == "Initially named as the"
    assert note.paragraph_anchor == "p-3"
    assert note.body == "The original name matters."
    assert [t.name for t in note.tags.all()] == ["names"]
    assert page.problems == []
