"""Pages for reading the paper, its claims and sources."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from annotations.models import Claim, Paragraph
from tests.factories import ActorFactory, ClaimFactory, DocumentFactory, EventFactory, SourceFactory
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db


def more_claims(paper, n: int = 30) -> None:
    """Extra claims on the paper's first paragraph, each with an actor, a source and an event."""
    paragraph = paper.paragraphs.get(anchor="p-1")
    for _ in range(n):
        claim = ClaimFactory(
            paragraph=paragraph, quote="genuine multilateralism", links=[(EventFactory(), "context")]
        )
        claim.actors.add(ActorFactory())
        claim.cites.add(SourceFactory())


def test_home_says_what_the_platform_is_and_where_to_start(client, paper):
    response = client.get("/")

    text = response.content.decode()
    assert "Read a published argument critically" in text
    assert paper.get_absolute_url() in text
    assert reverse("timeline:timeline") in text


def test_home_runs_a_fixed_number_of_queries(client, paper):
    before = queries_for(client, "/")
    DocumentFactory.create_batch(5)

    assert queries_for(client, "/") == before <= 2


def test_read_goes_to_the_first_reading(client, paper):
    response = client.get(reverse("annotations:reading-default"))

    assert response.status_code == 302
    assert response["Location"] == paper.get_absolute_url()


def test_read_without_a_reading_explains_how_to_load_one(client, paper):
    Claim.objects.all().delete()
    Paragraph.objects.all().delete()
    paper.delete()

    response = client.get(reverse("annotations:reading-default"))

    assert response.status_code == 404
    assert "load_reading" in response.content.decode()


def test_the_reading_shows_every_paragraph_with_its_anchor_and_a_table_of_contents(client, paper):
    response = client.get(paper.get_absolute_url())

    text = response.content.decode()
    for paragraph in paper.paragraphs.all():
        assert f'id="{paragraph.anchor}"' in text
    for section in paper.sections.all():
        assert f'href="#{section.key}"' in text
    assert text.count('class="paragraph"') == paper.paragraphs.count()


def test_the_reading_highlights_every_claim_in_place_linking_to_it(client, paper):
    response = client.get(paper.get_absolute_url())

    text = response.content.decode()
    claims = Claim.objects.filter(paragraph__document=paper)
    for claim in claims:
        assert f'id="{claim.key}"' in text
        assert f'href="{claim.get_absolute_url()}"' in text
    assert len(re.findall(r'<mark class="claim', text)) >= claims.count()


def test_the_reading_escapes_the_text(client, paper):
    paragraph = paper.paragraphs.get(anchor="p-1")
    paragraph.text = paragraph.text + " <script>alert(1)</script>"
    paragraph.save()

    response = client.get(paper.get_absolute_url())

    assert "<script>alert(1)</script>" not in response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()


def test_an_unknown_reading_is_a_404(client, db):
    assert client.get("/read/no-such-reading/").status_code == 404


def test_the_reading_runs_a_fixed_number_of_queries(client, paper):
    url = paper.get_absolute_url()
    paper.save()  # a new stamp: the structure is read afresh
    cold = queries_for(client, url)
    warm = queries_for(client, url)
    more_claims(paper)

    assert queries_for(client, url) == cold <= 6
    assert warm == 1  # the document's row: its sections, paragraphs and claims are kept


def test_a_change_to_the_reading_shows_at_once(client, paper):
    url = paper.get_absolute_url()
    client.get(url)
    paragraph = paper.paragraphs.get(anchor="p-1")
    paragraph.text = paragraph.text.replace("multilateralism", "multilateral cooperation", 1)
    paragraph.save()
    edited = client.get(url).content.decode()
    claim = paragraph.claims.order_by("start").first()
    claim.delete()
    without_claim = client.get(url).content.decode()

    assert "multilateral cooperation" in edited
    assert f'<mark class="claim claim--{claim.kind}" id="{claim.key}">' in edited
    assert f'id="{claim.key}"' not in without_claim


def test_the_claims_list_shows_paraphrase_quote_and_place(client, paper):
    response = client.get(reverse("annotations:claim-list"))

    text = response.content.decode()
    first = Claim.objects.filter(paragraph__document=paper).order_by("paragraph__order", "start").first()
    assert f"{Claim.objects.count()} claims" in text
    assert escape(first.paraphrase) in text
    assert first.get_absolute_url() in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=definitional", lambda c: c.kind == "definitional"),
        ("variable=common_interests", lambda c: c.variable == "common_interests"),
        ("step=framework", lambda c: c.step == "framework"),
        ("actor=pakistan", lambda c: c.actors.filter(key="pakistan").exists()),
        ("event=moscow-summit-1997", lambda c: c.events.filter(key="moscow-summit-1997").exists()),
        ("source=xu-ji-2002", lambda c: c.cites.filter(key="xu-ji-2002").exists()),
        ("paragraph=p-20", lambda c: c.paragraph.anchor == "p-20"),
        ("q=Dushanbe", lambda c: "dushanbe" in (c.quote + c.paraphrase + c.note).lower()),
    ],
)
def test_the_claims_list_filters(client, paper, query, expected):
    response = client.get(f"{reverse('annotations:claim-list')}?{query}&page=1")

    shown = {claim.key for claim in response.context["page"].paginator.object_list}
    wanted = {claim.key for claim in Claim.objects.all() if expected(claim)}
    assert response.status_code == 200
    assert wanted
    assert shown == wanted


