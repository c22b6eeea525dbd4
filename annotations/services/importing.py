"""Importing annotations made elsewhere: W3C Web Annotations and Hypothesis exports.

Each item is anchored to the paragraph of the course's reading that holds its quote (the
``exact`` of its TextQuoteSelector) and written with ``annotation_create`` as the
importing user's own, the original id, creator, date and page kept in ``imported_from``.

What is written and what is not:

- every item that anchors and passes ``annotation_create``'s checks is written, all of them
  in one transaction;
- an item without a quote, whose quote is nowhere in the reading, or is in several places
  that its prefix and suffix do not tell apart, or of a shape we do not read, or refused by
  ``annotation_create`` (eleven tags, say), is reported with its reason and not written;
  nothing is dropped without a line in the report;
- an unexpected error writes nothing at all, and a dry run writes nothing either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import Resolver404, resolve
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.models import Claim, Course, Paragraph
from annotations.models.annotation import Motivation, Visibility
from annotations.services.annotations import NO_GROUP, annotation_create

MAX_ITEMS = 5_000
MAX_BODY = 20_000  # as the API's annotation form
MAX_NESTING = 8  # selectors refined by selectors, bodies of bodies

IMPORTED = "imported"
NOT_ANCHORED = "not_anchored"
INVALID = "invalid"

NOT_A_MEMBER = _("Only members of this course can import annotations into it.")
BAD_VISIBILITY = _("“{value}” is not a visibility: use private, group or course.")
NOT_A_SHAPE = _(
    "Send a W3C AnnotationCollection (with its first page embedded), an AnnotationPage, an "
    'annotation or a list of annotations, or a Hypothesis export (a list, or {"rows": [...]}).'
)
PAGE_WITHOUT_ITEMS = _("An AnnotationPage needs an “items” list.")
PAGES_NOT_EMBEDDED = _(
    "This collection links to a page ({iri}) instead of embedding it, and pages are not "
    "fetched from elsewhere: send each AnnotationPage in turn."
)
TOO_MANY = _("At most {limit:,} annotations in one import: this one has {count:,}. Split it.")
NOT_AN_OBJECT = _("Each item must be a JSON object (an annotation); this one is {kind}.")
UNKNOWN_ITEM = _(
    'It is neither a W3C annotation ("type": "Annotation") nor a Hypothesis annotation '
    '(with "uri" and "target").'
)
NO_TARGET = _("A W3C annotation must have a target.")
TOO_DEEP = _("Its selectors or bodies are nested too deeply to read.")
NO_QUOTE = _("It has no TextQuoteSelector, so there is no quoted text to find in the reading.")
NO_QUOTE_RANGE = _(
    "It has only a RangeSelector, which points into the structure of another web page: "
    "without a TextQuoteSelector there is no quoted text to find in the reading."
)
NO_QUOTE_REPLY = _("It is a reply in a Hypothesis thread, which quotes nothing itself.")
NO_QUOTE_PAGE_NOTE = _("It is a note on a whole page, which quotes nothing.")
QUOTE_NOT_FOUND = _(
    "Its quote is in no paragraph of the reading (a quote must be copied from the reading "
    "and lie within one paragraph): “{quote}”."
)
QUOTE_AMBIGUOUS = _(
    "Its quote occurs {count} times in the reading ({where}) and {context} tell which one is meant."
)
BODY_TOO_LONG = _("Its note has {length:,} characters; at most {limit:,} are kept in one annotation.")
IMPORTED_AT = _("Anchored in {anchor} at {start}–{end}.")


@dataclass
class ImportedItem:
    """What became of one item of an import."""

    index: int
    status: str  # IMPORTED, NOT_ANCHORED or INVALID
    reason: str = (
        ""  # for the others: no_quote, quote_not_found, quote_ambiguous, unsupported_shape, not_valid
    )
    message: str = ""
    origin: str = ""
    id: int | None = None
    paragraph: str | None = None
    start: int | None = None
    end: int | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    visibility: str
    dry_run: bool
    items: list[ImportedItem] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return sum(item.status == IMPORTED for item in self.items)

    @property
    def not_imported(self) -> int:
        return len(self.items) - self.imported

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "not_imported": self.not_imported,
            "dry_run": self.dry_run,
            "visibility": self.visibility,
            "items": [asdict(item) for item in self.items],
        }


def annotations_import(
    *,
    user,
    course: Course,
    data: Any,
    visibility: str = Visibility.PRIVATE,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``data`` (parsed JSON) into ``course`` as ``user``'s annotations; see the module.

    Raises ``PermissionDenied`` for a non-member and ``ValidationError`` for what is not an
    import at all (an unknown shape, too many items, a visibility that cannot be had) before
    anything is written. ``progress(done, total)`` is called after each item.
    """
    membership = permissions.membership_of(user, course)
    if membership is None:
        raise PermissionDenied(NOT_A_MEMBER)
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": BAD_VISIBILITY.format(value=visibility)})
    if visibility == Visibility.GROUP and membership.group_id is None:
        raise ValidationError({"visibility": NO_GROUP})
    items = _items_of(data)
    if len(items) > MAX_ITEMS:
        raise ValidationError(TOO_MANY.format(limit=MAX_ITEMS, count=len(items)))
    reading = _Reading(course)
    report = ImportReport(visibility=visibility, dry_run=dry_run)
    with transaction.atomic():
        for index, item in enumerate(items):
            report.items.append(_import_one(index, item, reading=reading, user=user, visibility=visibility))
            if progress is not None:
                progress(index + 1, len(items))
        if dry_run:
            transaction.set_rollback(True)
    if dry_run:
        for item in report.items:
            item.id = None
    return report


