"""Reading a reading's folder (``reading.md`` and its YAML records) into plain specs.

Nothing here touches the database: it turns files into dictionaries keyed by natural
keys and collects every problem it finds, with the file and record it concerns, so a
curator sees all of them at once. ``annotations.services.reading_load`` writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.utils.text import slugify

_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*$")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


class ReadingError(Exception):
    """The folder cannot be loaded; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class SectionSpec:
    key: str
    title: str
    level: int
    order: int
    parent_key: str | None


@dataclass
class ParagraphSpec:
    anchor: str
    order: int
    section_key: str
    text: str


@dataclass
class ReadingSpec:
    """Everything a folder describes, not yet validated against the database."""

    document: dict[str, Any]
    sections: list[SectionSpec] = field(default_factory=list)
    paragraphs: list[ParagraphSpec] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    actors: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)


def _split_front_matter(text: str, name: str, problems: list[str]) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        return {}, text
    try:
        header, body = text[4:].split("\n---\n", 1)
    except ValueError:
        problems.append(f"{name}: the front matter opened with '---' is never closed.")
        return {}, ""
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as error:
        problems.append(f"{name}: the front matter is not valid YAML: {error}")
        return {}, body
    if not isinstance(meta, dict):
        problems.append(f"{name}: the front matter must be a mapping of fields.")
        return {}, body
    return meta, body


def _unique_key(base: str, taken: set[str]) -> str:
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key


def parse_text(
    text: str, *, name: str, markdown: bool, default_slug: str, problems: list[str]
) -> tuple[dict[str, Any], list[SectionSpec], list[ParagraphSpec]]:
    """Split a reading's text into its front matter, sections and paragraphs.

    In Markdown, a block that is a single ``#`` line is a heading; every other block
    (blocks are separated by blank lines) is a paragraph, kept exactly as written.
    """
    text = text.replace("\r\n", "\n")
    meta, body = _split_front_matter(text, name, problems)
    meta.setdefault("slug", default_slug)
    meta.setdefault("title", default_slug.replace("-", " ").capitalize())
    sections: list[SectionSpec] = []
    paragraphs: list[ParagraphSpec] = []
    taken: set[str] = set()
    open_sections: list[SectionSpec] = []  # the current heading at each level
    for block in _BLANK_LINES.split(body):
        block = block.strip("\n")
        if not block.strip():
            continue
        heading = _HEADING.match(block) if markdown and "\n" not in block else None
        if heading:
            level = len(heading["hashes"])
            while open_sections and open_sections[-1].level >= level:
                open_sections.pop()
            title = heading["title"]
            section = SectionSpec(
                key=_unique_key(slugify(title)[:80].strip("-") or "section", taken),
                title=title,
                level=len(open_sections) + 1,
                order=len(sections) + 1,
                parent_key=open_sections[-1].key if open_sections else None,
            )
            sections.append(section)
            open_sections.append(section)
            continue
        if not open_sections:
            # Text before any heading (or a plain-text reading) goes in one opening section.
            section = SectionSpec(
                key=_unique_key("text", taken),
                title=str(meta["title"]),
                level=1,
                order=len(sections) + 1,
                parent_key=None,
            )
            sections.append(section)
            open_sections.append(section)
        order = len(paragraphs) + 1
        paragraphs.append(
            ParagraphSpec(
                anchor=f"p-{order}",
                order=order,
                section_key=open_sections[-1].key,
                text=block,
            )
        )
    if not paragraphs:
        problems.append(f"{name}: the reading has no paragraphs.")
    return meta, sections, paragraphs


def _load_yaml_list(path: Path, problems: list[str]) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        problems.append(f"{path.name}: not valid YAML: {error}")
        return []
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        problems.append(f"{path.name}: must be a list of records (each a mapping of fields).")
        return []
    for item in data:
        item["_file"] = f"{path.parent.name}/{path.name}" if path.parent.name == "claims" else path.name
    return data


def read_folder(folder: Path) -> ReadingSpec:
    """Read a reading's folder; raise ``ReadingError`` listing every problem found."""
    problems: list[str] = []
    folder = Path(folder)
    if not folder.is_dir():
        raise ReadingError([f"{folder}: no such folder."])
    markdown_file, text_file = folder / "reading.md", folder / "reading.txt"
    if markdown_file.exists():
        source_file, markdown = markdown_file, True
    elif text_file.exists():
        source_file, markdown = text_file, False
    else:
        raise ReadingError([f"{folder}: needs a reading.md or a reading.txt."])
    meta, sections, paragraphs = parse_text(
        source_file.read_text(encoding="utf-8"),
        name=source_file.name,
        markdown=markdown,
        default_slug=slugify(folder.name) or "reading",
        problems=problems,
    )
    spec = ReadingSpec(document=meta, sections=sections, paragraphs=paragraphs)
    for attribute in ("sources", "actors", "events"):
        path = folder / f"{attribute}.yaml"
        if path.exists():
            setattr(spec, attribute, _load_yaml_list(path, problems))
    claims_dir = folder / "claims"
    if claims_dir.is_dir():
        for path in sorted(claims_dir.glob("*.yaml")):
            spec.claims.extend(_load_yaml_list(path, problems))
    if problems:
        raise ReadingError(problems)
    return spec
