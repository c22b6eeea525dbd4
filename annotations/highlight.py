"""Claims highlighted in place: a paragraph's text cut into runs covered by the same claims."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from django.urls import get_script_prefix, reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from annotations.models import Claim


@dataclass(frozen=True)
class Highlight:
    """An annotation's span as found in the paragraph today."""

    start: int
    end: int
    annotation_id: int


@dataclass(frozen=True)
class Run:
    text: str
    claims: tuple[Claim | ClaimSpan, ...]
    highlights: tuple[Highlight, ...] = ()


def runs(text: str, claims: Iterable[Claim], highlights: Iterable[Highlight] = ()) -> list[Run]:
    """Cut ``text`` at every claim and highlight boundary; each run knows what covers it."""
    spans = sorted(claims, key=lambda c: (c.start, c.end))
    marks = sorted(highlights, key=lambda h: (h.start, h.end))
    edges = [(c.start, c.end) for c in spans] + [(h.start, h.end) for h in marks]
    cuts = sorted({0, len(text), *(a for a, _ in edges), *(b for _, b in edges)})
    out = []
    for begin, end in pairwise(cuts):
        covering = tuple(c for c in spans if c.start <= begin and end <= c.end)
        lit = tuple(h for h in marks if h.start <= begin and end <= h.end)
        out.append(Run(text[begin:end], covering, lit))
    return out


@dataclass(frozen=True)
class ClaimSpan:
    """What a paragraph's HTML shows of a claim."""

    key: str
    kind: str
    start: int
    end: int
    paraphrase: str


def paragraph_html(text: str, claims: Sequence[Claim], highlights: Sequence[Highlight] = ()) -> SafeString:
    """The paragraph as HTML: each claim's quote a link to the claim (its first run carries
    the claim's id), each annotated span a highlight naming its annotations.

    A pure function of the text, the claims' spans and the highlights, so it is kept per
    process for the paragraphs read most (the reading renders each of its paragraphs on
    every visit, mostly with the same highlights).
    """
    spans = tuple(ClaimSpan(c.key, c.kind, c.start, c.end, c.paraphrase) for c in claims)
    return _paragraph_html(text, spans, tuple(highlights), get_script_prefix())


@lru_cache(maxsize=4096)
def _paragraph_html(
    text: str, claims: tuple[ClaimSpan, ...], highlights: tuple[Highlight, ...], script_prefix: str
) -> SafeString:
    seen: set[str] = set()
    urls: dict[str, str] = {}  # a claim cut into many runs links each: reverse its url once
    parts = []
    for run in runs(text, claims, highlights):
        inner = escape(run.text)
        if run.highlights:
            inner = format_html(
                '<span class="hl" data-annotations="{}">{}</span>',
                " ".join(f"a-{h.annotation_id}" for h in run.highlights),
                inner,
            )
        if not run.claims:
            parts.append(inner)
            continue
        claim = run.claims[-1]  # the innermost claim when spans nest
        first = claim.key not in seen
        seen.add(claim.key)
        # The paraphrase is said once, on the claim's first run: a claim cut by many
        # highlights would otherwise repeat it on every piece.
        parts.append(
            format_html(
                '<mark class="claim claim--{}"{}><a href="{}"{}>{}</a></mark>',
                claim.kind,
                format_html(' id="{}"', claim.key) if first else "",
                urls.get(claim.key)
                or urls.setdefault(claim.key, reverse("annotations:claim-detail", kwargs={"key": claim.key})),
                format_html(' title="{}"', claim.paraphrase) if first else "",
                inner,
            )
        )
    return mark_safe("".join(parts))  # every part above is escaped


def blocks_by_section(
    sections: Sequence, paragraphs: Iterable, item: Callable[[object], object]
) -> list[dict]:
    """The reading as ``[{"section", "paragraphs": [item(paragraph), …]}, …]`` in reading order."""
    grouped: dict[int, list] = {section.pk: [] for section in sections}
    for paragraph in paragraphs:
        grouped[paragraph.section_id].append(item(paragraph))
    return [{"section": section, "paragraphs": grouped[section.pk]} for section in sections]
