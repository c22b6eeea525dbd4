"""Selectors: checked against the text, and found again when the text moves."""

from __future__ import annotations

import pytest

from annotations.anchoring import CONTEXT, SelectorError, anchor, target_for

TEXT = "The five met in Shanghai. The five signed in Moscow. Trade grew."


def test_offsets_give_the_quote_and_its_context():
    target = target_for(TEXT, start=4, end=8)

    assert target.exact == "five"
    assert target.prefix == "The "
    assert target.suffix == TEXT[8 : 8 + CONTEXT]


def test_a_unique_quote_is_found_without_offsets():
    target = target_for(TEXT, exact="Trade grew")

    assert (target.start, target.end) == (TEXT.index("Trade grew"), len(TEXT) - 1)


def test_a_repeated_quote_is_chosen_by_its_context():
    target = target_for(TEXT, exact="The five", suffix=" signed")

    assert target.start == TEXT.index("The five signed")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"exact": "Paris"}, "exact", "The quote is not in the paragraph"),
        ({"exact": "The five"}, "exact", "occurs 2 times"),
        ({"start": 10, "end": 5}, "start", "start (10) must be before end (5)"),
        ({"start": 5, "end": 5}, "start", "must be before end"),
        ({"start": 0, "end": 500}, "end", "past the end of the paragraph, which has 64 characters"),
        ({"start": -1, "end": 4}, "start", "cannot be negative"),
        ({"start": 4}, "end", "Give both start and end"),
        ({"exact": "five", "start": 0, "end": 3}, "exact", "The text at 0–3 is “The”, not the quote given."),
        ({}, "exact", "Give the quoted text"),
    ],
)
def test_a_selector_that_does_not_fit_says_what_is_wrong(kwargs, field, message):
    with pytest.raises(SelectorError) as caught:
        target_for(TEXT, **kwargs)

    assert caught.value.field == field
    assert message in caught.value.message


def test_an_unchanged_text_anchors_at_the_offsets():
    found = anchor(TEXT, exact="Moscow", prefix="signed in ", suffix=". Trade", start=45, end=51)

    assert (found.start, found.end, found.status) == (45, 51, "anchored")


def test_a_moved_quote_is_found_again_by_its_context():
    changed = "A new opening sentence. " + TEXT

    found = anchor(changed, exact="The five", prefix="Shanghai. ", suffix=" signed", start=26, end=34)

    assert found.status == "reanchored"
    assert changed[found.start : found.end] == "The five"
    assert changed[found.end :].startswith(" signed")


def test_a_vanished_quote_or_paragraph_is_orphaned_not_dropped():
    assert anchor(
        "Completely different text.", exact="Moscow", prefix="", suffix="", start=45, end=51
    ).orphaned
    assert anchor(None, exact="Moscow", prefix="", suffix="", start=45, end=51).orphaned
