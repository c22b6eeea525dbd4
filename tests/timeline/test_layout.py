"""The drawn timeline: proportional positions, lanes that never overlap."""

from __future__ import annotations

from itertools import pairwise

import pytest

from timeline.layout import PAD, WIDTH, layout
from timeline.models import Event

pytestmark = pytest.mark.django_db


def test_marks_follow_the_dates_and_share_no_lane_space():
    events = list(Event.objects.order_by("date"))

    drawn = layout(events)

    xs = [mark.x for mark in drawn.marks]
    assert xs == sorted(xs)
    assert xs[0] >= PAD
    assert xs[-1] < WIDTH
    by_lane: dict[int, list] = {}
    for mark in drawn.marks:
        by_lane.setdefault(mark.lane, []).append(mark)
    for marks in by_lane.values():
        for left, right in pairwise(marks):
            assert left.x + left.width <= right.x
    assert drawn.ticks[0].year == events[0].date.year


def test_a_year_is_drawn_wider_than_a_day():
    drawn = layout(
        list(Event.objects.filter(key__in=["five-two-parties-talks-1992", "shanghai-summit-1996"]))
    )
    widths = {mark.event.key: mark.width for mark in drawn.marks}

    assert widths["five-two-parties-talks-1992"] > 5 * widths["shanghai-summit-1996"]


def test_no_events_draws_an_empty_axis():
    drawn = layout([])

    assert drawn.marks == []
    assert drawn.ticks == []
