"""Claims highlighted in place: a paragraph's text cut into runs covered by the same claims."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from annotations.models import Claim


@dataclass(frozen=True)
class Run:
    text: str
    claims: tuple[Claim, ...]


def runs(text: str, claims: Iterable[Claim]) -> list[Run]:
    """Cut ``text`` at every claim boundary; each run knows the claims that cover it."""
    spans = sorted(claims, key=lambda c: (c.start, c.end))
    cuts = sorted({0, len(text), *(c.start for c in spans), *(c.end for c in spans)})
    out = []
    for begin, end in pairwise(cuts):
        covering = tuple(c for c in spans if c.start <= begin and end <= c.end)
        out.append(Run(text[begin:end], covering))
    return out


def paragraph_html(text: str, claims: Sequence[Claim]) -> SafeString:
    """The paragraph as HTML, each claim's quote a link to the claim, ids on first runs."""
    seen: set[str] = set()
    parts = []
    for run in runs(text, claims):
        if not run.claims:
            parts.append(escape(run.text))
            continue
        claim = run.claims[-1]  # the innermost claim when spans nest
        first = claim.key not in seen
        seen.add(claim.key)
        parts.append(
            format_html(
                '<mark class="claim claim--{}"{}><a href="{}" title="{}">{}</a></mark>',
                claim.kind,
                format_html(' id="{}"', claim.key) if first else "",
                claim.get_absolute_url(),
                claim.paraphrase,
                run.text,
            )
        )
    return mark_safe("".join(parts))  # every part above is escaped
