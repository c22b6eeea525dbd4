"""Selectors: where an annotation's span is, and finding it again when the text moves.

An annotation keeps both a TextQuoteSelector (the exact words and a little context on
either side) and a TextPositionSelector (start and end offsets in the paragraph's text).
The offsets are tried first; if the words there are no longer the quote, the quote is
looked for again and the occurrence whose context matches best wins; if it is nowhere,
the annotation is orphaned — shown apart, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTEXT = 32  # characters of prefix and suffix recorded with a quote


class SelectorError(ValueError):
    """A selector that does not fit the text; ``field`` says which part is wrong."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class TextTarget:
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    status: str  # "anchored", "reanchored" or "orphaned"

    @property
    def orphaned(self) -> bool:
        return self.status == "orphaned"


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    return text[max(0, start - CONTEXT) : start], text[end : end + CONTEXT]


def _occurrences(text: str, exact: str) -> list[int]:
    found, at = [], text.find(exact)
    while at != -1:
        found.append(at)
        at = text.find(exact, at + 1)
    return found


def target_for(
    text: str,
    *,
    exact: str | None = None,
    start: int | None = None,
    end: int | None = None,
    prefix: str | None = None,
    suffix: str | None = None,
) -> TextTarget:
    """Check a selector against ``text`` and complete it; raise ``SelectorError`` if it does not fit.

    Give the offsets, the quote, or both (then they must agree). With only a quote that
    occurs more than once, ``prefix``/``suffix`` or ``start`` must say which occurrence.
    """
    if exact is not None and start is not None and end is not None and text[start:end] != exact:
        start, end = _from_utf16(text, start, end, exact)
    if start is not None or end is not None:
        if start is None or end is None:
            raise SelectorError("start" if start is None else "end", "Give both start and end, or neither.")
        if start < 0 or end < 0:
            raise SelectorError("start" if start < 0 else "end", "Offsets cannot be negative.")
        if start >= end:
            raise SelectorError("start", f"start ({start}) must be before end ({end}).")
        if end > len(text):
            raise SelectorError(
                "end", f"end ({end}) is past the end of the paragraph, which has {len(text)} characters."
            )
        found = text[start:end]
        if exact is not None and exact != found:
            raise SelectorError("exact", f"The text at {start}–{end} is “{found[:80]}”, not the quote given.")
        before, after = _context(text, start, end)
        return TextTarget(found, before, after, start, end)
    if not exact:
        raise SelectorError("exact", "Give the quoted text, or its start and end offsets.")
    starts = _occurrences(text, exact)
    if not starts:
        raise SelectorError("exact", "The quote is not in the paragraph: it must be copied exactly from it.")
    if len(starts) > 1:
        matching = [s for s in starts if _fits(text, s, len(exact), prefix or "", suffix or "")]
        if len(matching) != 1:
            raise SelectorError(
                "exact",
                f"The quote occurs {len(starts)} times in the paragraph; give a prefix, a suffix or offsets to say which.",
            )
        starts = matching
    first = starts[0]
    before, after = _context(text, first, first + len(exact))
    return TextTarget(exact, before, after, first, first + len(exact))


def utf16_to_index(text: str, offset: int) -> int | None:
    """The index in ``text`` (code points, as Python counts) of a JavaScript offset (UTF-16
    code units, two for each character past U+FFFF such as most emoji); None when the offset
    falls inside such a pair or past the end."""
    units = 0
    for index, char in enumerate(text):
        if units == offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text) if units == offset else None


def _from_utf16(text: str, start: int, end: int, exact: str) -> tuple[int, int]:
    """Offsets a browser counted in UTF-16 units, as code points when that is where the
    quote is; otherwise the offsets unchanged (and the caller reports the mismatch)."""
    first, last = utf16_to_index(text, start), utf16_to_index(text, end)
    if first is not None and last is not None and text[first:last] == exact:
        return first, last
    return start, end


def _fits(text: str, start: int, length: int, prefix: str, suffix: str) -> bool:
    return (not prefix or text[:start].endswith(prefix)) and (
        not suffix or text[start + length :].startswith(suffix)
    )


def _score(text: str, start: int, length: int, prefix: str, suffix: str) -> int:
    """How many characters of context agree around a candidate occurrence."""
    before, after = text[:start], text[start + length :]
    score = 0
    for a, b in zip(reversed(before), reversed(prefix), strict=False):
        if a != b:
            break
        score += 1
    for a, b in zip(after, suffix, strict=False):
        if a != b:
            break
        score += 1
    return score


def anchor(text: str | None, *, exact: str, prefix: str, suffix: str, start: int, end: int) -> Anchor:
    """Where the annotation's quote is in ``text`` now (``text`` is None when the paragraph is gone)."""
    if text is None:
        return Anchor(start, end, "orphaned")
    if text[start:end] == exact:
        return Anchor(start, end, "anchored")
    starts = _occurrences(text, exact)
    if not starts:
        return Anchor(start, end, "orphaned")
    best = max(starts, key=lambda s: (_score(text, s, len(exact), prefix, suffix), -abs(s - start)))
    return Anchor(best, best + len(exact), "reanchored")
