"""Read-only API for documents, paragraphs, claims and sources."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annotations.models import Claim, Source
from annotations.services.sources import source_add
from tests.annotations.test_pages import more_claims
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_documents_list_their_sections(api, paper):
    data = api.get("/api/v1/documents/").json()

    document = data["results"][0]
    assert document["slug"] == paper.slug
    assert document["sections"][0] == {
        "key": "abstract",
        "document": paper.slug,
        "title": "Abstract",
        "level": 1,
        "order": 1,
        "parent": None,
    }
    assert api.get(f"/api/v1/documents/{paper.slug}/").json()["title"] == paper.title


def test_paragraphs_are_filtered_by_document_section_and_anchor(api, paper):
    data = api.get("/api/v1/paragraphs/", {"document": paper.slug, "anchor": "p-5"}).json()

    assert data["count"] == 1
    paragraph = data["results"][0]
    assert paragraph["text"] == paper.paragraphs.get(anchor="p-5").text
    assert paragraph["claims"] == list(
        Claim.objects.filter(paragraph__anchor="p-5").order_by("start").values_list("key", flat=True)
    )


def test_a_claim_has_its_span_links_and_keys(api, paper):
    claim = Claim.objects.get(quote__contains="In April 2012, the five leaders met in Moscow")

    data = api.get(f"/api/v1/claims/{claim.key}/").json()

    assert data["quote"] == claim.quote
    assert (data["start"], data["end"]) == (claim.start, claim.end)
    assert data["paragraph"] == claim.paragraph.anchor
    assert data["stated_date"] == "2012-04"
    link = next(link for link in data["events"] if link["event"] == "moscow-summit-1997")
    assert link["date_disagrees"] is True
    assert set(data["actors"]) == set(claim.actors.values_list("key", flat=True))


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"kind": "causal"}, lambda c: c.kind == "causal"),
        ({"variable": "collective_intention"}, lambda c: c.variable == "collective_intention"),
        ({"step": "reinstitutionalization"}, lambda c: c.step == "reinstitutionalization"),
        ({"actor": "india"}, lambda c: c.actors.filter(key="india").exists()),
        ({"event": "ufa-summit-2015"}, lambda c: c.events.filter(key="ufa-summit-2015").exists()),
        ({"source": "sco-website-2010"}, lambda c: c.cites.filter(key="sco-website-2010").exists()),
        ({"q": "Tashkent"}, lambda c: "tashkent" in (c.quote + c.paraphrase + c.note).lower()),
    ],
)
def test_claims_filter_like_the_page(api, paper, params, keep):
    data = api.get("/api/v1/claims/", {**params, "page_size": 200}).json()

    wanted = {c.key for c in Claim.objects.all() if keep(c)}
    assert wanted
    assert {c["key"] for c in data["results"]} == wanted
    assert data["count"] == len(wanted)


def test_a_bad_filter_is_a_400_with_field_messages(api, paper):
    response = api.get("/api/v1/claims/", {"kind": "rumour", "actor": "atlantis"})

    assert response.status_code == 400
    assert response.json() == {
        "kind": ["Select a valid choice. rumour is not one of the available choices."],
        "actor": ["Select a valid choice. That choice is not one of the available choices."],
    }


def test_claims_are_paginated(api, paper):
    data = api.get("/api/v1/claims/", {"page_size": 10}).json()

    assert len(data["results"]) == 10
    assert data["count"] == Claim.objects.count()
    assert "page=2" in data["next"]


def test_an_unknown_claim_is_a_404(api, db):
    assert api.get("/api/v1/claims/c-99-9/").status_code == 404


def test_sources_carry_their_fields_and_citation(api, paper):
    data = api.get("/api/v1/sources/xinhuanet-2015/").json()

    assert data["link"].startswith("http://www.xinhuanet.com/")
    assert data["year"] == 2015
    assert data["in_reference_list"] is True
    assert data["citation"]
    listed = api.get("/api/v1/sources/", {"from_paper": "true", "page_size": 200}).json()
    assert listed["count"] == Source.objects.filter(from_paper=True).count()


@pytest.mark.parametrize(
    "url", ["/api/v1/claims/", "/api/v1/paragraphs/", "/api/v1/sources/", "/api/v1/documents/"]
)
def test_lists_run_a_fixed_number_of_queries(api, paper, url):
    before = queries_for(api, f"{url}?page_size=200")
    more_claims(paper)

    assert queries_for(api, f"{url}?page_size=200") == before <= 8


def test_the_api_is_read_only(api, paper, curator):
    api.force_authenticate(curator)

    response = api.post("/api/v1/claims/", {"key": "x"}, format="json")

    assert response.status_code == 405
    assert api.delete("/api/v1/claims/c-01-1/").status_code == 405
    assert Claim.objects.filter(key="c-01-1").exists()


def test_claims_filter_to_date_mismatches(api, paper):
    data = api.get("/api/v1/claims/", {"mismatch": "true", "page_size": 200}).json()

    keys = {c["key"] for c in data["results"]}
    assert keys == {c.key for c in Claim.objects.all() if c.has_date_mismatch}
    assert all(any(link["date_disagrees"] for link in c["events"]) for c in data["results"])


def test_the_claims_source_filter_knows_only_the_readings_sources(api, course, author):
    source, _ = source_add(
        user=author, course=course, kind="book", title="A course book", year=2001, authors=["Doe, Jane"]
    )

    response = api.get("/api/v1/claims/", {"source": source.key})

    assert response.status_code == 400
    assert "source" in response.json()
