"""Events in TimelineJS3's JSON format (https://timeline.knightlab.com/docs/json-format.html)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils.html import escape

from timeline.dates import Precision
from timeline.models import Event


def _date(day: dt.date, precision: str) -> dict[str, int]:
    out = {"year": day.year}
    if precision in (Precision.MONTH, Precision.DAY):
        out["month"] = day.month
    if precision == Precision.DAY:
        out["day"] = day.day
    return out


def timeline_json(events: Iterable[Event], *, title: str, build_url: Any) -> dict[str, Any]:
    """A TimelineJS3 document; ``build_url`` turns a path into an absolute URL."""
    slides = []
    for event in events:
        slide: dict[str, Any] = {
            "unique_id": event.key,
            "start_date": _date(event.date, event.precision),
            "text": {
                # TimelineJS renders these as HTML, so they are escaped here.
                "headline": escape(event.title),
                "text": f"<p>{escape(event.description)}</p>"
                f'<p><a href="{escape(build_url(event.get_absolute_url()))}">Claims about this event</a></p>',
            },
            "group": event.get_type_display(),
            "display_date": event.date_display,
        }
        if event.end_date:
            slide["end_date"] = _date(event.end_date, event.end_precision)
        slides.append(slide)
    return {
        "title": {
            "text": {
                "headline": escape(title),
                "text": "<p>Events narrated by the reading.</p>",
            }
        },
        "events": slides,
    }
