"""Markdown written by students, rendered to HTML that is safe to show to anyone."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# CommonMark with raw HTML switched off: what the writer typed as HTML is shown as text.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")
)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render(text: str) -> str:
    """Markdown → sanitised HTML: no script, no event handler, no ``javascript:`` or ``data:`` URL.

    Headings are demoted to ``h3``…: a note never outranks the page's own headings.
    """
    html = _markdown.render(text or "")
    html = (
        html.replace("<h1>", "<h3>")
        .replace("</h1>", "</h3>")
        .replace("<h2>", "<h4>")
        .replace("</h2>", "</h4>")
    )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
