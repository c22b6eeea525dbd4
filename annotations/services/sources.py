"""Writes for sources: adding one by hand, and reading BibTeX or CSL-JSON to add many.

A course's members add sources to the course. A source whose DOI or URL (normalised, see
``annotations.citations``) is already among the course's sources or the reading's own is
not copied: the existing record is returned instead, with ``created=False``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.citations import (
    is_valid_doi,
    name_from_parts,
    normalise_doi,
    normalise_url,
    parse_name,
)
from annotations.models import Course, Source
from annotations.models.moderated import ModerationState
from annotations.services.moderation import hold, premoderated

NOT_A_MEMBER = _("Only members of this course can add sources to it.")
KIND_INVALID = _("Choose one of: {choices}.")
TITLE_MISSING = _("Give the title.")
DOI_INVALID = _(
    "A DOI looks like 10.1234/abcd (https://doi.org/10.1234/abcd works too); “{value}” is not one."
)
URL_INVALID = _("Give a web address that starts with http:// or https://; “{value}” is not one.")
URL_MISSING = _("A web page needs its address (URL).")
YEAR_RANGE = _("The year must be between {low} and {high}.")
ACCESSED_FUTURE = _("The date you read it cannot be in the future.")
AUTHOR_TOO_LONG = _("An author's name has at most 200 characters.")
TOO_MANY_AUTHORS = _("List at most 100 authors.")
FORMAT_UNKNOWN = _("Choose bibtex or csl-json.")
NOTHING_TO_IMPORT = _("No entries were found in what you pasted.")
TOO_MANY_ENTRIES = _("Paste at most {n} entries at a time.")
JSON_INVALID = _("This is not valid JSON: {error}.")
CSL_NOT_ITEMS = _("CSL-JSON is a list of items (or one item), each an object.")

YEAR_LOW = 1000
MAX_ENTRIES = 500
KEY_ATTEMPTS = 5

# The kinds a course member may add; ``note`` is the reading's own explanatory notes.
ADDABLE_KINDS = [kind for kind in Source.Kind.values if kind != Source.Kind.NOTE]
TEXT_FIELDS = ("title", "container", "publisher", "place", "pages", "note")


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields cleaned and normalised, or a ``ValidationError`` naming each bad one."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    kind = str(fields.get("kind") or "")
    if kind not in ADDABLE_KINDS:
        errors["kind"] = KIND_INVALID.format(choices=", ".join(ADDABLE_KINDS))
    values["kind"] = kind
    for name in TEXT_FIELDS:
        values[name] = (
            " ".join(str(fields.get(name) or "").split())
            if name != "note"
            else str(fields.get(name) or "").strip()
        )
    if not values["title"]:
        errors["title"] = TITLE_MISSING
    authors = [" ".join(str(author).split()) for author in fields.get("authors") or []]
    values["authors"] = [author for author in authors if author]
    if any(len(author) > 200 for author in values["authors"]):
        errors["authors"] = AUTHOR_TOO_LONG
    elif len(values["authors"]) > 100:
        errors["authors"] = TOO_MANY_AUTHORS
    year, high = fields.get("year"), timezone.localdate().year + 1
    if year in (None, ""):
        values["year"] = None
    elif isinstance(year, bool) or not str(year).strip().isdigit() or not YEAR_LOW <= int(year) <= high:
        errors["year"] = YEAR_RANGE.format(low=YEAR_LOW, high=high)
    else:
        values["year"] = int(year)
    doi = normalise_doi(str(fields.get("doi") or ""))
    if doi and not is_valid_doi(doi):
        errors["doi"] = DOI_INVALID.format(value=str(fields.get("doi")).strip())
    values["doi"] = doi
    url = normalise_url(str(fields.get("url") or ""))
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors["url"] = URL_INVALID.format(value=str(fields.get("url")).strip())
    elif kind == Source.Kind.WEB:
        errors["url"] = URL_MISSING
    values["url"] = url
    accessed = fields.get("accessed")
    if isinstance(accessed, str) and accessed.strip():
        try:
            accessed = dt.date.fromisoformat(accessed.strip())
        except ValueError:
            errors["accessed"] = "Give the date as YYYY-MM-DD."
    if isinstance(accessed, dt.date) and accessed > timezone.localdate():
        errors["accessed"] = ACCESSED_FUTURE
    values["accessed"] = accessed if isinstance(accessed, dt.date) else None
    if errors:
        raise ValidationError(errors)
    return values


def source_duplicate(*, course: Course, doi: str = "", url: str = "") -> Source | None:
    """The course's or the reading's source with this (normalised) DOI, else this URL."""
    if not doi and not url:
        return None
    candidates = Source.objects.filter(Q(course=course) | Q(course__isnull=True))
    if doi:
        found = candidates.filter(doi__iexact=doi).order_by("course_id", "pk").first()
        if found:
            return found
    if url:
        return candidates.filter(url=url).order_by("course_id", "pk").first()
    return None


def _key_base(values: dict[str, Any]) -> str:
    """``<first author's family name>-<year>``, in ASCII (``source`` when nothing fits)."""
    who = ""
    if values["authors"]:
        name = parse_name(values["authors"][0])
        who = name.get("family") or name.get("literal", "").split(" ")[0]
    who = slugify(who)[:40].strip("-") or slugify(values["title"])[:20].strip("-") or "source"
    return f"{who}-{values['year'] or 'nd'}"


