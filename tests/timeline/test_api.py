"""Read-only API for events and actors, and the TimelineJS export."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import EventFactory
from tests.helpers import queries_for
from tests.timeline.test_pages import more_events
from timeline.models import Actor, Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_an_event_has_its_date_at_its_precision(api, paper):
    data = api.get("/api/v1/events/five-two-parties-talks-1992/").json()

    assert data["date"] == "1992"
    assert data["precision"] == "year"
    ufa = api.get("/api/v1/events/ufa-summit-2015/").json()
    assert (ufa["date"], ufa["end_date"]) == ("2015-07-09", "2015-07-10")
    assert "india" in ufa["participants"]


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"actor": "uzbekistan"}, lambda e: e.participants.filter(key="uzbekistan").exists()),
        ({"type": "ministerial"}, lambda e: e.type == "ministerial"),
        ({"year_from": 2005, "year_to": 2010}, lambda e: 2005 <= e.date.year <= 2010),
    ],
)
def test_events_filter_like_the_timeline(api, paper, params, keep):
    data = api.get("/api/v1/events/", {**params, "page_size": 200}).json()

    wanted = {e.key for e in Event.objects.all() if keep(e)}
    assert wanted
    assert {e["key"] for e in data["results"]} == wanted


def test_actors_filter_by_kind_and_iso_code(api, paper):
    states = api.get("/api/v1/actors/", {"kind": "state", "page_size": 200}).json()
    kazakhstan = api.get("/api/v1/actors/", {"iso_code": "kaz"}).json()

    assert states["count"] == Actor.objects.filter(kind="state").count()
    assert [a["key"] for a in kazakhstan["results"]] == ["kazakhstan"]


def test_a_bad_event_filter_is_a_400(api, paper):
    response = api.get("/api/v1/events/", {"type": "party"})

    assert response.status_code == 400
    assert "type" in response.json()


@pytest.mark.parametrize("url", ["/api/v1/events/", "/api/v1/actors/", "/api/v1/timeline.json"])
def test_lists_run_a_fixed_number_of_queries(api, paper, url):
    before = queries_for(api, url + "?page_size=200")
    more_events()

    assert queries_for(api, url + "?page_size=200") == before <= 4


def test_timeline_json_is_in_timelinejs3_format(api, paper):
    data = api.get("/api/v1/timeline.json").json()

    assert set(data) == {"title", "events"}
    assert data["title"]["text"]["headline"]
    assert len(data["events"]) == Event.objects.count()
    by_id = {slide["unique_id"]: slide for slide in data["events"]}
    assert by_id["shanghai-summit-1996"]["start_date"] == {"year": 1996, "month": 4, "day": 26}
    assert by_id["five-two-parties-talks-1992"]["start_date"] == {"year": 1992}
    assert by_id["border-disarmament-terms-1995"]["start_date"] == {"year": 1995, "month": 12}
    assert by_id["ufa-summit-2015"]["end_date"] == {"year": 2015, "month": 7, "day": 10}
    for slide in data["events"]:
        assert slide["text"]["headline"]
        assert "/events/" in slide["text"]["text"]


def test_timeline_json_filters_and_refuses_bad_filters(api, paper):
    data = api.get("/api/v1/timeline.json", {"type": "attack"}).json()

    assert {s["unique_id"] for s in data["events"]} == set(
        Event.objects.filter(type="attack").values_list("key", flat=True)
    )
    assert api.get("/api/v1/timeline.json", {"year_from": "x"}).status_code == 400


def test_timeline_json_escapes_html(api, paper):
    EventFactory(title="<img src=x onerror=alert(1)>", description="<script>x</script>")

    body = api.get("/api/v1/timeline.json").content.decode()

    assert "<img src=x" not in body
    assert "<script>x</script>" not in body
