"""Markdown renders to HTML in which nothing can run."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from annotations.markdown import ALLOWED_TAGS, render
from tests.e2e.xss_payloads import PAYLOADS


class Elements(HTMLParser):
    """The elements and attributes an HTML fragment really has (escaped text is not markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


def test_markdown_becomes_html():
    html = render("**Strong** and *soft*, a [link](https://example.org) and\n\n- a list")

    assert "<strong>Strong</strong>" in html
    assert "<em>soft</em>" in html
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">link</a>' in html
    assert "<li>a list</li>" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="javascript:alert(1)">x</a>',
        "<svg onload=alert(1)>",
        '<iframe src="https://evil.example"></iframe>',
        "![x](javascript:alert(1))",
        "<<script>script>alert(1)<</script>/script>",
        "[x](&#106;avascript:alert(1))",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_nothing_executable_survives(payload):
    found = elements(render(payload))

    for tag, attributes in found:
        assert tag in ALLOWED_TAGS
        assert not any(name.startswith("on") or name == "style" for name in attributes)
        for name in ("href", "src"):
            assert (
                not attributes.get(name, "").strip().lower().startswith(("javascript:", "data:", "vbscript:"))
            )
    assert "script" not in {tag for tag, _ in found}


def test_headings_are_demoted_below_the_page_headings():
    assert render("# Title").strip() == "<h3>Title</h3>"


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda payload: payload.marker)
def test_no_payload_of_the_browser_corpus_leaves_markup_that_can_run(payload):
    found = elements(render(f"Words {payload.marker}.\n\n{payload.text}"))

    for tag, attributes in found:
        assert tag in ALLOWED_TAGS
        assert not any(name.startswith("on") or name in ("style", "src") for name in attributes)
        assert urlsplit(attributes.get("href", "").strip()).scheme in ("", "http", "https", "mailto")
