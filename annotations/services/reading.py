"""Writes for the reading's records.

``reading_load`` is the one way the paper (or any other reading) gets into the
database: management commands, ``make demo`` and the tests all call it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F

from annotations.models import (
    Claim,
    ClaimEventLink,
    Document,
    Paragraph,
    Section,
    Source,
)
from annotations.reading_files import ReadingError, ReadingSpec, read_folder
from timeline.dates import PartialDate
from timeline.models import Actor, Event

__all__ = ["LoadReport", "ReadingError", "reading_load"]

FIELDS = {
    "document": {"slug", "title", "authors", "affiliation", "note", "keywords", "language"},
    "source": {
        "key", "kind", "authors", "year", "title", "container", "publisher", "place", "pages",
        "url", "doi", "accessed", "from_paper", "in_reference_list", "raw", "note",
    },
    "actor": {"key", "kind", "name", "iso_code", "aliases", "description"},
    "event": {
        "key", "title", "date", "end_date", "place", "type", "participants", "description", "sources",
    },
    "claim": {
        "key", "paragraph", "quote", "occurrence", "paraphrase", "kind", "variable", "step",
        "cites", "actors", "events", "stated_date", "note",
    },
    "link": {"event", "relation", "note"},
}  # fmt: skip
REQUIRED = {
    "source": {"key", "kind"},
    "actor": {"key", "kind", "name"},
    "event": {"key", "title", "date", "type"},
    "claim": {"key", "paragraph", "quote", "paraphrase", "kind"},
    "link": {"event", "relation"},
}


@dataclass
class LoadReport:
    """What a load created, updated, left alone and deleted, per kind of record."""

    document: str = ""
    dry_run: bool = False
    counts: dict[str, Counter] = field(default_factory=dict)

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += n

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] or c["deleted"] for c in self.counts.values())

    def as_table(self) -> str:
        rows = [f"{'record':<12} {'created':>8} {'updated':>8} {'unchanged':>10} {'deleted':>8}"]
        for kind, c in self.counts.items():
            rows.append(
                f"{kind:<12} {c['created']:>8} {c['updated']:>8} {c['unchanged']:>10} {c['deleted']:>8}"
            )
        return "\n".join(rows)


class _Loader:
    """One load: checks records as it writes them and gathers every problem."""

    def __init__(self, spec: ReadingSpec, report: LoadReport):
        self.spec = spec
        self.report = report
        self.problems: list[str] = []

    # -- helpers ---------------------------------------------------------------

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def check_fields(self, kind: str, record: dict[str, Any], where: str) -> bool:
        unknown = set(record) - FIELDS[kind] - {"_file"}
        missing = {name for name in REQUIRED.get(kind, ()) if record.get(name) in (None, "")}
        for name in sorted(unknown):
            self.problem(
                where,
                f"unknown field {name!r} (allowed: {', '.join(sorted(FIELDS[kind]))}).",
            )
        for name in sorted(missing):
            self.problem(where, f"the field {name!r} is required.")
        return not unknown and not missing

    def upsert(
        self,
        kind: str,
        model: type[models.Model],
        lookup: dict[str, Any],
        values: dict[str, Any],
        where: str,
    ) -> models.Model | None:
        """Create or update one row; save only when something differs."""
        instance = model.objects.filter(**lookup).first()
        created = instance is None
        if created:
            instance = model(**lookup)
        changed = created
        for name, value in values.items():
            if getattr(instance, name) != value:
                setattr(instance, name, value)
                changed = True
        try:
            instance.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.problem(where, f"{name}: {' '.join(messages)}")
            return None
        if changed:
            instance.save()
        self.report.count(kind, "created" if created else "updated" if changed else "unchanged")
        return instance

    def set_m2m(self, kind: str, manager: Any, wanted: list[models.Model]) -> None:
        """Make a many-to-many set equal ``wanted``; count it as an update when it changes."""
        if {obj.pk for obj in manager.all()} != {obj.pk for obj in wanted}:
            manager.set(wanted)
            counts = self.report.counts[kind]
            if counts["unchanged"]:
                counts["unchanged"] -= 1
                counts["updated"] += 1

    def resolve(self, keys: Any, table: dict[str, models.Model], what: str, where: str) -> list[models.Model]:
        if keys in (None, ""):
            return []
        if not isinstance(keys, list):
            self.problem(where, f"{what} must be a list of keys.")
            return []
        found = []
        for key in keys:
            if key in table:
                found.append(table[key])
            else:
                self.problem(where, f"unknown {what[:-1]} {key!r}.")
        return found

    def keyed(self, kind: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Records with a key, each key once; duplicates are problems."""
        seen: set[str] = set()
        out = []
        for index, record in enumerate(records, start=1):
            key = record.get("key")
            where = f"{record.get('_file', kind)}: {key or f'record {index}'}"
            if not self.check_fields(kind, record, where):
                continue
            if key in seen:
                self.problem(where, f"the key {key!r} is used twice.")
                continue
            seen.add(key)
            record["_where"] = where
            out.append(record)
        return out

    def partial_date(self, value: Any, where: str, name: str) -> PartialDate | None:
        if value in (None, ""):
            return None
        if isinstance(value, dt.date):  # YAML reads an unquoted 1996-04-26 as a date
            value = value.isoformat()
        try:
            return PartialDate.parse(str(value))
        except ValueError as error:
            self.problem(where, f"{name}: {error}.")
            return None

    # -- records ---------------------------------------------------------------

    def load_actors(self) -> dict[str, Actor]:
        table = dict(Actor.objects.in_bulk(field_name="key"))
        for record in self.keyed("actor", self.spec.actors):
            values = {
                "kind": record["kind"],
                "name": record["name"],
                "iso_code": record.get("iso_code") or "",
                "aliases": record.get("aliases") or [],
                "description": (record.get("description") or "").strip(),
            }
            actor = self.upsert("actors", Actor, {"key": record["key"]}, values, record["_where"])
            if actor:
                table[actor.key] = actor
        return table

    def load_sources(self) -> dict[str, Source]:
        table = dict(Source.objects.in_bulk(field_name="key"))
        for order, record in enumerate(self.keyed("source", self.spec.sources), start=1):
            where = record["_where"]
            accessed = self.partial_date(record.get("accessed"), where, "accessed")
            values = {
                "kind": record["kind"],
                "authors": record.get("authors") or [],
                "year": record.get("year"),
                "order": order,
                "accessed": accessed.date if accessed else None,
                "from_paper": bool(record.get("from_paper", False)),
                "in_reference_list": bool(record.get("in_reference_list", False)),
            }
            for name in (
                "title",
                "container",
                "publisher",
                "place",
                "pages",
                "url",
                "doi",
                "raw",
                "note",
            ):
                values[name] = (
                    str(record.get(name) or "").strip() if name != "raw" else record.get(name) or ""
                )
            source = self.upsert("sources", Source, {"key": record["key"]}, values, where)
            if source:
                table[source.key] = source
        return table

    def load_events(self, actors: dict[str, Actor], sources: dict[str, Source]) -> dict[str, Event]:
        table = dict(Event.objects.in_bulk(field_name="key"))
        for record in self.keyed("event", self.spec.events):
            where = record["_where"]
            start = self.partial_date(record.get("date"), where, "date")
            end = self.partial_date(record.get("end_date"), where, "end_date")
            if start is None:
                continue
            if end and end.date < start.date:
                self.problem(where, f"end_date {end.iso()} is before date {start.iso()}.")
                continue
            values = {
                "title": record["title"],
                "date": start.date,
                "precision": start.precision,
                "end_date": end.date if end else None,
                "end_precision": end.precision if end else "",
                "place": record.get("place") or "",
                "type": record["type"],
                "description": (record.get("description") or "").strip(),
            }
            event = self.upsert("events", Event, {"key": record["key"]}, values, where)
            if event is None:
                continue
            table[event.key] = event
            self.set_m2m(
                "events",
                event.participants,
                self.resolve(record.get("participants"), actors, "actors", where),
            )
            self.set_m2m(
                "events",
                event.sources,
                self.resolve(record.get("sources"), sources, "sources", where),
            )
        return table

    def load_text(self) -> tuple[Document, dict[str, Paragraph]]:
        meta = self.spec.document
        unknown = set(meta) - FIELDS["document"]
        for name in sorted(unknown):
            self.problem("front matter", f"unknown field {name!r}.")
        values = {
            "title": str(meta["title"]),
            "authors": meta.get("authors") or [],
            "affiliation": meta.get("affiliation") or "",
            "note": meta.get("note") or "",
            "keywords": meta.get("keywords") or [],
            "language": meta.get("language") or "en",
        }
        document = self.upsert("documents", Document, {"slug": meta["slug"]}, values, "front matter")
        if document is None:
            raise ReadingError(self.problems)

        existing_sections = {s.key: s for s in document.sections.all()}
        if {k: s.order for k, s in existing_sections.items()} != {
            s.key: s.order for s in self.spec.sections if s.key in existing_sections
        }:
            # Orders are unique per document: move the old ones out of the way first.
            document.sections.update(order=F("order") + 1_000_000)
        sections: dict[str, Section] = {}
        for spec in self.spec.sections:
            values = {
                "title": spec.title,
                "level": spec.level,
                "order": spec.order,
                "parent_id": sections[spec.parent_key].pk if spec.parent_key in sections else None,
            }
            section = self.upsert(
                "sections",
                Section,
                {"document": document, "key": spec.key},
                values,
                f"section {spec.title!r}",
            )
            if section:
                sections[spec.key] = section

        paragraphs: dict[str, Paragraph] = {}
        for spec in self.spec.paragraphs:
            section = sections.get(spec.section_key)
            values = {
                "order": spec.order,
                "text": spec.text,
                "section_id": section.pk if section else None,
            }
            paragraph = self.upsert(
                "paragraphs",
                Paragraph,
                {"document": document, "anchor": spec.anchor},
                values,
                spec.anchor,
            )
            if paragraph:
                paragraphs[spec.anchor] = paragraph
        stale = document.paragraphs.exclude(anchor__in=list(paragraphs))
        self.report.count("paragraphs", "deleted", stale.count())
        stale.delete()
        stale_sections = document.sections.exclude(key__in=list(sections))
        self.report.count("sections", "deleted", stale_sections.count())
        stale_sections.delete()
        return document, paragraphs

    def locate(self, record: dict[str, Any], paragraph: Paragraph, where: str) -> tuple[int, int] | None:
        quote = record["quote"]
        if not isinstance(quote, str):
            self.problem(where, "quote must be text.")
            return None
        starts, at = [], paragraph.text.find(quote)
        while at != -1:
            starts.append(at)
            at = paragraph.text.find(quote, at + 1)
        occurrence = record.get("occurrence")
        if not starts:
            self.problem(
                where,
                f"the quote is not a verbatim span of paragraph {paragraph.anchor}.",
            )
            return None
        if occurrence is None and len(starts) > 1:
            self.problem(
                where,
                f"the quote occurs {len(starts)} times in {paragraph.anchor}: say which with 'occurrence'.",
            )
            return None
        index = (occurrence or 1) - 1
        if not isinstance(occurrence or 1, int) or not 0 <= index < len(starts):
            self.problem(where, f"occurrence must be between 1 and {len(starts)}.")
            return None
        return starts[index], starts[index] + len(quote)

    def load_claims(
        self,
        document: Document,
        paragraphs: dict[str, Paragraph],
        actors: dict[str, Actor],
        sources: dict[str, Source],
        events: dict[str, Event],
    ) -> None:
        others = set(Claim.objects.exclude(paragraph__document=document).values_list("key", flat=True))
        keys: list[str] = []
        for record in self.keyed("claim", self.spec.claims):
            where = record["_where"]
            if record["key"] in others:
                self.problem(where, "this key belongs to a claim of another reading.")
                continue
            paragraph = paragraphs.get(record["paragraph"])
            if paragraph is None:
                self.problem(where, f"no paragraph {record['paragraph']!r} in this reading.")
                continue
            span = self.locate(record, paragraph, where)
            stated = self.partial_date(record.get("stated_date"), where, "stated_date")
            if span is None:
                continue
            values = {
                "paragraph_id": paragraph.pk,
                "quote": record["quote"],
                "start": span[0],
                "end": span[1],
                "paraphrase": str(record["paraphrase"]).strip(),
                "kind": record["kind"],
                "variable": record.get("variable") or Claim.Variable.NONE,
                "step": record.get("step") or Claim.Step.NONE,
                "stated_date": stated.date if stated else None,
                "stated_precision": stated.precision if stated else "",
                "note": (record.get("note") or "").strip(),
            }
            claim = self.upsert("claims", Claim, {"key": record["key"]}, values, where)
            if claim is None:
                continue
            keys.append(claim.key)
            self.set_m2m(
                "claims",
                claim.cites,
                self.resolve(record.get("cites"), sources, "sources", where),
            )
            self.set_m2m(
                "claims",
                claim.actors,
                self.resolve(record.get("actors"), actors, "actors", where),
            )
            self.load_links(claim, record.get("events") or [], events, where)
        stale = Claim.objects.filter(paragraph__document=document).exclude(key__in=keys)
        self.report.count("claims", "deleted", stale.count())
        stale.delete()

    def load_links(self, claim: Claim, records: Any, events: dict[str, Event], where: str) -> None:
        if not isinstance(records, list):
            self.problem(where, "events must be a list of {event, relation, note}.")
            return
        wanted: dict[int, dict[str, str]] = {}
        for record in records:
            if not isinstance(record, dict) or not self.check_fields("link", record, where):
                continue
            event = events.get(record["event"])
            if event is None:
                self.problem(where, f"unknown event {record['event']!r}.")
                continue
            if record["relation"] not in ClaimEventLink.Relation.values:
                self.problem(
                    where,
                    f"relation {record['relation']!r} is not one of {', '.join(ClaimEventLink.Relation.values)}.",
                )
                continue
            if event.pk in wanted:
                self.problem(where, f"the event {event.key!r} is linked twice.")
                continue
            wanted[event.pk] = {
                "relation": record["relation"],
                "note": (record.get("note") or "").strip(),
            }
        existing = {link.event_id: link for link in claim.event_links.all()}
        for event_id, values in wanted.items():
            link = existing.pop(event_id, None)
            if link is None:
                ClaimEventLink.objects.create(claim=claim, event_id=event_id, **values)
                self.report.count("links", "created")
            elif link.relation != values["relation"] or link.note != values["note"]:
                link.relation, link.note = values["relation"], values["note"]
                link.save(update_fields=["relation", "note"])
                self.report.count("links", "updated")
            else:
                self.report.count("links", "unchanged")
        for link in existing.values():
            link.delete()
            self.report.count("links", "deleted")


def reading_load(*, path: Path | str, dry_run: bool = False) -> LoadReport:
    """Load a reading's folder into the database, all or nothing.

    Records are matched by their natural keys, so loading the same folder twice
    changes nothing the second time. Claims, paragraphs and sections of the document
    that the folder no longer lists are removed; actors, events and sources, which
    other readings may share, are only added or updated. Raises ``ReadingError``
    listing every problem, and then nothing is written. With ``dry_run`` the report
    says what would change and the database is left as it was.
    """
    spec = read_folder(Path(path))
    report = LoadReport(document=str(spec.document.get("slug", "")), dry_run=dry_run)
    loader = _Loader(spec, report)
    with transaction.atomic():
        actors = loader.load_actors()
        sources = loader.load_sources()
        events = loader.load_events(actors, sources)
        document, paragraphs = loader.load_text()
        loader.load_claims(document, paragraphs, actors, sources, events)
        if loader.problems:
            raise ReadingError(loader.problems)
        if dry_run:
            transaction.set_rollback(True)
    return report
