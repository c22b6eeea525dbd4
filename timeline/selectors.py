"""Reads of actors and events, with the prefetching their pages and endpoints need."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from annotations.models import Claim, ClaimEventLink
from timeline.models import Actor, Event


def event_list() -> QuerySet[Event]:
    return Event.objects.prefetch_related("participants", "sources")


def event_detail(key: str) -> Event:
    links = ClaimEventLink.objects.select_related("claim__paragraph__document").order_by(
        "claim__paragraph__order", "claim__start"
    )
    return get_object_or_404(
        event_list().prefetch_related(Prefetch("claim_links", links, to_attr="links")),
        key=key,
    )


def actor_list() -> QuerySet[Actor]:
    return Actor.objects.all()


def actor_detail(key: str) -> Actor:
    return get_object_or_404(
        Actor.objects.prefetch_related(
            Prefetch("events", Event.objects.order_by("date")),
            Prefetch(
                "claims",
                Claim.objects.select_related("paragraph").order_by("paragraph__order", "start"),
            ),
        ),
        key=key,
    )