def test_the_section_filter_includes_subsections(client, paper):
    crisis = paper.sections.get(title__startswith="Crisis Management")

    response = client.get(f"{reverse('annotations:claim-list')}?section={crisis.key}")

    sections = {c.paragraph.section for c in response.context["page"].paginator.object_list}
    assert sections == {crisis, *crisis.children.all()}


def test_a_bad_filter_is_a_400_that_names_the_field(client, paper):
    response = client.get(f"{reverse('annotations:claim-list')}?kind=rumour&actor=atlantis")

    text = response.content.decode()
    assert response.status_code == 400
    assert "Select a valid choice. rumour is not one of the available choices." in text
    assert 'id="id_actor-error"' in text
    assert "Fix the filters marked above" in text


def test_the_claims_list_pages_and_keeps_the_filters(client, paper):
    response = client.get(f"{reverse('annotations:claim-list')}?variable=none")

    page = response.context["page"]
    if page.has_next():
        assert "variable=none&amp;page=2" in response.content.decode()
    assert len(page.object_list) <= 25


def test_the_claims_list_runs_a_fixed_number_of_queries(client, paper):
    url = reverse("annotations:claim-list") + "?page_size=ignored"
    before = queries_for(client, url)
    more_claims(paper)

    assert queries_for(client, url) == before <= 12


def test_a_claim_shows_its_quote_in_its_paragraph_with_sources_actors_and_events(client, paper):
    claim = Claim.objects.get(quote__contains="In April 2012, the five leaders met in Moscow")

    response = client.get(claim.get_absolute_url())

    text = response.content.decode()
    assert escape(claim.paraphrase) in text
    assert f'<mark class="claim">{escape(claim.quote)}</mark>' in text
    assert escape(claim.paragraph.text[: claim.start][-40:]) in text
    assert "Date mismatch:</strong> the paper says April 2012; the record says 24 April 1997." in text
    for actor in claim.actors.all():
        assert actor.get_absolute_url() in text


def test_a_claim_lists_the_sources_the_paper_cites_for_it(client, paper):
    claim = Claim.objects.filter(cites__key="xu-ji-2002").first()

    text = client.get(claim.get_absolute_url()).content.decode()

    assert "Shanghai Cooperation Organization: New Security Concept and New Mechanism" in text


def test_an_unknown_claim_is_a_404(client, db):
    assert client.get(reverse("annotations:claim-detail", kwargs={"key": "c-99-9"})).status_code == 404


def test_a_claim_runs_a_fixed_number_of_queries(client, paper):
    claim = Claim.objects.get(key="c-01-1")
    before = queries_for(client, claim.get_absolute_url())
    for _ in range(5):
        claim.actors.add(ActorFactory())
        claim.cites.add(SourceFactory())

    assert queries_for(client, claim.get_absolute_url()) == before <= 8


def test_the_sources_page_lists_the_reference_list_as_printed(client, paper):
    text = client.get(reverse("annotations:source-list")).content.decode()

    assert 'id="xu-ji-2002"' in text
    assert "Shishi Press" in text
    assert "not in the reference list" in text  # Wang Haiyang (2015) is cited but not listed


def test_the_sources_page_runs_a_fixed_number_of_queries(client, paper):
    url = reverse("annotations:source-list")
    before = queries_for(client, url)
    more_claims(paper, 10)

    assert queries_for(client, url) == before <= 4


def test_the_claims_list_filters_to_date_mismatches(client, paper):
    response = client.get(reverse("annotations:claim-list"), {"mismatch": "true"})

    shown = [claim.key for claim in response.context["page"].paginator.object_list]
    expected = sorted(c.key for c in Claim.objects.all() if c.has_date_mismatch)
    assert sorted(shown) == expected
    assert {"c-20-8", "c-28-4", "c-04-4"} <= set(shown)  # "April 2012", "May 5", "July 5, 2000"
    assert "date disagrees with the record" in response.content.decode()
    rest = client.get(reverse("annotations:claim-list"), {"mismatch": "false"}).context["page"].paginator
    assert rest.count == Claim.objects.count() - len(expected)


def test_the_mismatch_filter_runs_a_fixed_number_of_queries(client, paper):
    url = reverse("annotations:claim-list") + "?mismatch=true"
    before = queries_for(client, url)
    more_claims(paper)

    assert queries_for(client, url) == before


def test_the_reading_points_a_member_to_their_course_and_a_visitor_to_sign_in(client, paper, course, author):
    anonymous = client.get(paper.get_absolute_url()).content.decode()
    client.force_login(author)
    member = client.get(paper.get_absolute_url()).content.decode()

    assert reverse("login") in anonymous
    assert reverse("annotate:reading", kwargs={"pk": course.pk}) in member
