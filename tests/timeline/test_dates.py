"""Dates known to a year, a month or a day."""

from __future__ import annotations

import datetime as dt

import pytest

from timeline.dates import PartialDate, Precision, partial_display, periods_disagree


@pytest.mark.parametrize(
    ("text", "date", "precision"),
    [
        ("1996", dt.date(1996, 1, 1), Precision.YEAR),
        ("1996-04", dt.date(1996, 4, 1), Precision.MONTH),
        ("1996-04-26", dt.date(1996, 4, 26), Precision.DAY),
    ],
)
def test_it_reads_each_precision(text, date, precision):
    parsed = PartialDate.parse(text)

    assert (parsed.date, parsed.precision) == (date, precision)
    assert parsed.iso() == text


@pytest.mark.parametrize(
    ("text", "why"), [("96", "YYYY"), ("1996-4", "YYYY"), ("1996-02-30", "not a real date"), ("", "YYYY")]
)
def test_it_refuses_what_is_not_a_date(text, why):
    with pytest.raises(ValueError, match=why):
        PartialDate.parse(text)


def test_last_day_covers_the_period():
    assert PartialDate.parse("2000").last_day() == dt.date(2000, 12, 31)
    assert PartialDate.parse("2000-02").last_day() == dt.date(2000, 2, 29)
    assert PartialDate.parse("2000-02-03").last_day() == dt.date(2000, 2, 3)


def test_display_follows_precision():
    assert partial_display(dt.date(1996, 4, 26), Precision.DAY) == "26 April 1996"
    assert partial_display(dt.date(1996, 4, 1), Precision.MONTH) == "April 1996"
    assert partial_display(dt.date(1996, 1, 1), Precision.YEAR) == "1996"


@pytest.mark.parametrize(
    ("stated", "event", "end", "disagrees"),
    [
        ("1996-04", "1996-04-26", None, False),
        ("1998", "1998-07-03", None, False),
        ("2000-05-05", "2000-07-05", None, True),
        ("2012-04", "1997-04-24", None, True),
        ("1992-03", "1992", None, False),
        ("2015-07-10", "2015-07-09", "2015-07-10", False),
        ("2015-07-11", "2015-07-09", "2015-07-10", True),
        ("2000-07-05", "2000-07-04", None, True),
    ],
)
def test_a_stated_date_disagrees_only_when_it_cannot_be_the_events(stated, event, end, disagrees):
    end_date = PartialDate.parse(end) if end else None

    assert periods_disagree(PartialDate.parse(stated), PartialDate.parse(event), end_date) is disagrees
