"""The loader: idempotent, all-or-nothing, clear about bad input, usable for other readings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from annotations.models import Claim, ClaimEventLink, Document, Paragraph, Section, Source
from annotations.services import ReadingError, reading_load
from timeline.models import Actor, Event

pytestmark = pytest.mark.django_db

MODELS = [Document, Section, Paragraph, Claim, ClaimEventLink, Source, Actor, Event]

READING_MD = """---
slug: test-essay
title: A test essay
authors: [Ann Author]
---
# Opening

The alliance was founded in Riga in May 1991. It grew quickly.

## Growth

Trade between members doubled by 1995, the essay argues.
"""

CLAIMS_YAML = """
- key: essay-01-1
  paragraph: p-1
  quote: |-
    The alliance was founded in Riga in May 1991.
  paraphrase: The essay dates the alliance's founding to spring 1991.
  kind: factual
  stated_date: "1991-05"
  actors: [essay-alliance]
  events:
    - event: essay-founding
      relation: dates
- key: essay-02-1
  paragraph: p-2
  quote: |-
    Trade between members doubled by 1995
  paraphrase: Members traded twice as much within four years.
  kind: causal
  cites: [essay-source]
"""

EVENTS_YAML = """
- key: essay-founding
  title: Founding of the alliance
  date: "1991-06-02"
  type: agreement
  participants: [essay-alliance]
"""

ACTORS_YAML = """
- key: essay-alliance
  kind: organisation
  name: The Alliance
"""

SOURCES_YAML = """
- key: essay-source
  kind: article
  authors: [Bo Writer]
  year: 1996
  title: Trade in the alliance
  container: Journal of Tests
  doi: 10.1234/abcd.5
