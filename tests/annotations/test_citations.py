"""Formatted citations, normalised identifiers and the BibTeX and CSL-JSON exports."""

from __future__ import annotations

import datetime as dt

import bibtexparser
import pytest

from annotations.citations import (
    bibliography_bibtex,
    bibliography_csl_json,
    format_citation,
    normalise_doi,
    normalise_url,
    parse_name,
)
from annotations.models import Source
from annotations.services.sources import sources_parse_bibtex, sources_parse_csl_json


def make(**fields) -> Source:
    values = {"key": "s-1", "kind": "book", "authors": [], "title": ""} | fields
    return Source(**values)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("10.1000/ABC", "10.1000/abc"),
        ("https://doi.org/10.1000/ABC", "10.1000/abc"),
        ("http://dx.doi.org/10.1000/abc", "10.1000/abc"),
        ("doi:10.1000/abc ", "10.1000/abc"),
        ("", ""),
    ],
)
def test_dois_lose_their_resolver_and_case(given, expected):
    assert normalise_doi(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("HTTPS://Example.ORG/", "https://example.org"),
        ("https://example.org/Path/?q=A#part", "https://example.org/Path/?q=A"),
        ("https://example.org/a/", "https://example.org/a/"),
        ("http://Example.org:8080/x", "http://example.org:8080/x"),
    ],
)
def test_urls_lose_case_in_scheme_and_host_a_root_slash_and_the_fragment(given, expected):
    assert normalise_url(given) == expected


def test_names_are_people_with_a_comma_and_literal_otherwise():
    assert parse_name("Xu, Tao") == {"family": "Xu", "given": "Tao"}
    assert parse_name("World Bank") == {"literal": "World Bank"}


def test_a_book_by_two_people_cites_initials_and_the_publisher():
    source = make(
        authors=["Xu, Tao", "Ji, Zhiye"], year=2002, title="New Security Concept", publisher="Shishi Press"
    )

    assert format_citation(source) == "Xu, T., & Ji, Z. (2002). New Security Concept. Shishi Press."


def test_an_article_cites_its_journal_pages_and_doi():
    source = make(
        kind="article",
        authors=["Ambrosio, Thomas"],
        year=2008,
        title="Catching the Shanghai spirit",
        container="Europe-Asia Studies",
        pages="1321–1344",
        doi="10.1080/09668130802292143",
    )

    assert format_citation(source) == (
        "Ambrosio, T. (2008). Catching the Shanghai spirit. Europe-Asia Studies, 1321–1344. "
        "https://doi.org/10.1080/09668130802292143"
    )


def test_a_chapter_cites_the_book_it_is_in():
    source = make(
        kind="chapter",
        authors=["Lee, Ann-Marie"],
        year=2010,
        title="Ch",
        container="Big Book",
        pages="1–9",
        publisher="P",
    )

    assert format_citation(source) == "Lee, A.-M. (2010). Ch. In Big Book (pp. 1–9). P."


def test_a_web_page_by_an_organisation_gives_the_date_it_was_read():
    source = make(
        kind="web",
        authors=["Shanghai Cooperation Organisation"],
        year=2016,
        title="Tashkent Declaration",
        container="Shanghai Cooperation Organisation",
        url="https://eng.sectsco.org/x",
        accessed=dt.date(2024, 3, 5),
    )

    assert format_citation(source) == (
        "Shanghai Cooperation Organisation. (2016). Tashkent Declaration. "
        "Retrieved March 5, 2024, from https://eng.sectsco.org/x"
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "dataset", "title": "Trade flows", "publisher": "UN"}, "Trade flows. (n.d.). UN."),
        ({"kind": "dataset", "authors": ["UN"], "title": "Trade", "year": 2020}, "UN. (2020). Trade [Data set]."),
        ({"kind": "news", "authors": ["Roy, Shubhajit"], "year": 2010, "title": "Closer", "container": "The Indian Express"},
         "Roy, S. (2010). Closer. The Indian Express."),
        ({"kind": "treaty", "authors": ["SCO"], "year": 2001, "title": "Charter", "url": "https://x.org/c"},
         "SCO. (2001). Charter. https://x.org/c"),
    ],
)  # fmt: skip
def test_other_kinds_and_missing_fields_still_read_as_a_citation(fields, expected):
    assert format_citation(make(**fields)) == expected


def test_every_paper_source_renders_a_citation(paper):
    for source in Source.objects.filter(course__isnull=True):
        assert f"({source.year or 'n.d.'})." in source.citation
    xu_ji = Source.objects.get(key="xu-ji-2002").citation
    assert xu_ji == (
        "Xu Tao, & Ji Zhiye. (2002). Shanghai Cooperation Organization: New Security Concept and New Mechanism. "
        "Shishi Press."
    )


SOURCES = [
    make(
        key="ambrosio-2008-1",
        kind="article",
        authors=["Ambrosio, Thomas", "World Bank & Partners"],
        year=2008,
        title="Catching the 100% Shanghai spirit",
        container="Europe-Asia Studies",
        pages="1321–1344",
        doi="10.1080/09668130802292143",
    ),
    make(
        key="sco-2016-1",
        kind="web",
        authors=["Shanghai Cooperation Organisation"],
        year=2016,
        title="Tashkent Declaration",
        url="https://eng.sectsco.org/x_y?a=1",
        accessed=dt.date(2024, 3, 5),
    ),
    make(
        key="roy-2010-1",
        kind="news",
        authors=["Roy, Shubhajit"],
        year=2010,
        title="Closer",
        container="Express",
    ),
    make(key="un-2020-1", kind="dataset", authors=["UN"], year=2020, title="Trade", publisher="UN Comtrade"),
    make(
        key="lee-2010-1",
        kind="chapter",
        authors=["Lee, Ann"],
        year=2010,
        title="Ch",
        container="Book",
        publisher="P",
    ),
    make(key="sco-2001-1", kind="treaty", authors=["SCO"], year=2001, title="Charter", place="Shanghai"),
    make(key="xu-2002-1", kind="book", authors=["Xu, Tao"], year=2002, title="Concept", publisher="Shishi"),
]
ROUND_TRIP = ("kind", "authors", "year", "title", "container", "publisher", "pages", "url", "doi")


def test_the_bibtex_export_parses_back_with_the_same_fields():
    text = bibliography_bibtex(SOURCES)

    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    assert [entry.key for entry in library.entries] == [source.key for source in SOURCES]
    for source, entry in zip(SOURCES, sources_parse_bibtex(text), strict=True):
        assert not entry.errors
        for name in ROUND_TRIP:
            assert entry.fields[name] == getattr(source, name), (source.key, name)
        assert entry.fields["accessed"] == (source.accessed.isoformat() if source.accessed else "")


def test_the_csl_json_export_has_valid_items_and_parses_back():
    items = bibliography_csl_json(SOURCES)

    assert [item["type"] for item in items] == [
        "article-journal", "webpage", "article-newspaper", "dataset", "chapter", "treaty", "book",
    ]  # fmt: skip
    for item in items:
        assert {"id", "type", "title", "issued"} <= set(item)
    assert items[0]["author"] == [
        {"family": "Ambrosio", "given": "Thomas"},
        {"literal": "World Bank & Partners"},
    ]
    assert items[0]["DOI"] == "10.1080/09668130802292143"
    assert items[1]["accessed"] == {"date-parts": [[2024, 3, 5]]}
    for source, entry in zip(SOURCES, sources_parse_csl_json(items), strict=True):
        for name in ROUND_TRIP:
            assert entry.fields[name] == getattr(source, name), (source.key, name)
