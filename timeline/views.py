"""Pages for the timeline, events and actors."""

from __future__ import annotations

from itertools import groupby

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from timeline import selectors
from timeline.api.filters import EventFilter
from timeline.layout import layout
from timeline.models import Actor


def timeline(request: HttpRequest) -> HttpResponse:
    filterset = EventFilter(request.GET or None, queryset=selectors.event_list())
    status = 200
    if filterset.is_bound and not filterset.is_valid():
        events, status = [], 400
    else:
        events = list(filterset.qs)
    years = [(year, list(group)) for year, group in groupby(events, key=lambda e: e.date.year)]
    return render(
        request,
        "timeline/timeline.html",
        {
            "nav": "timeline",
            "filter": filterset,
            "events": events,
            "years": years,
            "layout": layout(events),
        },
        status=status,
    )


def event_detail(request: HttpRequest, key: str) -> HttpResponse:
    return render(
        request,
        "timeline/event_detail.html",
        {"nav": "timeline", "event": selectors.event_detail(key)},
    )


# The actor list's headings: a plural is its own word in other languages, not the label plus "s".
ACTOR_KIND_HEADINGS = {
    Actor.Kind.STATE: _("States"),
    Actor.Kind.ORGANISATION: _("Organisations"),
    Actor.Kind.PERSON: _("Persons"),
    Actor.Kind.GROUP: _("Groups"),
}


def actor_list(request: HttpRequest) -> HttpResponse:
    actors = list(selectors.actor_list())
    kinds = [
        (ACTOR_KIND_HEADINGS[value], [a for a in actors if a.kind == value])
        for value, _label in Actor.Kind.choices
    ]
    return render(request, "timeline/actor_list.html", {"nav": "actors", "kinds": kinds})


def actor_detail(request: HttpRequest, key: str) -> HttpResponse:
    return render(
        request,
        "timeline/actor_detail.html",
        {"nav": "actors", "actor": selectors.actor_detail(key)},
    )