"""


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def essay(tmp_path: Path) -> Path:
    folder = tmp_path / "essay"
    (folder / "claims").mkdir(parents=True)
    (folder / "reading.md").write_text(READING_MD, encoding="utf-8")
    (folder / "claims" / "claims.yaml").write_text(CLAIMS_YAML, encoding="utf-8")
    (folder / "events.yaml").write_text(EVENTS_YAML, encoding="utf-8")
    (folder / "actors.yaml").write_text(ACTORS_YAML, encoding="utf-8")
    (folder / "sources.yaml").write_text(SOURCES_YAML, encoding="utf-8")
    return folder


def test_loading_the_paper_again_changes_nothing(paper):
    before = counts()
    claim = Claim.objects.get(key="c-01-1")

    report = reading_load(path=settings.DEFAULT_READING_DIR)

    assert not report.changed
    assert counts() == before
    assert report.counts["claims"]["unchanged"] == Claim.objects.filter(paragraph__document=paper).count()
    assert Claim.objects.get(key="c-01-1").pk == claim.pk


def test_the_command_says_when_nothing_changed(paper, capsys):
    call_command("load_reading")

    out = capsys.readouterr().out
    assert "Already up to date: nothing changed." in out
    assert "claims" in out


def test_a_markdown_reading_imports_with_its_claims_events_actors_and_sources(essay):
    report = reading_load(path=essay)

    document = Document.objects.get(slug="test-essay")
    claim = Claim.objects.get(key="essay-01-1")
    link = claim.event_links.get()
    assert report.counts["claims"]["created"] == 2
    assert [s.title for s in document.sections.order_by("order")] == ["Opening", "Growth"]
    assert document.sections.get(key="growth").parent.key == "opening"
    assert claim.paragraph.anchor == "p-1"
    assert (claim.start, claim.end) == (0, len("The alliance was founded in Riga in May 1991."))
    assert link.event.date_iso == "1991-06-02"
    assert link.date_disagrees  # the essay says May; the record says June
    assert list(Claim.objects.get(key="essay-02-1").cites.values_list("key", flat=True)) == ["essay-source"]


def test_a_plain_text_reading_becomes_one_section(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "reading.txt").write_text("First paragraph.\n\nSecond paragraph.\n", encoding="utf-8")

    reading_load(path=folder)

    document = Document.objects.get(slug="notes")
    assert list(document.sections.values_list("key", flat=True)) == ["text"]
    assert list(document.paragraphs.values_list("text", flat=True)) == [
        "First paragraph.",
        "Second paragraph.",
    ]


def test_a_second_load_of_an_edited_folder_updates_and_removes(essay):
    reading_load(path=essay)
    edited = CLAIMS_YAML.split("- key: essay-02-1")[0].replace(
        "The essay dates the alliance's founding to spring 1991.", "A new paraphrase."
    )
    (essay / "claims" / "claims.yaml").write_text(edited, encoding="utf-8")

    report = reading_load(path=essay)

    assert report.counts["claims"]["updated"] == 1
    assert report.counts["claims"]["deleted"] == 1
    assert Claim.objects.get(key="essay-01-1").paraphrase == "A new paraphrase."
    assert not Claim.objects.filter(key="essay-02-1").exists()


def test_a_dry_run_reports_but_writes_nothing(essay):
    before = counts()

    report = reading_load(path=essay, dry_run=True)

    assert report.dry_run
    assert report.counts["claims"]["created"] == 2
    assert counts() == before


@pytest.mark.parametrize(
    ("needle", "replacement", "message"),
    [
        (
            "The alliance was founded in Riga in May 1991.",
            "The alliance was founded in Oslo.",
            "essay-01-1: the quote is not a verbatim span of paragraph p-1",
        ),
        ("paragraph: p-2", "paragraph: p-9", "essay-02-1: no paragraph 'p-9'"),
        ("kind: causal", "kind: causul", "essay-02-1: kind: Value 'causul' is not a valid choice."),
        ("cites: [essay-source]", "cites: [no-such-source]", "essay-02-1: unknown source 'no-such-source'"),
        ("relation: dates", "relation: mentions", "relation 'mentions' is not one of"),
        ('stated_date: "1991-05"', 'stated_date: "1991-13"', "stated_date: '1991-13' is not a real date"),
        ("paraphrase: Members", "paraphrse: Members", "unknown field 'paraphrse'"),
    ],
)
def test_bad_records_are_refused_with_a_specific_message_and_nothing_is_written(
    essay, needle, replacement, message
):
    path = essay / "claims" / "claims.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(needle, replacement), encoding="utf-8")
    before = counts()

    with pytest.raises(ReadingError) as caught:
        reading_load(path=essay)

    assert any(message in problem for problem in caught.value.problems), caught.value.problems
    assert counts() == before


def test_an_event_ending_before_it_starts_is_refused(essay):
    (essay / "events.yaml").write_text(EVENTS_YAML + '  end_date: "1991-01"\n', encoding="utf-8")

    with pytest.raises(ReadingError) as caught:
        reading_load(path=essay)

    assert "events.yaml: essay-founding: end_date 1991-01 is before date 1991-06-02." in caught.value.problems


def test_a_claim_key_of_another_reading_is_refused(essay, paper):
    path = essay / "claims" / "claims.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("essay-01-1", "c-01-1"), encoding="utf-8")

    with pytest.raises(ReadingError) as caught:
        reading_load(path=essay)

    assert (
        "claims/claims.yaml: c-01-1: this key belongs to a claim of another reading." in caught.value.problems
    )
    assert Claim.objects.get(key="c-01-1").paragraph.document == paper


def test_the_command_refuses_a_missing_folder_and_names_it(tmp_path):
    with pytest.raises(CommandError, match="no such folder"):
        call_command("load_reading", str(tmp_path / "missing"))


def test_the_command_lists_every_problem(essay):
    shutil.copy(essay / "sources.yaml", essay / "actors.yaml")  # sources are not actors

    with pytest.raises(CommandError) as caught:
        call_command("load_reading", str(essay))

    text = str(caught.value)
    assert "nothing was written" in text
    assert "actors.yaml: essay-source: unknown field 'authors'" in text
    assert "unknown actor 'essay-alliance'" in text
