"""Dates known to a precision: a year, a month or a day.

An event's date is stored as a ``DateField`` holding the first day of the period it is
known to (1996 → 1996-01-01, April 1996 → 1996-04-01) beside its precision. These helpers
turn the written forms used in fixtures and query strings (``1996``, ``1996-04``,
``1996-04-26``) into that pair and back.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.db import models
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

_PARTIAL = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")


class Precision(models.TextChoices):
    YEAR = "year", _("year")
    MONTH = "month", _("month")
    DAY = "day", _("day")


@dataclass(frozen=True)
class PartialDate:
    """A date and how much of it is known."""

    date: dt.date
    precision: str

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Read ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; raise ``ValueError`` otherwise."""
        match = _PARTIAL.match(str(text).strip())
        if not match:
            raise ValueError(f"{text!r} is not a date written as YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = match["year"], match["month"], match["day"]
        try:
            if day:
                return cls(dt.date(int(year), int(month), int(day)), Precision.DAY)
            if month:
                return cls(dt.date(int(year), int(month), 1), Precision.MONTH)
            return cls(dt.date(int(year), 1, 1), Precision.YEAR)
        except ValueError as error:
            raise ValueError(f"{text!r} is not a real date: {error}") from None

    def iso(self) -> str:
        """The written form at this precision: ``1996``, ``1996-04`` or ``1996-04-26``."""
        return partial_iso(self.date, self.precision)

    def last_day(self) -> dt.date:
        """The last day of the period this date stands for."""
        if self.precision == Precision.YEAR:
            return dt.date(self.date.year, 12, 31)
        if self.precision == Precision.MONTH:
            days = calendar.monthrange(self.date.year, self.date.month)[1]
            return dt.date(self.date.year, self.date.month, days)
        return self.date


def partial_iso(date: dt.date, precision: str) -> str:
    if precision == Precision.YEAR:
        return f"{date.year:04d}"
    if precision == Precision.MONTH:
        return f"{date.year:04d}-{date.month:02d}"
    return date.isoformat()


def partial_display(date: dt.date, precision: str) -> str:
    """A human form in the active language: ``1996``, ``April 1996`` or ``26 April 1996``
    (``апрель 1996 г.``, ``26 апреля 1996 г.`` in Russian)."""
    if precision == Precision.YEAR:
        return str(date.year)
    if precision == Precision.MONTH:
        return dateformat.format(date, get_format("YEAR_MONTH_FORMAT"))
    # A format of its own, not DATE_FORMAT: English writes the month in full here.
    return dateformat.format(date, pgettext("date known to the day", "j F Y"))


def periods_disagree(stated: PartialDate, start: PartialDate, end: PartialDate | None = None) -> bool:
    """Whether a stated date cannot be the event's date at the precision stated.

    ``1996-04`` agrees with an event on 26 April 1996 and ``1998`` with any day of 1998;
    ``2000-05-05`` disagrees with 5 July 2000. An event that spans days agrees with any
    stated date that falls in its span.
    """
    event_last = (end or start).last_day()
    return stated.last_day() < start.date or stated.date > event_last