# -- the shape of what was sent --------------------------------------------------------


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("type", obj.get("@type"))
    values = value if isinstance(value, list) else [value]
    # Compact IRIs such as "oa:Annotation" name the same classes.
    return {v.removeprefix("oa:") for v in values if isinstance(v, str)}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _items_of(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        raise ValidationError(NOT_A_SHAPE)
    if isinstance(data.get("rows"), list):  # Hypothesis's search API and its exports
        return data["rows"]
    types = _types(data)
    if "AnnotationPage" in types:
        return _page_items(data)
    if "AnnotationCollection" in types:
        return _collection_items(data)
    if "Annotation" in types:
        return [data]
    raise ValidationError(NOT_A_SHAPE)


def _page_items(page: dict[str, Any]) -> list[Any]:
    items = page.get("items")
    if not isinstance(items, list):
        raise ValidationError(PAGE_WITHOUT_ITEMS)
    return items


def _collection_items(collection: dict[str, Any]) -> list[Any]:
    first = collection.get("first")
    if isinstance(first, list) and len(first) == 1:
        first = first[0]
    if first is None:
        # An empty collection has no pages; some tools put the items on the collection itself.
        return collection["items"] if isinstance(collection.get("items"), list) else []
    items: list[Any] = []
    page: Any = first
    while isinstance(page, dict):
        items.extend(_page_items(page))
        page = page.get("next")
    if page is not None:
        raise ValidationError(PAGES_NOT_EMBEDDED.format(iri=page))
    return items


class _Skip(Exception):
    """An item that is reported and not written."""

    def __init__(self, status: str, reason: str, message: str):
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


@dataclass
class _Wanted:
    """What an item asks for, whatever its format."""

    exact: str | None = None
    prefix: str = ""
    suffix: str = ""
    scope: str | None = None  # the fragment (a paragraph anchor, we hope) the selectors count in
    start: int | None = None
    end: int | None = None
    no_quote: str = NO_QUOTE
    body: str = ""
    tags: list[str] = field(default_factory=list)
    motivation: str = Motivation.COMMENTING
    claim_key: str | None = None
    warnings: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _agent(value: Any) -> str:
    """A readable name for a W3C creator (an IRI, an Agent, or a list of them)."""
    value = _as_list(value)[0] if _as_list(value) else None
    if isinstance(value, dict):
        for key in ("nickname", "name", "id"):
            if isinstance(value.get(key), str):
                return value[key]
        return ""
    return _text(value)


def _origin(item: dict[str, Any]) -> str:
    """The original id, creator, date and page, for ``imported_from`` (at most 300 characters)."""
    source = _text(item.get("uri"))
    if not source:
        for target in _as_list(item.get("target")):
            found = _source_of(target)
            if found:
                source = found
                break
    fields = (
        ("id", _text(item.get("id"))),
        ("creator", _text(item.get("user")) or _agent(item.get("creator"))),
        ("created", _text(item.get("created"))),
        ("source", source),
    )
    text = "; ".join(f"{name}={value}" for name, value in fields if value)
    return text if len(text) <= 300 else text[:299] + "…"


def _source_of(target: Any) -> str:
    if isinstance(target, str):
        return target
    if isinstance(target, dict):
        source = target.get("source", target.get("id"))
        if isinstance(source, dict):
            source = source.get("id")
        return _text(source)
    return ""


def _default_motivation(body: str, tags: list[str]) -> str:
    if body.strip():
        return Motivation.COMMENTING
    return Motivation.TAGGING if tags else Motivation.HIGHLIGHTING


def _read_hypothesis(item: dict[str, Any]) -> _Wanted:
    wanted = _Wanted(body=_text(item.get("text")))
    wanted.tags = [tag for tag in _as_list(item.get("tags")) if isinstance(tag, str)]
    if len(wanted.tags) != len(_as_list(item.get("tags"))):
        wanted.warnings.append("Tags that are not text were left out.")
    wanted.motivation = _default_motivation(wanted.body, wanted.tags)
    has_selector = False
    for target in _as_list(item.get("target")):
        selectors = _as_list(target.get("selector")) if isinstance(target, dict) else []
        has_selector = has_selector or bool(selectors)
        for selector in selectors:
            if isinstance(selector, dict) and "TextQuoteSelector" in _types(selector):
                _take_quote(wanted, selector, scope=None)
                break
        if wanted.exact is not None:
            break
    # Hypothesis's TextPositionSelector counts in the whole web page, not in a paragraph: unused.
    if wanted.exact is None:
        if item.get("references"):
            wanted.no_quote = NO_QUOTE_REPLY
        elif not has_selector:
            wanted.no_quote = NO_QUOTE_PAGE_NOTE
        elif _has_type(item.get("target"), "RangeSelector"):
            wanted.no_quote = NO_QUOTE_RANGE
    return wanted


def _has_type(targets: Any, kind: str) -> bool:
    return any(
        isinstance(selector, dict) and kind in _types(selector)
        for target in _as_list(targets)
        if isinstance(target, dict)
        for selector in _as_list(target.get("selector"))
    )


def _take_quote(wanted: _Wanted, selector: dict[str, Any], scope: str | None) -> None:
    exact = _text(selector.get("exact"))
    if exact.strip():
        wanted.exact, wanted.scope = exact, scope
        wanted.prefix, wanted.suffix = _text(selector.get("prefix")), _text(selector.get("suffix"))


def _walk(selectors: Any, scope: str | None, depth: int = 0) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Each selector with the fragment its offsets count in (None when that is not a fragment)."""
    if depth > MAX_NESTING:
        raise _Skip(INVALID, "unsupported_shape", TOO_DEEP)
    for selector in _as_list(selectors):
        if not isinstance(selector, dict):
            continue
        yield selector, scope
        inner = None
        if "FragmentSelector" in _types(selector) and isinstance(selector.get("value"), str):
            inner = selector["value"].lstrip("#")
        yield from _walk(selector.get("refinedBy"), inner, depth + 1)


def _claim_key(target: Any) -> str | None:
    """The key of a claim of this site that a target names by its page's URL."""
    iri = target if isinstance(target, str) else target.get("id") if isinstance(target, dict) else None
    if not isinstance(iri, str) or (isinstance(target, dict) and "source" in target):
        return None
    try:
        match = resolve(urlsplit(iri).path)
    except Resolver404:
        return None
    return match.kwargs.get("key") if match.view_name == "annotations:claim-detail" else None


def _read_w3c(item: dict[str, Any]) -> _Wanted:
    wanted = _Wanted()
    if item.get("target") is None:
        raise _Skip(INVALID, "unsupported_shape", NO_TARGET)
    texts: list[str] = []
    for body in _as_list(item.get("body")):
        _read_body(body, texts, wanted)
    if isinstance(item.get("bodyValue"), str):
        texts.append(item["bodyValue"])
    wanted.body = "\n\n".join(text for text in texts if text.strip())
    wanted.motivation = _motivation(item.get("motivation"), wanted)
    has_range = False
    for target in _as_list(item.get("target")):
        wanted.claim_key = wanted.claim_key or _claim_key(target)
        if wanted.exact is not None or not isinstance(target, dict):
            continue
        scope = urlsplit(_source_of(target)).fragment or None
        positions: list[tuple[dict[str, Any], str | None]] = []
        for selector, within in _walk(target.get("selector"), scope):
            kinds = _types(selector)
            has_range = has_range or "RangeSelector" in kinds
            if "TextQuoteSelector" in kinds and wanted.exact is None:
                _take_quote(wanted, selector, within)
            elif "TextPositionSelector" in kinds:
                positions.append((selector, within))
        # Offsets are only of use if they count in the same text as the quote.
        for selector, within in positions:
            start, end = selector.get("start"), selector.get("end")
            usable = isinstance(start, int) and isinstance(end, int) and within is not None
            if usable and (wanted.exact is None or within == wanted.scope):
                wanted.start, wanted.end, wanted.scope = start, end, within
                break
    if wanted.exact is None and has_range:
        wanted.no_quote = NO_QUOTE_RANGE
    return wanted


def _read_body(body: Any, texts: list[str], wanted: _Wanted, depth: int = 0) -> None:
    if depth > MAX_NESTING:
        raise _Skip(INVALID, "unsupported_shape", TOO_DEEP)
    if isinstance(body, str):  # a web resource as the body: keep it as a link
        texts.append(f"<{body}>")
        return
    if not isinstance(body, dict):
        wanted.warnings.append("A body that is neither text nor an object was left out.")
        return
    kinds = _types(body)
    if isinstance(body.get("value"), str):
        if "tagging" in _as_list(body.get("purpose")):
            wanted.tags.append(body["value"])
        else:
            texts.append(body["value"])
        return
    items = body.get("items")
    if isinstance(items, list) and items:
        if "Choice" in kinds:
            if len(items) > 1:
                wanted.warnings.append("Of a Choice of bodies, only the first was kept.")
            items = items[:1]
        for inner in items:
            _read_body(inner, texts, wanted, depth + 1)
        return
    link = _source_of(body)
    if link:
        texts.append(f"<{link}>")
        return
    wanted.warnings.append(f"A body of type {', '.join(sorted(kinds)) or 'unknown'} was left out.")


def _motivation(raw: Any, wanted: _Wanted) -> str:
    for value in _as_list(raw):
        if isinstance(value, str) and value.removeprefix("oa:") in Motivation.values:
            return value.removeprefix("oa:")
    fallback = _default_motivation(wanted.body, wanted.tags)
    if raw:
        wanted.warnings.append(f"The motivation {raw!r} is not one used here; it is imported as {fallback}.")
    return fallback


# -- finding the quote in the reading ------------------------------------------------


@dataclass(frozen=True)
class _Place:
    index: int  # of the paragraph in the reading
    paragraph: Paragraph
    start: int
    end: int


# Quotes copied from a web page may differ from the reading in spacing and in the shape of
# quotation marks; nothing else is forgiven.
_QUOTE_MARKS = ('"“”„«»', "'‘’")
_SPACES = re.compile(r"\s+")


def _normal(text: str) -> str:
    text = _SPACES.sub(" ", text)
    for marks in _QUOTE_MARKS:
        for mark in marks[1:]:
            text = text.replace(mark, marks[0])
    return text


def _tolerant(exact: str) -> re.Pattern[str]:
    def char(c: str) -> str:
        for marks in _QUOTE_MARKS:
            if c in marks:
                return f"[{re.escape(marks)}]"
        return re.escape(c)

    return re.compile(r"\s+".join("".join(char(c) for c in word) for word in exact.split()))


class _Reading:
    """The course's reading, loaded once for the whole import."""

    def __init__(self, course: Course):
        self.course = course
        self.paragraphs = list(course.reading.paragraphs.select_related("section").order_by("order"))
        self.by_anchor = {p.anchor: i for i, p in enumerate(self.paragraphs)}
        self.claims = {c.key: c for c in Claim.objects.filter(paragraph__document_id=course.reading_id)}

    def locate(self, wanted: _Wanted) -> _Place:
        at = self.by_anchor.get(wanted.scope) if wanted.scope else None
        if at is not None and wanted.start is not None and wanted.end is not None:
            text = self.paragraphs[at].text
            if 0 <= wanted.start < wanted.end <= len(text) and wanted.exact in (
                None,
                text[wanted.start : wanted.end],
            ):
                return _Place(at, self.paragraphs[at], wanted.start, wanted.end)
        if wanted.exact is None:
            raise _Skip(NOT_ANCHORED, "no_quote", wanted.no_quote)
        if at is not None:
            # The paragraph the item names first; then the whole reading, in case it moved.
            places = self._find(wanted.exact, [at])
            if places:
                return self._choose(places, wanted)
        places = self._find(wanted.exact, range(len(self.paragraphs)))
        if not places:
            quote = wanted.exact if len(wanted.exact) <= 80 else wanted.exact[:79] + "…"
            raise _Skip(NOT_ANCHORED, "quote_not_found", QUOTE_NOT_FOUND.format(quote=quote))
        return self._choose(places, wanted)

    def _find(self, exact: str, indexes: Any) -> list[_Place]:
        indexes = list(indexes)
        places = []
        for i in indexes:
            text = self.paragraphs[i].text
            at = text.find(exact)
            while at != -1:
                places.append(_Place(i, self.paragraphs[i], at, at + len(exact)))
                at = text.find(exact, at + 1)
        if places:
            return places
        pattern = _tolerant(exact)
        return [
            _Place(i, self.paragraphs[i], match.start(), match.end())
            for i in indexes
            for match in pattern.finditer(self.paragraphs[i].text)
        ]

    def _choose(self, places: list[_Place], wanted: _Wanted) -> _Place:
        """The one place whose surroundings agree with the prefix and suffix, or ``_Skip``."""
        if len(places) == 1:
            return places[0]
        fitting = [place for place in places if self._fits(place, wanted.prefix, wanted.suffix)]
        if len(fitting) == 1:
            return fitting[0]
        anchors = list(dict.fromkeys(place.paragraph.anchor for place in places))
        where = ", ".join(anchors[:6]) + ("…" if len(anchors) > 6 else "")
        if not wanted.prefix and not wanted.suffix:
            context = "it has no prefix or suffix to"
        elif not fitting:
            context = "its prefix and suffix fit none of them, so they cannot"
        else:
            context = f"its prefix and suffix fit {len(fitting)} of them, so they do not"
        raise _Skip(
            NOT_ANCHORED,
            "quote_ambiguous",
            QUOTE_AMBIGUOUS.format(count=len(places), where=where, context=context),
        )

    def _fits(self, place: _Place, prefix: str, suffix: str) -> bool:
        # The context of a quote copied from a web page runs on past the paragraph, over
        # the headings between paragraphs: compare it with the text around, in reading order.
        before, after = [], []
        i, paragraph = place.index, place.paragraph
        if i > 0:
            before.append(self.paragraphs[i - 1].text)
        if i == 0 or self.paragraphs[i - 1].section_id != paragraph.section_id:
            before.append(paragraph.section.title)
        before.append(paragraph.text[: place.start])
        after.append(paragraph.text[place.end :])
        if i + 1 < len(self.paragraphs):
            following = self.paragraphs[i + 1]
            if following.section_id != paragraph.section_id:
                after.append(following.section.title)
            after.append(following.text)
        text_before, text_after = _normal("\n".join(before)), _normal("\n".join(after))
        return text_before.endswith(_normal(prefix)) and text_after.startswith(_normal(suffix))

    def claim_for(self, wanted: _Wanted, place: _Place) -> Claim | None:
        if not wanted.claim_key:
            return None
        claim = self.claims.get(wanted.claim_key)
        if (
            claim is None
            or claim.paragraph_id != place.paragraph.pk
            or not (claim.start < place.end and place.start < claim.end)
        ):
            wanted.warnings.append(
                f"It names the claim {wanted.claim_key}, which is not where its quote is: not linked to it."
            )
            return None
        return claim


# -- one item ------------------------------------------------------------------------


def _read(item: Any) -> _Wanted:
    if not isinstance(item, dict):
        kind = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(
            type(item), "a number"
        )
        raise _Skip(INVALID, "unsupported_shape", NOT_AN_OBJECT.format(kind=kind))
    if "Annotation" in _types(item):
        return _read_w3c(item)
    if isinstance(item.get("target"), list) or "uri" in item:
        return _read_hypothesis(item)
    raise _Skip(INVALID, "unsupported_shape", UNKNOWN_ITEM)


def _messages(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(
            " ".join(messages) if field == "__all__" else f"{field}: {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def _import_one(index: int, item: Any, *, reading: _Reading, user, visibility: str) -> ImportedItem:
    origin = _origin(item) if isinstance(item, dict) else ""
    wanted = None
    try:
        wanted = _read(item)
        place = reading.locate(wanted)
        if len(wanted.body) > MAX_BODY:
            raise _Skip(INVALID, "not_valid", BODY_TOO_LONG.format(length=len(wanted.body), limit=MAX_BODY))
        claim = reading.claim_for(wanted, place)
        try:
            # A savepoint: an item refused half-way leaves nothing behind.
            with transaction.atomic():
                annotation = annotation_create(
                    user=user,
                    course=reading.course,
                    paragraph=place.paragraph,
                    exact=place.paragraph.text[place.start : place.end],
                    start=place.start,
                    end=place.end,
                    claim=claim,
                    motivation=wanted.motivation,
                    tags=wanted.tags,
                    body=wanted.body,
                    visibility=visibility,
                    imported_from=origin,
                )
        except ValidationError as error:
            raise _Skip(INVALID, "not_valid", _messages(error)) from None
    except _Skip as skip:
        return ImportedItem(
            index=index,
            status=skip.status,
            reason=skip.reason,
            message=skip.message,
            origin=origin,
            warnings=wanted.warnings if wanted else [],
        )
    return ImportedItem(
        index=index,
        status=IMPORTED,
        message=IMPORTED_AT.format(anchor=place.paragraph.anchor, start=place.start, end=place.end),
        origin=origin,
        id=annotation.pk,
        paragraph=place.paragraph.anchor,
        start=place.start,
        end=place.end,
        warnings=wanted.warnings,
    )
