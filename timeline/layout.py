"""Where each event sits on the drawn timeline: years as the axis, lanes to avoid overlap."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from timeline.models import Event

WIDTH = 1000  # SVG user units; the drawing scales to the page
PAD = 24  # room at both ends for the first and last year labels
LANE_HEIGHT = 18
AXIS_HEIGHT = 28
MIN_MARK = 10  # a day is drawn as a dot this wide, so it stays visible and clickable


@dataclass(frozen=True)
class Mark:
    event: Event
    x: float
    width: float
    lane: int

    @property
    def y(self) -> int:
        return AXIS_HEIGHT + self.lane * LANE_HEIGHT + 4


@dataclass(frozen=True)
class Tick:
    year: int
    x: float
    labelled: bool


@dataclass(frozen=True)
class Layout:
    marks: list[Mark]
    ticks: list[Tick]
    width: int
    height: int


def _position(day: dt.date, first: dt.date, span_days: int) -> float:
    return PAD + (day - first).days / span_days * (WIDTH - 2 * PAD)


def layout(events: Sequence[Event]) -> Layout:
    """Place events proportionally to their dates; a year-precision event covers its year,
    a month-precision one its month, a day-precision one a dot."""
    if not events:
        return Layout([], [], WIDTH, AXIS_HEIGHT)
    first_year = min(e.date.year for e in events)
    last_year = max(e.last_day.year for e in events) + 1
    first, last = dt.date(first_year, 1, 1), dt.date(last_year, 1, 1)
    span = (last - first).days
    lanes_end: list[float] = []
    marks = []
    for event in sorted(events, key=lambda e: (e.date, e.key)):
        x = _position(event.date, first, span)
        width = max(MIN_MARK, _position(event.last_day + dt.timedelta(days=1), first, span) - x)
        lane = next((i for i, end in enumerate(lanes_end) if end + 2 <= x), len(lanes_end))
        if lane == len(lanes_end):
            lanes_end.append(0.0)
        lanes_end[lane] = x + width
        marks.append(Mark(event, round(x, 2), round(width, 2), lane))
    years = range(first_year, last_year + 1)
    step = max(1, len(years) // 12)  # about a dozen labels, however long the span
    ticks = [
        Tick(
            y,
            round(_position(dt.date(y, 1, 1), first, span), 2),
            (y - first_year) % step == 0,
        )
        for y in years
    ]
    height = AXIS_HEIGHT + max(1, len(lanes_end)) * LANE_HEIGHT + 8
    return Layout(marks, ticks, WIDTH, height)
