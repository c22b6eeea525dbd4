"""The timeline, event and actor pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from annotations.models import Claim
from tests.factories import ActorFactory, ClaimFactory, EventFactory
from tests.helpers import queries_for
from timeline.models import Actor, Event

pytestmark = pytest.mark.django_db


def more_events(n: int = 20) -> None:
    for _ in range(n):
        event = EventFactory()
        event.participants.add(ActorFactory(), Actor.objects.get(key="china"))
        ClaimFactory(links=[(event, "describes")]).actors.add(Actor.objects.get(key="china"))


def test_the_timeline_draws_and_lists_every_event_linking_to_it(client, paper):
    response = client.get(reverse("timeline:timeline"))

    text = response.content.decode()
    assert "<svg" in text
    for event in Event.objects.all():
        assert text.count(f'href="{event.get_absolute_url()}"') == 2  # the drawing and the list
    assert '<h2 class="year__label" id="y1996">1996</h2>' in text


def test_the_timeline_shows_dates_at_their_precision(client, paper):
    text = client.get(reverse("timeline:timeline")).content.decode()

    assert '<time datetime="1996-04-26">26 April 1996</time>' in text
    assert '<time datetime="1992">1992</time>' in text
    assert '<time datetime="1995-12">December 1995</time>' in text


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("actor=pakistan", lambda e: e.participants.filter(key="pakistan").exists()),
        ("type=summit", lambda e: e.type == "summit"),
        ("year_from=2000&year_to=2001", lambda e: 2000 <= e.date.year <= 2001),
    ],
)
def test_the_timeline_filters(client, paper, query, keep):
    response = client.get(f"{reverse('timeline:timeline')}?{query}")

    shown = {event.key for event in response.context["events"]}
    wanted = {event.key for event in Event.objects.all() if keep(event)}
    assert wanted
    assert shown == wanted


def test_a_bad_timeline_filter_is_a_400_that_says_why(client, paper):
    response = client.get(f"{reverse('timeline:timeline')}?year_from=soon")

    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()


def test_the_timeline_runs_a_fixed_number_of_queries(client, paper):
    url = reverse("timeline:timeline")
    before = queries_for(client, url)
    more_events()

    assert queries_for(client, url) == before <= 6


def test_an_event_page_shows_its_facts_and_the_claims_about_it(client, paper):
    event = Event.objects.get(key="moscow-summit-1997")

    text = client.get(event.get_absolute_url()).content.decode()

    assert escape(event.title) in text
    assert "24 April 1997" in text
    assert Actor.objects.get(key="russia").get_absolute_url() in text
    for claim in Claim.objects.filter(events=event):
        assert claim.get_absolute_url() in text
    assert "Date mismatch:</strong> the paper says April 2012" in text


def test_an_unknown_event_is_a_404(client, db):
    assert client.get(reverse("timeline:event-detail", kwargs={"key": "no-such-event"})).status_code == 404


def test_an_event_page_runs_a_fixed_number_of_queries(client, paper):
    event = Event.objects.get(key="sco-founding-2001")
    before = queries_for(client, event.get_absolute_url())
    for _ in range(10):
        ClaimFactory(links=[(event, "context")])
        event.participants.add(ActorFactory())

    assert queries_for(client, event.get_absolute_url()) == before <= 8


def test_the_actors_page_groups_actors_by_kind(client, paper):
    text = client.get(reverse("timeline:actor-list")).content.decode()

    assert "States</h2>" in text
    assert "Organisations</h2>" in text
    assert 'title="ISO 3166 code">KGZ</abbr>' in text


def test_an_actor_page_lists_its_events_and_claims(client, paper):
    actor = Actor.objects.get(key="india")

    text = client.get(actor.get_absolute_url()).content.decode()

    for event in actor.events.all():
        assert event.get_absolute_url() in text
    for claim in actor.claims.all():
        assert claim.get_absolute_url() in text
    assert f"?actor={actor.key}" in text


def test_actor_pages_run_a_fixed_number_of_queries(client, paper):
    list_url, detail_url = reverse("timeline:actor-list"), Actor.objects.get(key="china").get_absolute_url()
    before = queries_for(client, list_url), queries_for(client, detail_url)
    more_events()

    assert (queries_for(client, list_url), queries_for(client, detail_url)) == before
    assert max(before) <= 4


def test_an_unknown_actor_is_a_404(client, db):
    assert client.get(reverse("timeline:actor-detail", kwargs={"key": "atlantis"})).status_code == 404