def _free_key(base: str) -> str:
    taken = set(Source.objects.filter(key__startswith=f"{base}-").values_list("key", flat=True))
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def source_add(*, user, course: Course, **fields: Any) -> tuple[Source, bool]:
    """Add a source to ``course``, or find the one already there: ``(source, created)``.

    Fields: ``kind``, ``authors`` (a list of ``"Family, Given"`` or an organisation's name),
    ``year``, ``title``, ``container``, ``publisher``, ``place``, ``pages``, ``url``, ``doi``,
    ``accessed``, ``note``. A DOI or URL that the course's or the reading's sources already
    have returns that source (``created=False``); the database's unique constraints make a
    concurrent copy fail, and the winner is returned then too.
    """
    if not permissions.can_add_source(user, course):
        raise PermissionDenied(NOT_A_MEMBER)
    values = _validated(fields)
    existing = source_duplicate(course=course, doi=values["doi"], url=values["url"])
    if existing is not None:
        return existing, False
    base = _key_base(values)
    waits = premoderated(user=user, course=course, kind="source")
    for _attempt in range(KEY_ATTEMPTS):
        source = Source(key=_free_key(base), course=course, added_by=user, **values)
        if waits:
            source.moderation = ModerationState.PENDING
        source.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                source.save()
                if waits:
                    hold(source)
        except IntegrityError:
            # Someone added the same work (or took the key) meanwhile.
            existing = source_duplicate(course=course, doi=values["doi"], url=values["url"])
            if existing is not None:
                return existing, False
            continue
        return source, True
    raise IntegrityError("Could not find a free key for the source.")


# -- reading BibTeX and CSL-JSON --------------------------------------------------------


@dataclass
class ParsedEntry:
    """One entry of a pasted bibliography: its label and fields, or why it cannot be read."""

    entry: str
    fields: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"entry": self.entry, "fields": self.fields, "errors": self.errors}


BIBTEX_KINDS = {
    "book": "book", "booklet": "book", "mvbook": "book", "manual": "book", "thesis": "book",
    "phdthesis": "book", "mastersthesis": "book",
    "article": "article", "periodical": "article",
    "incollection": "chapter", "inbook": "chapter", "inproceedings": "chapter", "conference": "chapter",
    "online": "web", "www": "web", "webpage": "web", "electronic": "web",
    "legislation": "treaty", "legal": "treaty", "jurisdiction": "treaty", "report": "treaty",
    "techreport": "treaty", "standard": "treaty",
    "dataset": "dataset", "data": "dataset",
    "misc": "book", "unpublished": "book",
}  # fmt: skip
CSL_KINDS = {
    "book": "book", "thesis": "book", "manuscript": "book", "pamphlet": "book",
    "article-journal": "article", "article": "article", "article-magazine": "article",
    "chapter": "chapter", "paper-conference": "chapter", "entry-encyclopedia": "chapter",
    "entry-dictionary": "chapter",
    "webpage": "web", "post": "web", "post-weblog": "web",
    "treaty": "treaty", "legislation": "treaty", "bill": "treaty", "regulation": "treaty",
    "legal_case": "treaty", "report": "treaty", "standard": "treaty",
    "article-newspaper": "news", "broadcast": "news",
    "dataset": "dataset", "document": "book",
}  # fmt: skip
BIBTEX_CONTAINERS = ("journaltitle", "journal", "booktitle", "container", "howpublished", "series")


