"""Bibliographic records as text: normalised identifiers, formatted citations, exports.

Authors are stored as strings. A person is written ``"Family, Given"``; a string without a
comma is taken as it is written (an organisation, or a name as the reading prints it, whose
order we do not guess), so it is cited, exported to BibTeX in braces and to CSL-JSON as a
``literal`` name unchanged.

Nothing here reads the database: every function takes the records it is given.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from annotations.models import Source

DOI_PREFIXES = (
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi.org/",
    "doi:",
)
DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")

# Our kinds and their CSL types; ``note`` (the reading's explanatory notes) is only exported.
CSL_TYPES = {
    "book": "book",
    "article": "article-journal",
    "chapter": "chapter",
    "web": "webpage",
    "treaty": "treaty",
    "news": "article-newspaper",
    "dataset": "dataset",
    "note": "document",
}
BIBTEX_TYPES = {
    "book": "book",
    "article": "article",
    "chapter": "incollection",
    "web": "online",
    "treaty": "legislation",
    "news": "article",
    "dataset": "dataset",
    "note": "misc",
}
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


# -- identifiers ----------------------------------------------------------------------


def normalise_doi(value: str) -> str:
    """A DOI without its resolver or ``doi:`` prefix, lower-cased (DOIs ignore case)."""
    doi = (value or "").strip()
    for prefix in DOI_PREFIXES:
        if doi.lower().startswith(prefix):
            doi = doi[len(prefix) :].strip()
            break
    return doi.lower()


def is_valid_doi(doi: str) -> bool:
    """Whether a normalised DOI has the shape ``10.<registrant>/<suffix>``."""
    return bool(DOI_PATTERN.match(doi))


def normalise_url(value: str) -> str:
    """A URL with its scheme and host lower-cased, no fragment, and no lone ``/`` path.

    The rest of the path and the query are kept as given: servers may read them with case.
    """
    url = (value or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    netloc = host
    if parts.port is not None:
        netloc = f"{host}:{parts.port}"
    if "@" in parts.netloc:
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@{netloc}"
    path = "" if parts.path == "/" else parts.path
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


# -- names ----------------------------------------------------------------------------


def parse_name(name: str) -> dict[str, str]:
    """``{"family", "given"}`` for ``"Family, Given"``; ``{"literal"}`` for anything else."""
    name = " ".join(name.split())
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        if family:
            return {"family": family, "given": given} if given else {"family": family}
    return {"literal": name}


def name_from_parts(*, family: str = "", given: str = "", literal: str = "") -> str:
    """The stored form of a name (the inverse of ``parse_name``)."""
    family, given, literal = (" ".join(part.split()) for part in (family, given, literal))
    if family and given:
        return f"{family}, {given}"
    return family or literal or given


def _initials(given: str) -> str:
    """``"Tao"`` → ``"T."``; ``"Jean-Paul Marie"`` → ``"J.-P. M."``."""
    words = []
    for word in given.replace(".", ". ").split():
        words.append("-".join(f"{part[0]}." for part in word.split("-") if part))
    return " ".join(words)


def _cited_name(name: str) -> str:
    parts = parse_name(name)
    if "literal" in parts:
        return parts["literal"]
    given = _initials(parts.get("given", ""))
    return f"{parts['family']}, {given}" if given else parts["family"]


def _author_list(authors: list[str]) -> str:
    names = [_cited_name(author) for author in authors if author.strip()]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + ", & " + names[-1]


# -- citations ------------------------------------------------------------------------


def _sentence(text: str) -> str:
    """``text`` ending with a full stop (unless it already ends a sentence)."""
    text = text.strip()
    return text if not text or text[-1] in ".?!" else f"{text}."


def _date(day: dt.date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def format_citation(source: Source) -> str:
    """One reference in an author–date style, e.g.
    ``Xu, T., & Ji, Z. (2002). Title. Publisher.``

    Missing parts are left out (``n.d.`` for a missing year); without authors the title
    takes their place; a DOI is given as ``https://doi.org/…`` in preference to the URL;
    a web page gives the date it was read.
    """
    who = _author_list(list(source.authors or []))
    title = source.title.strip()
    if not who:
        who, title = title or source.container or source.publisher or source.key, ""
    parts = [_sentence(who), f"({source.year or 'n.d.'})."]
    if title:
        parts.append(_sentence(f"{title} [Data set]" if source.kind == "dataset" else title))
    # An organisation that is both author and publisher (or site) is named once.
    container, pages = (source.container.strip(), source.pages.strip())
    container = "" if container == who else container
    publisher = "" if source.publisher.strip() == who else source.publisher.strip()
    if source.kind == "chapter":
        if container:
            parts.append(_sentence(f"In {container}" + (f" (pp. {pages})" if pages else "")))
        if publisher:
            parts.append(_sentence(publisher))
    elif source.kind in ("article", "news"):
        if container:
            parts.append(_sentence(f"{container}, {pages}" if pages else container))
        if publisher and not container:
            parts.append(_sentence(publisher))
    else:
        parts.extend(_sentence(part) for part in (container, publisher) if part)
    if source.doi:
        parts.append(f"https://doi.org/{source.doi}")
    elif source.url:
        parts.append(
            f"Retrieved {_date(source.accessed)}, from {source.url}" if source.accessed else source.url
        )
    return " ".join(parts)


def citation_sort_key(source: Source) -> tuple[str, str]:
    return (source.citation.casefold(), source.key)


# -- exports --------------------------------------------------------------------------


def csl_item(source: Source) -> dict[str, Any]:
    """One CSL-JSON item (https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html)."""
    item: dict[str, Any] = {"id": source.key, "type": CSL_TYPES.get(source.kind, "document")}
    if source.authors:
        item["author"] = [parse_name(author) for author in source.authors]
    if source.title:
        item["title"] = source.title
    if source.year:
        item["issued"] = {"date-parts": [[source.year]]}
    for name, value in (
        ("container-title", source.container),
        ("publisher", source.publisher),
        ("publisher-place", source.place),
        ("page", source.pages),
        ("URL", source.url),
        ("DOI", source.doi),
        ("note", source.note),
    ):
        if value:
            item[name] = value
    if source.accessed:
        item["accessed"] = {
            "date-parts": [[source.accessed.year, source.accessed.month, source.accessed.day]]
        }
    return item


def bibliography_csl_json(sources: Iterable[Source]) -> list[dict[str, Any]]:
    """The sources as a CSL-JSON array, in the order given."""
    return [csl_item(source) for source in sources]


# TeX's special characters, escaped in text fields so that a BibTeX reader gets them back.
_TEX_SPECIALS = re.compile(r"([&%$#_])")


def _tex(value: str) -> str:
    return _TEX_SPECIALS.sub(r"\\\1", value.replace("{", "").replace("}", ""))


def _bibtex_name(name: str) -> str:
    parts = parse_name(name)
    if "literal" in parts:
        return "{" + _tex(parts["literal"]) + "}"
    return _tex(name_from_parts(family=parts["family"], given=parts.get("given", "")))


def bibtex_entry(source: Source) -> str:
    """One BibTeX (biblatex-flavoured) entry keyed by the source's key."""
    fields: list[tuple[str, str]] = []
    if source.authors:
        fields.append(("author", " and ".join(_bibtex_name(author) for author in source.authors)))
    container_field = {"article": "journal", "news": "journal", "chapter": "booktitle"}.get(
        source.kind, "container"
    )
    for name, value in (
        ("title", _tex(source.title)),
        ("year", str(source.year or "")),
        (container_field, _tex(source.container)),
        ("publisher", _tex(source.publisher)),
        ("address", _tex(source.place)),
        ("pages", source.pages.replace("–", "--")),
        ("url", source.url.replace("{", "%7B").replace("}", "%7D")),
        ("doi", source.doi.replace("{", "").replace("}", "")),
        ("urldate", source.accessed.isoformat() if source.accessed else ""),
        ("entrysubtype", "newspaper" if source.kind == "news" else ""),
        ("note", _tex(source.note)),
    ):
        if value:
            fields.append((name, value))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{BIBTEX_TYPES.get(source.kind, 'misc')}{{{source.key},\n{body}\n}}\n"


def bibliography_bibtex(sources: Iterable[Source]) -> str:
    """The sources as a BibTeX file, in the order given."""
    return "\n".join(bibtex_entry(source) for source in sources)
