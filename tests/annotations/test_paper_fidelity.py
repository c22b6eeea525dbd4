"""The paper's records are faithful to the paper: verbatim text, real spans, full coverage."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from annotations.models import Claim, ClaimEventLink, Paragraph, Section, Source
from timeline.models import Actor, Event

pytestmark = pytest.mark.django_db

HEADING = re.compile(r"^(□ \*\*.*\*\*|Abstract|Introduction|Conclusion: .*)$")
SENTENCE_END = re.compile(r"[.!?\"”)]$")


def body_paragraphs(paper_txt: str) -> list[str]:
    """The paper's body as published, split into paragraphs, page breaks mended.

    Written independently of the loader: from "Abstract" to "References", headings and
    the keywords line left out. A page break (two or more blank lines) inside a
    sentence joins the halves with a space; after a finished sentence it ends the paragraph.
    """
    lines = paper_txt.split("\n")
    body = "\n".join(lines[lines.index("Abstract") : lines.index("References")])
    paragraphs: list[str] = []
    for separator, block in re.findall(r"(\n*)([^\n]+)", body):
        if HEADING.match(block) or block.startswith("Keywords: "):
            continue
        page_break = len(separator) >= 3
        if paragraphs and page_break and not SENTENCE_END.search(paragraphs[-1]):
            paragraphs[-1] += " " + block
        else:
            paragraphs.append(block)
    return paragraphs


def reference_entries(paper_txt: str) -> list[str]:
    tail = paper_txt.split("\nReferences\n", 1)[1]
    return [line for line in tail.split("\n") if line.startswith("- ")]


def test_the_paragraphs_joined_give_back_the_body_text(paper, paper_txt):
    stored = list(paper.paragraphs.order_by("order").values_list("text", flat=True))

    assert stored == body_paragraphs(paper_txt)


def test_page_breaks_inside_sentences_are_mended(paper):
    # "…couched as different forms of "selective multilateralism" by" + page break + "countries…"
    paragraph = paper.paragraphs.get(anchor="p-2")

    assert '"selective multilateralism" by countries seeking' in paragraph.text
    assert "\n" not in "".join(paper.paragraphs.values_list("text", flat=True))


def test_the_reference_list_is_not_body_text(paper):
    assert not paper.paragraphs.filter(text__startswith="- ").exists()
    assert not paper.paragraphs.filter(text__contains="Changchun Publishing House").exists()


def test_sections_keep_the_papers_hierarchy(paper):
    top = list(paper.sections.filter(parent=None).values_list("title", flat=True))
    crisis = paper.sections.get(title__startswith="Crisis Management")

    assert top[0] == "Abstract"
    assert top[1] == "Introduction"
    assert top[-1].startswith("Conclusion")
    assert [t.split(":")[0] for t in top[2:6]] == [
        "Crisis Management",
        "Common Interests",
        "International Coordination",
        "Collective Intention",
    ]
    assert list(crisis.children.values_list("title", flat=True)) == [
        'The China-Soviet Union "boundary issue" led to the birth of the "Shanghai Five" mechanism',
        'The new geopolitical situation continues the institutional cooperation of the "Shanghai Five"',
        "Counter-terrorism cooperation promotes the institutionalization and expansion of the SCO",
    ]
    assert Section.objects.filter(document=paper, level=2, parent=None).count() == 0


def test_anchors_are_stable_and_sequential(paper):
    anchors = list(paper.paragraphs.order_by("order").values_list("anchor", "order"))

    assert anchors == [(f"p-{n}", n) for n in range(1, len(anchors) + 1)]


def test_every_quote_is_verbatim_at_its_offsets(paper):
    claims = Claim.objects.filter(paragraph__document=paper).select_related("paragraph")

    for claim in claims:
        assert claim.paragraph.text[claim.start : claim.end] == claim.quote, claim.key


def test_every_quote_is_paper_text(paper, paper_txt):
    body = "\n".join(body_paragraphs(paper_txt))

    for quote in Claim.objects.filter(paragraph__document=paper).values_list("quote", flat=True):
        assert quote in body


def test_every_paragraph_yields_a_claim_and_the_paper_at_least_100(paper):
    without = Paragraph.objects.filter(document=paper, claims=None).values_list("anchor", flat=True)

    assert list(without) == []
    assert Claim.objects.filter(paragraph__document=paper).count() >= 100


def test_claims_of_a_paragraph_do_not_overlap(paper):
    for paragraph in paper.paragraphs.prefetch_related("claims"):
        spans = sorted((c.start, c.end, c.key) for c in paragraph.claims.all())
        for (_, end, key), (start, _, next_key) in pairwise(spans):
            assert end <= start, f"{key} overlaps {next_key}"


def test_paraphrases_are_our_words_not_the_quote(paper):
    for claim in Claim.objects.filter(paragraph__document=paper).select_related("paragraph"):
        assert claim.paraphrase.strip()
        assert claim.paraphrase not in claim.paragraph.text, claim.key


def test_every_event_is_linked_to_a_claim():
    assert list(Event.objects.filter(claim_links=None).values_list("key", flat=True)) == []


def test_every_source_of_the_paper_is_cited_by_a_claim():
    uncited = Source.objects.filter(from_paper=True, claims=None).values_list("key", flat=True)

    assert list(uncited) == []


def test_the_whole_reference_list_becomes_sources_one_per_entry(paper_txt):
    entries = reference_entries(paper_txt)
    listed = list(Source.objects.filter(in_reference_list=True).order_by("order"))

    assert len(listed) == len(entries)
    for entry, source in zip(entries, listed, strict=True):
        assert source.raw.split("\n")[0] == entry
        assert source.raw in paper_txt


def test_sources_are_parsed_into_fields():
    xu_ji = Source.objects.get(key="xu-ji-2002")

    assert xu_ji.year == 2002
    assert xu_ji.kind == Source.Kind.BOOK
    assert xu_ji.publisher == "Shishi Press"
    assert "New Security Concept" in xu_ji.title
    assert Source.objects.get(key="xinhuanet-2015").url.startswith("http://www.xinhuanet.com/")


def test_states_carry_iso_codes_and_others_none():
    assert Actor.objects.filter(kind=Actor.Kind.STATE, iso_code="").count() == 0
    assert Actor.objects.exclude(kind=Actor.Kind.STATE).exclude(iso_code="").count() == 0
    assert Actor.objects.get(key="china").iso_code == "CHN"
    assert Actor.objects.get(key="soviet-union").iso_code == "SUN"


def test_a_wrong_date_in_the_paper_stays_in_the_claim_and_the_event_keeps_the_record():
    # The paper dates the Moscow agreement of 24 April 1997 to "April 2012".
    claim = Claim.objects.get(quote__contains="In April 2012, the five leaders met in Moscow")
    link = claim.event_links.get(event__key="moscow-summit-1997")

    assert claim.stated_date_iso == "2012-04"
    assert link.event.date_iso == "1997-04-24"
    assert link.date_disagrees


def test_the_papers_misdated_events_are_exactly_the_ones_flagged():
    flagged = {
        (link.claim.key, link.event.key)
        for link in ClaimEventLink.objects.select_related("claim", "event")
        if link.date_disagrees
    }

    assert {event for _, event in flagged} == {
        "moscow-summit-1997",  # "In April 2012"
        "dushanbe-summit-2000",  # "May 5"
        "dushanbe-foreign-ministers-2000",  # "On July 5, 2000", the newspaper's date
    }


def test_a_date_in_a_context_link_is_not_read_as_the_events_date():
    link = ClaimEventLink.objects.filter(relation="context", claim__stated_date__isnull=False).first()

    assert link is not None
    assert not link.date_disagrees


def test_a_right_date_agrees_at_the_precision_stated():
    claim = Claim.objects.filter(quote__contains="April 1996").first()
    link = claim.event_links.get(event__key="shanghai-summit-1996")

    assert not link.date_disagrees