def _latex_text(value: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text

    return " ".join(LatexNodes2Text().latex_to_text(value).split())


def _year_of(value: Any, where: str, errors: list[str]) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    match = re.match(r"^(\d{4})(?:$|[-/])", text)
    if not match:
        errors.append(f"{where}: the year “{text}” is not a year such as 2015.")
        return None
    return int(match.group(1))


def _bibtex_name(parts: Any) -> str:
    last = " ".join([*parts.von, *parts.last])
    if not parts.first and not parts.jr and last.startswith("{") and last.endswith("}"):
        return _latex_text(last)  # {World Bank}: an organisation, as written
    family = _latex_text(last + (", " + " ".join(parts.jr) if parts.jr else ""))
    return name_from_parts(family=family, given=_latex_text(" ".join(parts.first)))


def sources_parse_bibtex(text: str) -> list[ParsedEntry]:
    """The entries of a BibTeX text as source fields; an entry that cannot be read is kept
    with its key (or line) and the reason, and the others still parse."""
    import bibtexparser
    from bibtexparser import middlewares

    library = bibtexparser.parse_string(
        text, append_middleware=[middlewares.SeparateCoAuthors(), middlewares.SplitNameParts()]
    )
    parsed: list[tuple[int, ParsedEntry]] = []
    for block in library.failed_blocks:
        match = re.match(r"\s*@\w+\s*[{(]\s*([^,\s]+)", block.raw or "")
        label = match.group(1) if match else f"line {block.start_line + 1}"
        reason = str(getattr(block, "error", "") or "").splitlines()[0:1]
        message = f"Entry “{label}” (line {block.start_line + 1}) could not be read"
        parsed.append(
            (block.start_line, ParsedEntry(label, errors=[f"{message}: {reason[0]}" if reason else message]))
        )
    for entry in library.entries:
        values = {name.lower(): value for name, value in entry.fields_dict.items()}
        values = {name: item.value for name, item in values.items()}
        where, errors = f"Entry “{entry.key}”", []
        kind = BIBTEX_KINDS.get(entry.entry_type.lower())
        if kind == "article" and str(values.get("entrysubtype", "")).lower() == "newspaper":
            kind = "news"
        if kind is None:
            errors.append(f"{where}: the entry type @{entry.entry_type} is not one we can store.")
        authors = values.get("author") or []
        if isinstance(authors, str):
            authors = [authors]
        fields: dict[str, Any] = {
            "kind": kind or "",
            "authors": [
                _bibtex_name(name) if not isinstance(name, str) else _latex_text(name) for name in authors
            ],
            "year": _year_of(values.get("year") or values.get("date"), where, errors),
            "title": _latex_text(str(values.get("title", ""))),
            "container": next(
                (_latex_text(str(values[name])) for name in BIBTEX_CONTAINERS if values.get(name)), ""
            ),
            "publisher": _latex_text(
                str(values.get("publisher") or values.get("institution") or values.get("organization") or "")
            ),
            "place": _latex_text(str(values.get("address") or values.get("location") or "")),
            "pages": str(values.get("pages", "")).replace("--", "–").strip(),
            "url": str(values.get("url", "")).strip(),
            "doi": str(values.get("doi", "")).strip(),
            "accessed": str(values.get("urldate", "")).strip(),
            "note": _latex_text(str(values.get("note", ""))),
        }
        if kind == "web" and fields["container"] == fields["url"]:
            fields["container"] = ""
        parsed.append((entry.start_line, ParsedEntry(entry.key, fields, errors)))
    return [item for _line, item in sorted(parsed, key=lambda pair: pair[0])]


def _csl_name(name: Any) -> str:
    if isinstance(name, str):
        return name
    if not isinstance(name, dict):
        raise ValueError
    family = " ".join(
        str(name.get(part, "")) for part in ("non-dropping-particle", "family") if name.get(part)
    )
    return name_from_parts(
        family=family, given=str(name.get("given", "")), literal=str(name.get("literal", ""))
    )


def _csl_date(value: Any) -> list[int]:
    if isinstance(value, dict) and value.get("date-parts"):
        return [int(part) for part in value["date-parts"][0]]
    if isinstance(value, dict) and (value.get("raw") or value.get("literal")):
        return [int(part) for part in re.findall(r"\d+", str(value.get("raw") or value.get("literal")))[:3]]
    return []


def sources_parse_csl_json(text_or_data: str | list[Any] | dict[str, Any]) -> list[ParsedEntry]:
    """The items of a CSL-JSON array (or one item) as source fields; an item that cannot
    be read is kept with its ``id`` (or position) and the reason."""
    data = text_or_data
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as error:
            raise ValidationError({"text": JSON_INVALID.format(error=error)}) from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ValidationError({"text": CSL_NOT_ITEMS})
    parsed = []
    for position, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            parsed.append(ParsedEntry(f"item {position}", errors=[f"Item {position} is not an object."]))
            continue
        label = str(item.get("id") or f"item {position}")
        where, errors = f"Entry “{label}”", []
        kind = CSL_KINDS.get(str(item.get("type", "")))
        if kind is None:
            errors.append(f"{where}: the type “{item.get('type', '')}” is not one we can store.")
        try:
            authors = [_csl_name(name) for name in item.get("author") or []]
        except ValueError:
            authors = []
            errors.append(f"{where}: an author must be {{family, given}} or {{literal}}.")
        year = None
        try:
            issued = _csl_date(item.get("issued"))
            year = issued[0] if issued else None
            accessed_parts = _csl_date(item.get("accessed"))
            accessed = dt.date(*accessed_parts).isoformat() if len(accessed_parts) == 3 else ""
        except (TypeError, ValueError, IndexError):
            accessed = ""
            errors.append(f'{where}: a date must be {{"date-parts": [[year, month, day]]}}.')
        fields = {
            "kind": kind or "",
            "authors": authors,
            "year": year,
            "title": str(item.get("title", "")),
            "container": str(item.get("container-title", "")),
            "publisher": str(item.get("publisher", "")),
            "place": str(item.get("publisher-place", "")),
            "pages": str(item.get("page", "")),
            "url": str(item.get("URL", "")),
            "doi": str(item.get("DOI", "")),
            "accessed": accessed,
            "note": str(item.get("note", "")),
        }
        parsed.append(ParsedEntry(label, fields, errors))
    return parsed


@dataclass
class ImportReport:
    """What an import did: sources added, sources already there (reused), entries refused."""

    added: list[Source] = field(default_factory=list)
    reused: list[Source] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def sources_import(*, user, course: Course, text: str, format: str) -> ImportReport:
    """Add every entry of a pasted BibTeX or CSL-JSON text through ``source_add``.

    Each good entry is added (or reused); each bad one is reported with its label and the
    messages per field, and does not stop the others.
    """
    if not permissions.can_add_source(user, course):
        raise PermissionDenied(NOT_A_MEMBER)
    if format == "bibtex":
        entries = sources_parse_bibtex(text)
    elif format == "csl-json":
        entries = sources_parse_csl_json(text)
    else:
        raise ValidationError({"format": FORMAT_UNKNOWN})
    if not entries:
        raise ValidationError({"text": NOTHING_TO_IMPORT})
    if len(entries) > MAX_ENTRIES:
        raise ValidationError({"text": TOO_MANY_ENTRIES.format(n=MAX_ENTRIES)})
    report = ImportReport()
    for entry in entries:
        if entry.errors:
            report.errors.append({"entry": entry.entry, "messages": entry.errors})
            continue
        try:
            source, created = source_add(user=user, course=course, **entry.fields)
        except ValidationError as error:
            messages = [
                f"Entry “{entry.entry}”: {name} — {message}"
                if name != "__all__"
                else f"Entry “{entry.entry}”: {message}"
                for name, items in error.message_dict.items()
                for message in items
            ]
            report.errors.append({"entry": entry.entry, "messages": messages})
            continue
        (report.added if created else report.reused).append(source)
    return report
