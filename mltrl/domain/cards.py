"""TRL cards: their content, the MLTRL card Markdown layout, safe HTML, diffs and staleness. Pure.

A card is the living report of one technology (see ``docs/ARCHITECTURE.md``). Its *content* is a
``Card``: the summary rows a person writes (owners, reviewers, links, ethics status, coupled
components), the TL;DR, the Markdown sections and the stage debrief, plus whatever a hand-written
card carried that has no field of its own (extra summary rows, extra sections, notes such as
footnotes), kept rather than dropped. What the dashboard knows better than the card (project ID,
name, current level, the levels it left) comes in a ``CardHeader``.

* ``to_markdown`` writes the card in the MLTRL template layout (``#`` title, two-column summary
  table, bold TL;DR, ``###`` sections, numbered debrief questions with indented answers);
  ``parse_markdown`` reads that layout as people write it: sections in any order or missing, any
  heading depth, extra rows and sections, footnotes, images and links. For every valid card,
  ``parse_markdown(to_markdown(card)).card == card`` (a property test checks it).
* ``render_html`` turns card Markdown into HTML through python-markdown and nh3 (an allow-list:
  no script, no event handlers, only http(s)/mailto links), with cross-links: ``#R02.1`` becomes a
  link to that technology's page when the code exists and is marked unknown when it does not;
  ``@name`` links to that person's cards.
* ``validate`` refuses what cannot be stored (sizes, non-http(s) links, multi-line summary cells)
  with an ``InvalidInput`` naming the field.
* ``section_changes`` compares two cards section by section for the history view and conflicts.
* ``staleness`` says whether a card is stale: not saved since the last level change, or not saved
  for more than a configurable number of days.

This module imports neither streamlit nor the database.
"""

from __future__ import annotations

import difflib
import html
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import markdown
import nh3
from markdown.blockprocessors import HashHeaderProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor

from mltrl.domain.errors import InvalidInput

# --------------------------------------------------------------------------------------------
# What a card holds

SECTION_MAX_BYTES = 100 * 1024  # per Markdown section
CELL_MAX = 500  # a summary-table cell
TLDR_MAX = 2_000
TITLE_MAX = 200
CHANGE_SUMMARY_MAX = 500
DEFAULT_STALE_DAYS = 90

# (key, heading in the template layout, what belongs there): the Markdown sections, in order.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("requirements", "Top-level requirements",
     "The main requirements as a numbered list (1, 2, 3...), each heading a tree n.subset.component "
     "in the full requirements document. Link the full requirements and V&V table."),
    ("model", "Model / algorithm info",
     "A short pitch a reviewer who knows the domain but not ML can follow: what the method is and "
     "how it is built."),
    ("intended_use", "Intended use",
     "What it is for, how and why, and the uses that are not acceptable."),
    ("testing", "Testing status",
     "What is tested algorithmically, how the code is tested, and testing advice for later levels."),
    ("data", "Data considerations",
     "Datasets and their versions, what the model was trained and evaluated on, imbalances, label "
     "quality, gaps, acquisition assumptions, privacy."),
    ("caveats", "Caveats, known edge cases, recommendations",
     "Biases, edge cases, technical or knowledge debt, and what later levels must keep in mind."),
)
SECTION_HEADINGS = {key: heading for key, heading, _ in SECTIONS}

# (key, question): the stage debrief, asked at every level.
DEBRIEF: tuple[tuple[str, str], ...] = (
    ("accomplished", "What was accomplished, and by whom?"),
    ("punted", "What was punted or de-scoped?"),
    ("learned", "What was learned?"),
    ("tech_debt", "What tech debt was gained or mitigated?"),
)
DEBRIEF_HEADING = "MLTRL stage debrief"

# (key, summary-table label): the summary rows that hold a link (or a short note about one).
LINK_ROWS: tuple[tuple[str, str], ...] = (
    ("project_url", "Main project page"),
    ("requirements_url", "Req's, V&V docs"),
    ("code_url", "Code repo & docs"),
)
ROW_TECH = "Tech name (project ID)"
ROW_LEVEL = "Current Level"
ROW_OWNERS = "Owner(s)"
ROW_REVIEWERS = "Reviewer(s)"
ROW_ETHICS = "Ethics checks?"
ROW_COUPLED = "Coupled components"

# Every field a person edits, with the label messages use.
FIELD_LABELS: dict[str, str] = {
    "title": "Title",
    "owners": "Owner(s)",
    "reviewers": "Reviewer(s)",
    **{key: label for key, label in LINK_ROWS},
    "ethics_status": "Ethics checks: status",
    "ethics_url": "Ethics checks: checklist link",
    "coupled": "Coupled components",
    "extra_rows": "Other summary rows",
    "id_note": "Tech name note",
    "notes": "Notes under the summary",
    "tldr": "TL;DR",
    **{key: heading for key, heading, _ in SECTIONS},
    **{key: f"Debrief: {question}" for key, question in DEBRIEF},
    "debrief_notes": "Debrief: other notes and questions",
    "extra_sections": "Other sections",
}


@dataclass(frozen=True)
class Card:
    """The content of a TRL card: what people write (see the module docstring)."""

    title: str = ""
    owners: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    project_url: str = ""
    requirements_url: str = ""
    code_url: str = ""
    ethics_status: str = ""
    ethics_url: str = ""
    coupled: tuple[str, ...] = ()
    extra_rows: tuple[tuple[str, str], ...] = ()
    id_note: str = ""
    notes: str = ""
    tldr: str = ""
    requirements: str = ""
    model: str = ""
    intended_use: str = ""
    testing: str = ""
    data: str = ""
    caveats: str = ""
    accomplished: str = ""
    punted: str = ""
    learned: str = ""
    tech_debt: str = ""
    debrief_notes: str = ""
    extra_sections: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists instead of tuples), as revisions store it."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Card:
        """The card stored as ``data``; unknown keys are ignored, missing ones are empty."""
        data = data or {}
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data or data[f.name] is None:
                continue
            value = data[f.name]
            if f.name in ("extra_rows", "extra_sections"):
                value = tuple((str(a), str(b)) for a, b in value)
            elif f.name in ("owners", "reviewers", "coupled"):
                value = tuple(str(v) for v in value)
            else:
                value = str(value)
            kwargs[f.name] = value
        return cls(**kwargs)

    def is_empty(self) -> bool:
        return self == Card()


@dataclass(frozen=True)
class CardHeader:
    """What the dashboard knows about the card's technology (not edited on the card)."""

    code: str
    name: str
    level: int | None = None
    prior_levels: tuple[int, ...] = ()  # levels whose frozen cards exist, for the summary row


def default_title(header: CardHeader) -> str:
    level = f", level {header.level}" if header.level is not None else ""
    return f"{header.name} ({header.code}) — TRL card{level}"


# --------------------------------------------------------------------------------------------
# Canonical text and validation


def canonical_text(text: str | None) -> str:
    """Text as a card stores it: Unix newlines, no trailing spaces, no blank lines around it, and
    headings inside a section at depth 4 or deeper (the sections themselves are depth 3)."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        marker = _fence_marker(line)
        if fence is None and marker:
            fence = marker
        elif fence is not None and marker and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            heading = _HEADING.match(line)
            if heading and len(heading.group(1)) < 4:
                line = "####" + line[len(heading.group(1)):]
        out.append(line)
    return "\n".join(out).strip("\n")


def _cell(text: str | None) -> str:
    return " ".join((text or "").split())


def canonical(card: Card) -> Card:
    """``card`` with every field in its stored form (what ``validate`` then checks)."""
    def names(values: Iterable[str]) -> tuple[str, ...]:
        result: list[str] = []
        for value in values:
            value = _cell(value)
            if value and value not in result:
                result.append(value)
        return tuple(result)

    return Card(
        title=_cell(card.title),
        owners=names(card.owners),
        reviewers=names(card.reviewers),
        project_url=_cell(card.project_url),
        requirements_url=_cell(card.requirements_url),
        code_url=_cell(card.code_url),
        ethics_status=_cell(card.ethics_status),
        ethics_url=_cell(card.ethics_url),
        coupled=names(card.coupled),
        extra_rows=tuple((_cell(a), _cell(b)) for a, b in card.extra_rows if _cell(a) or _cell(b)),
        id_note=_cell(card.id_note),
        notes=canonical_text(card.notes),
        tldr=" ".join(canonical_text(card.tldr).split()),
        **{key: canonical_text(getattr(card, key)) for key, _, _ in SECTIONS},
        **{key: canonical_text(getattr(card, key)) for key, _ in DEBRIEF},
        debrief_notes=canonical_text(card.debrief_notes),
        extra_sections=tuple(
            (_cell(h), canonical_text(b)) for h, b in card.extra_sections if _cell(h) or canonical_text(b)
        ),
    )


_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):")
_MD_LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]*:[^>\s]*)>")
_BARE_URLISH = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S*$")


def _bad_link(target: str) -> bool:
    """A link target with a scheme other than http, https or mailto (``javascript:``, ``data:``...)."""
    match = _SCHEME.match(target)
    return bool(match) and match.group(1).lower() not in ("http", "https", "mailto")


def check_link_field(field_name: str, value: str) -> None:
    """A link row holds an http(s) URL, or a short note whose links are http(s)."""
    label = FIELD_LABELS.get(field_name, field_name)
    value = value.strip()
    targets = [value] if _BARE_URLISH.match(value) else []
    targets += _MD_LINK_TARGET.findall(value) + _AUTOLINK.findall(value)
    for target in targets:
        if _bad_link(target) or (target is value and not value.lower().startswith(("http://", "https://"))):
            raise InvalidInput(
                label, f"only http:// or https:// links are allowed (got {target[:60]!r})"
            )


def validate(card: Card) -> Card:
    """``card`` in canonical form, or ``InvalidInput`` naming the first field that cannot be stored."""
    card = canonical(card)
    if len(card.title) > TITLE_MAX:
        raise InvalidInput(FIELD_LABELS["title"], f"at most {TITLE_MAX} characters (got {len(card.title)})")
    for key in ("owners", "reviewers", "coupled"):
        for value in getattr(card, key):
            if "," in value or ";" in value:
                raise InvalidInput(FIELD_LABELS[key], f"{value!r}: give one name per entry, without commas")
            if len(value) > 100:
                raise InvalidInput(FIELD_LABELS[key], f"{value[:30]!r}...: at most 100 characters per entry")
    for key in ("project_url", "requirements_url", "code_url", "ethics_url", "ethics_status", "id_note"):
        value = getattr(card, key)
        if len(value) > CELL_MAX:
            raise InvalidInput(FIELD_LABELS[key], f"at most {CELL_MAX} characters (got {len(value)})")
    for key in ("project_url", "requirements_url", "code_url", "ethics_url"):
        check_link_field(key, getattr(card, key))
    if ":" in card.ethics_status:
        raise InvalidInput(FIELD_LABELS["ethics_status"], "a short status such as Yes, WIP or Not started, without ':'")
    if card.ethics_status and _looks_like_link(card.ethics_status):
        raise InvalidInput(FIELD_LABELS["ethics_status"], "put the checklist's link in the link field")
    for label, value in card.extra_rows:
        if not label:
            raise InvalidInput(FIELD_LABELS["extra_rows"], f"the row with {value[:30]!r} needs a label")
        if len(label) > CELL_MAX or len(value) > CELL_MAX:
            raise InvalidInput(FIELD_LABELS["extra_rows"], f"{label[:30]!r}: at most {CELL_MAX} characters per cell")
        if _summary_key(label) is not None:
            raise InvalidInput(FIELD_LABELS["extra_rows"], f"{label!r} is a standard row; use its own field")
        for target in _MD_LINK_TARGET.findall(value) + _AUTOLINK.findall(value):
            if _bad_link(target):
                raise InvalidInput(FIELD_LABELS["extra_rows"], f"{label!r}: only http(s) links are allowed")
    if len(card.tldr) > TLDR_MAX:
        raise InvalidInput(FIELD_LABELS["tldr"], f"one paragraph of at most {TLDR_MAX} characters (got {len(card.tldr)})")
    long_texts = [(key, getattr(card, key)) for key, _, _ in SECTIONS]
    long_texts += [(key, getattr(card, key)) for key, _ in DEBRIEF]
    long_texts += [("notes", card.notes), ("debrief_notes", card.debrief_notes)]
    long_texts += [(f"extra_sections:{h}", b) for h, b in card.extra_sections]
    for key, text in long_texts:
        label = FIELD_LABELS.get(key) or f"Section {key.split(':', 1)[1]!r}"
        size = len(text.encode("utf-8"))
        if size > SECTION_MAX_BYTES:
            raise InvalidInput(label, f"at most {SECTION_MAX_BYTES // 1024} KB per section (got {size / 1024:.0f} KB)")
    for heading, _ in card.extra_sections:
        if not heading:
            raise InvalidInput(FIELD_LABELS["extra_sections"], "every extra section needs a heading")
        if len(heading) > TITLE_MAX:
            raise InvalidInput(FIELD_LABELS["extra_sections"], f"headings have at most {TITLE_MAX} characters")
        if _section_key(heading) is not None:
            raise InvalidInput(FIELD_LABELS["extra_sections"], f"{heading!r} is a standard section; use its own field")
    return card


def _looks_like_link(text: str) -> bool:
    return bool(_BARE_URLISH.match(text)) or "](" in text or bool(_AUTOLINK.search(text))


# --------------------------------------------------------------------------------------------
# Markdown: writing the template layout


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def ethics_cell(card: Card) -> str:
    if card.ethics_status and card.ethics_url:
        return f"{card.ethics_status}: {card.ethics_url}"
    if card.ethics_url and not _status_like(card.ethics_url):
        return card.ethics_url
    if card.ethics_url:
        return f"—: {card.ethics_url}"  # a status-like note with no status: keep it a link
    return card.ethics_status


def level_cell(header: CardHeader) -> str:
    if header.level is None:
        return "—"
    prior = [lv for lv in header.prior_levels if lv != header.level]
    if prior:
        return f"{header.level} (prior level cards: {', '.join(str(lv) for lv in prior)})"
    return str(header.level)


def summary_rows(card: Card, header: CardHeader) -> list[tuple[str, str]]:
    """The summary table's rows in template order, as the exports print them."""
    tech = f"{header.name} ({header.code})"
    if card.id_note:
        tech += card.id_note if card.id_note.startswith("[^") else f" {card.id_note}"
    rows = [
        (ROW_TECH, tech),
        (ROW_LEVEL, level_cell(header)),
        (ROW_OWNERS, ", ".join(card.owners)),
        (ROW_REVIEWERS, ", ".join(card.reviewers)),
        *[(label, getattr(card, key)) for key, label in LINK_ROWS],
        (ROW_ETHICS, ethics_cell(card)),
        (ROW_COUPLED, ", ".join(card.coupled)),
    ]
    return rows + list(card.extra_rows)


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.split("\n"))


def to_markdown(card: Card, header: CardHeader) -> str:
    """The card in the MLTRL template layout (see the module docstring)."""
    out = [f"# {card.title or default_title(header)}", "", "| Summary info | Content, links |", "| --- | --- |"]
    out += [f"| {_escape_cell(label)} | {_escape_cell(value)} |" for label, value in summary_rows(card, header)]
    out.append("")
    if card.notes:
        out += [card.notes, ""]
    out += [f"**TL;DR** — {card.tldr}", ""]
    for key, heading, _ in SECTIONS:
        out += [f"### {heading}", ""]
        if getattr(card, key):
            out += [getattr(card, key), ""]
    out += [f"### {DEBRIEF_HEADING}", ""]
    if card.debrief_notes:
        out += [card.debrief_notes, ""]
    for number, (key, question) in enumerate(DEBRIEF, start=1):
        out += [f"{number}. {question}", ""]
        if getattr(card, key):
            out += [_indent(getattr(card, key)), ""]
    for heading, body in card.extra_sections:
        out += [f"### {heading}", ""]
        if body:
            out += [body, ""]
    return "\n".join(out).rstrip("\n") + "\n"


# --------------------------------------------------------------------------------------------
# Markdown: reading cards as people write them

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_TLDR = re.compile(r"^\s*(?:\*\*|__)?\s*TL;?\s*DR\s*:?\s*(?:\*\*|__)?\s*[:—–-]*\s*", re.IGNORECASE)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_QUESTION = re.compile(r"^(\d+)[.)]\s+(.*\S)\s*$")
_CODE_IN_CELL = re.compile(r"\(\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*\)")
_LEVEL_IN_CELL = re.compile(r"^\D*?(\d)\b")


def _code_in_cell(cell: str) -> tuple[str | None, str, str] | None:
    """(name, code, rest) from 'Name (R02.1)[^1]': the last parenthesised code with a digit
    (names may hold parentheses of their own: 'Forecaster (deep) (P14.2)')."""
    found = list(_CODE_IN_CELL.finditer(cell))
    if not found:
        return None
    with_digit = [m for m in found if any(ch.isdigit() for ch in m.group(1))]
    m = (with_digit or found)[-1]
    return cell[:m.start()].strip() or None, m.group(1), cell[m.end():].strip()


def _fence_marker(line: str) -> str | None:
    stripped = line.lstrip()
    if len(line) - len(stripped) > 3:
        return None
    for marker in ("```", "~~~"):
        if stripped.startswith(marker):
            return marker
    return None


def _norm(label: str) -> str:
    label = re.sub(r"[*_`]", "", label).lower()
    return re.sub(r"[^a-z0-9&;]+", " ", label).strip()


def _summary_key(label: str) -> str | None:
    n = _norm(label)
    if not n:
        return None
    if "tech name" in n or n in ("project id", "project", "name", "technology", "project name"):
        return "tech"
    if "level" in n and ("current" in n or n in ("level", "trl", "mltrl level")):
        return "level"
    if n.startswith("owner"):
        return "owners"
    if n.startswith("reviewer"):
        return "reviewers"
    if "ethic" in n:
        return "ethics"
    if "coupled" in n:
        return "coupled"
    if "main project" in n or n in ("project page", "wiki", "project wiki"):
        return "project_url"
    if n.startswith(("req s", "reqs ")) or n in ("reqs", "req s") or "requirement" in n or "v&v" in n or " v v " in f" {n} ":
        return "requirements_url"
    if n.startswith("code"):
        return "code_url"
    return None


_MODEL_HEADINGS = ("model", "algorithm", "model info", "algorithm info", "model details", "method", "model card")


def _section_key(heading: str) -> str | None:
    n = _norm(heading)
    if n.startswith(("tl;dr", "tl dr", "tldr")):
        return "tldr"
    if "requirement" in n:
        return "requirements"
    if ("model" in n and "algorithm" in n) or n in _MODEL_HEADINGS:
        return "model"
    if "intended use" in n:
        return "intended_use"
    if n.startswith("testing status") or n in ("testing", "tests", "test status", "testing and validation"):
        return "testing"
    if n.startswith("data consideration") or n in ("data", "datasets", "data notes"):
        return "data"
    if n.startswith("caveat"):
        return "caveats"
    if "debrief" in n:
        return "debrief"
    return None


def _question_key(question: str) -> str | None:
    n = _norm(question)
    if "accomplish" in n or "achieved" in n:
        return "accomplished"
    if "punt" in n or "scope" in n:
        return "punted"
    if "learn" in n:
        return "learned"
    if "debt" in n:
        return "tech_debt"
    return None


def _split_cells(line: str) -> list[str]:
    line = line.strip()
    line = line.removeprefix("|")
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [c.strip().replace("\\|", "|") for c in cells]


def _split_names(cell: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in re.split(r"[,;]", cell) if n.strip())


def _status_like(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9 /.!?'’-]{0,39}", text)) and not _looks_like_link(text)


@dataclass(frozen=True)
class ParsedCard:
    """What ``parse_markdown`` found: the card, the technology it names, and notes for the user."""

    card: Card
    code: str | None
    name: str | None
    level: int | None
    warnings: tuple[str, ...] = ()


@dataclass
class _Section:
    heading: str
    depth: int
    key: str | None
    lines: list[str] = field(default_factory=list)


def parse_markdown(text: str) -> ParsedCard:
    """Read a card written in (or near) the MLTRL template layout; nothing it holds is dropped."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    warnings: list[str] = []
    title = ""
    preamble: list[str] = []
    sections: list[_Section] = []
    current: _Section | None = None
    fence: str | None = None
    for line in lines:
        marker = _fence_marker(line)
        if fence is not None:
            if marker and line.strip().startswith(fence):
                fence = None
            (current.lines if current else preamble).append(line)
            continue
        if marker:
            fence = marker
            (current.lines if current else preamble).append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            depth, words = len(heading.group(1)), heading.group(2)
            key = _section_key(words)
            if not title and depth == 1 and current is None and not _HTML_COMMENT.sub("", "\n".join(preamble)).strip():
                title = words
                continue
            if current is not None and key is None and current.key is not None and depth > current.depth:
                current.lines.append(line)  # a sub-heading inside a known section
                continue
            if current is not None and key is None and current.key is None and depth > current.depth:
                current.lines.append(line)
                continue
            current = _Section(words, depth, key)
            sections.append(current)
            continue
        (current.lines if current else preamble).append(line)

    values: dict[str, Any] = {"title": title}
    code = name = None
    level = None

    # The summary table: the first table before the first standard section with a known row.
    table_home: list[str] | None = None
    for candidate in [preamble] + [s.lines for s in sections if s.key is None]:
        if _find_table(candidate) is not None:
            table_home = candidate
            break
    extra_rows: list[tuple[str, str]] = []
    if table_home is not None:
        start, end = _find_table(table_home)  # type: ignore[misc]
        rows = [_split_cells(line) for line in table_home[start:end]]
        del table_home[start:end]
        header, body = rows[0], rows[2:]
        if _summary_key(header[0] if header else "") is not None:
            body = [header] + body
        for cells in body:
            label = cells[0] if cells else ""
            value = " | ".join(cells[1:]) if len(cells) > 1 else ""
            key = _summary_key(label)
            if key == "tech":
                match = _code_in_cell(value)
                if match:
                    name, code, rest = match
                    values["id_note"] = rest
                elif _norm(label) in ("project id",):
                    code = value.strip() or None
                else:
                    name = value.strip() or None
            elif key == "level":
                found = _LEVEL_IN_CELL.match(value)
                level = int(found.group(1)) if found else None
            elif key in ("owners", "reviewers", "coupled"):
                values[key] = _split_names(value)
            elif key == "ethics":
                values.update(_parse_ethics(value))
            elif key is not None:
                values[key] = value
            else:
                extra_rows.append((label, value))
    values["extra_rows"] = tuple(extra_rows)

    # TL;DR: a paragraph starting with TL;DR outside the standard sections, or a TL;DR section.
    tldr_home = [preamble] + [s.lines for s in sections if s.key is None]
    for candidate in tldr_home:
        for i, line in enumerate(candidate):
            if _TLDR.match(line) and re.match(r"^\s*(\*\*|__)?\s*TL", line, re.IGNORECASE):
                end = i + 1
                while end < len(candidate) and candidate[end].strip():
                    end += 1
                paragraph = " ".join(candidate[i:end])
                values["tldr"] = _TLDR.sub("", paragraph, count=1).strip()
                del candidate[i:end]
                break
        else:
            continue
        break

    notes = [canonical_text("\n".join(preamble))]
    extra_sections: list[tuple[str, str]] = []
    for section in sections:
        body = canonical_text("\n".join(section.lines))
        if section.key is None:
            extra_sections.append((section.heading, body))
        elif section.key == "tldr":
            values["tldr"] = " ".join(filter(None, [values.get("tldr", ""), " ".join(body.split())]))
        elif section.key == "debrief":
            debrief = _parse_debrief(body)
            for key, answer in debrief.items():
                values[key] = "\n\n".join(filter(None, [values.get(key, ""), answer]))
        else:
            values[section.key] = "\n\n".join(filter(None, [values.get(section.key, ""), body]))
    # An unknown section left empty only by the table or TL;DR it held was a wrapper: drop it.
    kept = []
    for heading, body in extra_sections:
        original = next(s for s in sections if s.heading == heading and s.key is None)
        if not body and (original.lines == [] or not any(line.strip() for line in original.lines)) and _wrapper_heading(heading):
            continue
        kept.append((heading, body))
    values["extra_sections"] = tuple(kept)
    values["notes"] = "\n\n".join(n for n in notes if n)
    if code is None:
        warnings.append("The summary table names no project ID, e.g. 'Tech name (project ID) | My model (R02.1)'.")
    card = canonical(Card(**{k: v for k, v in values.items() if k in {f.name for f in fields(Card)}}))
    header = CardHeader(code or "", name or "", level)
    if card.title and code and name and card.title == default_title(header):
        card = replace(card, title="")
    return ParsedCard(card=card, code=code, name=name, level=level, warnings=tuple(warnings))


def _wrapper_heading(heading: str) -> bool:
    return _norm(heading) in ("summary", "summary info", "card content", "overview", "tl dr", "summary table")


def _find_table(lines: list[str]) -> tuple[int, int] | None:
    """The line span of the first pipe table whose rows include a known summary label."""
    i = 0
    while i < len(lines):
        if "|" in lines[i] and i + 1 < len(lines) and _TABLE_SEPARATOR.match(lines[i + 1]) and "-" in lines[i + 1]:
            end = i + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            labels = [_split_cells(line)[0] for k, line in enumerate(lines[i:end]) if k != 1]
            if any(_summary_key(label) is not None for label in labels):
                return i, end
            i = end
        else:
            i += 1
    return None


def _parse_ethics(cell: str) -> dict[str, str]:
    cell = cell.strip()
    if not cell:
        return {}
    head, sep, tail = cell.partition(":")
    if sep and not tail.startswith("//") and _status_like(head.strip()) or (sep and head.strip() in ("—", "-")):
        status = head.strip()
        return {"ethics_status": "" if status in ("—", "-") else status, "ethics_url": tail.strip()}
    if _status_like(cell):
        return {"ethics_status": cell}
    return {"ethics_url": cell}


def _is_question(text: str) -> bool:
    """A debrief question: it ends with '?', or names a known question without ending a sentence."""
    text = text.rstrip("*_ ")
    return text.endswith("?") or (bool(_question_key(text)) and not text.endswith(".") and len(text) <= 80)


def _dedent_answer(lines: list[str]) -> str:
    """An answer without the indentation of its first line (lines indented less keep what they have)."""
    first = next((line for line in lines if line.strip()), "")
    indent = len(first) - len(first.lstrip(" \t"))
    out = []
    for line in lines:
        lead = len(line) - len(line.lstrip(" \t"))
        out.append(line[min(lead, indent):])
    return "\n".join(out)


def _parse_debrief(body: str) -> dict[str, str]:
    lines = body.split("\n")
    notes: list[str] = []
    answers: dict[str, str] = {}
    i = 0
    blocks: list[tuple[str | None, list[str]]] = []  # (key, raw lines incl. the question)
    while i < len(lines):
        match = _QUESTION.match(lines[i])
        if match and _is_question(match.group(2)):
            j = i + 1
            while j < len(lines):
                nxt = _QUESTION.match(lines[j])
                if nxt and _is_question(nxt.group(2)):
                    break
                j += 1
            key = _question_key(match.group(2))
            if key in answers:
                key = None
            blocks.append((key, lines[i:j]))
            if key:
                answers[key] = canonical_text(_dedent_answer(lines[i + 1:j]))
            i = j
        else:
            notes.append(lines[i])
            i += 1
    extra = [canonical_text("\n".join(notes))]
    extra += [canonical_text("\n".join(raw)) for key, raw in blocks if key is None]
    result = {key: answers.get(key, "") for key, _ in DEBRIEF if key in answers}
    result["debrief_notes"] = "\n\n".join(e for e in extra if e)
    return result


# --------------------------------------------------------------------------------------------
# Safe HTML with cross-links

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del", "ins",
    "span", "sup", "sub", "div", "img", "dl", "dt", "dd",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "span": {"title"},
}
ALLOWED_CLASSES = {"span": {"xref-unknown", "xref", "person", "img-alt"}, "a": {"xref", "person", "footnote-ref"},
                   "div": {"footnote"}, "sup": set(), "ins": set(), "del": set()}
_CODE_REF = re.compile(r"(?<![\w&#/\\])#([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]|[A-Za-z0-9])")
_PERSON_REF = re.compile(r"(?<![\w.@/\\])@([A-Za-z][\w-]*(?:\.[\w-]+)*)")


@dataclass(frozen=True)
class Links:
    """How cross-links resolve: known project codes, and where a code's and a person's pages are."""

    codes: frozenset[str] = frozenset()
    # None: no page to link to (an export without a base URL): the reference is marked, not linked.
    project_href: Callable[[str], str] | None = lambda code: f"project?code={code}"
    person_href: Callable[[str], str] | None = lambda name: f"cards?person={name}"
    level_card_href: Callable[[str, int], str] | None = None  # in the app: the card of a prior level


class _CodeRef(InlineProcessor):
    def __init__(self, links: Links):
        super().__init__(_CODE_REF.pattern)
        self.compiled_re = _CODE_REF
        self.links = links

    def handleMatch(self, m, data):
        code = m.group(1)
        if code in self.links.codes:
            if self.links.project_href is None:
                el = etree.Element("span", {"class": "xref", "title": "A technology in this portfolio"})
            else:
                el = etree.Element("a", {"href": self.links.project_href(code), "class": "xref"})
            el.text = f"#{code}"
            return el, m.start(0), m.end(0)
        if not any(ch.isdigit() for ch in code):
            return None, None, None  # a hashtag, not a project code
        el = etree.Element("span", {"class": "xref-unknown", "title": "No technology has this code"})
        el.text = f"#{code} (unknown code)"
        return el, m.start(0), m.end(0)


class _PersonRef(InlineProcessor):
    def __init__(self, links: Links):
        super().__init__(_PERSON_REF.pattern)
        self.compiled_re = _PERSON_REF
        self.links = links

    def handleMatch(self, m, data):
        name = m.group(1)
        if self.links.person_href is None:
            el = etree.Element("span", {"class": "person"})
        else:
            el = etree.Element("a", {"href": self.links.person_href(name), "class": "person",
                                     "title": f"Cards of {name}"})
        el.text = f"@{name}"
        return el, m.start(0), m.end(0)


class _StrictHashHeader(HashHeaderProcessor):
    """A heading needs a space after its hashes (as in CommonMark), so '#R02.1 feeds...' at the
    start of a line is a cross-link, not a heading."""

    RE = re.compile(r"(?:^|\n)(?P<level>#{1,6})[ \t]+(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)")


class _CrossLinks(Extension):
    def __init__(self, links: Links):
        super().__init__()
        self.links = links

    def extendMarkdown(self, md):
        # Below backticks (190) and links (160), so code spans and link texts stay as written.
        md.inlinePatterns.register(_CodeRef(self.links), "mltrl_code_ref", 105)
        md.inlinePatterns.register(_PersonRef(self.links), "mltrl_person_ref", 104)
        md.parser.blockprocessors.register(_StrictHashHeader(md.parser), "hashheader", 70)


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not value.lower().startswith(("http://", "https://")):
        return None  # a relative image cannot be found from the dashboard; its alt text stays
    return value


_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)([^>]*)>")
_ALT = re.compile(r'\salt="([^"]*)"')


def _drop_sourceless_images(cleaned: str) -> str:
    """An image whose source was removed (relative, or hostile) leaves its alt text, not a gap."""
    def alt_text(m: re.Match) -> str:
        alt = _ALT.search(m.group(1))
        return f'<span class="img-alt">[image: {alt.group(1)}]</span>' if alt and alt.group(1) else ""
    return _IMG_WITHOUT_SRC.sub(alt_text, cleaned)


def sanitize(raw_html: str, *, new_tab: bool = False) -> str:
    """``raw_html`` through the allow-list: what survives cannot run code. ``new_tab`` makes links
    open in a new browser tab (in the app, so a draft on the page is not lost)."""
    return _drop_sourceless_images(_clean(raw_html, new_tab))


def _clean(raw_html: str, new_tab: bool) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_keep_attribute,
        set_tag_attribute_values={"a": {"target": "_blank"}} if new_tab else None,
    )


def render_html(text: str, links: Links | None = None, *, new_tab: bool = False) -> str:
    """Card Markdown as sanitized HTML, with ``#CODE`` and ``@name`` cross-links."""
    md = markdown.Markdown(
        extensions=["tables", "fenced_code", "sane_lists", "footnotes", _CrossLinks(links or Links())],
        output_format="html",
    )
    return sanitize(md.convert(text or ""), new_tab=new_tab)


def render_cell(text: str, links: Links | None = None) -> str:
    """A summary cell: a bare URL becomes a link, anything else renders as inline Markdown."""
    text = text.strip()
    if not text:
        return '<span class="empty">—</span>'
    if re.fullmatch(r"https?://\S+", text):
        text = f"<{text}>"
    rendered = render_html(text, links)
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return rendered


# --------------------------------------------------------------------------------------------
# Documents: the card as HTML (page body, printable export) and the stakeholder brief

CARD_CSS = """
.trl-card { font-family: inherit; line-height: 1.55; color: #1f2430; max-width: 960px; }
.trl-card a { color: #1d4ed8; }
.trl-card .title { font-size: 1.7rem; margin: 0 0 .8rem; padding: 0; font-weight: 700; }
.trl-card .img-alt { color: #6b7280; font-style: italic; }
.trl-card h3 { font-size: 1.2rem; border-bottom: 1px solid #e3e6ee; padding-bottom: .2rem; margin-top: 1.6rem; }
.trl-card table.summary { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
.trl-card table.summary th, .trl-card table.summary td { border: 1px solid #dfe3ea; padding: .35rem .6rem;
  text-align: left; vertical-align: top; }
.trl-card table.summary th { background: #f4f6fa; width: 30%; font-weight: 600; }
.trl-card table:not(.summary) { border-collapse: collapse; }
.trl-card table:not(.summary) td, .trl-card table:not(.summary) th { border: 1px solid #dfe3ea; padding: .2rem .5rem; }
.trl-card .tldr { background: #f4f6fa; border-left: 4px solid #4c78a8; padding: .6rem .9rem; margin: 1rem 0; }
.trl-card .question { font-weight: 600; margin: .8rem 0 .2rem; }
.trl-card .answer { margin-left: 1.4rem; }
.trl-card .empty { color: #8a90a0; font-style: italic; }
.trl-card .xref-unknown { color: #9a3412; background: #fff7ed; border-radius: 3px; padding: 0 .2rem; }
.trl-card .xref, .trl-card .person { font-weight: 600; }
.trl-card pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; }
.trl-card img { max-width: 100%; }
.trl-card .meta { color: #5b6275; font-size: .9rem; }
@media print { .trl-card { max-width: none; } .trl-card h3 { break-after: avoid; }
  .trl-card table, .trl-card pre { break-inside: avoid; } a { color: inherit; } }
"""

DIFF_CSS = """
.card-diff ins { background: #dcfce7; text-decoration: none; }
.card-diff del { background: #fee2e2; }
.card-diff .section { font-weight: 600; margin-top: .8rem; }
.card-diff .text { white-space: pre-wrap; font-family: ui-monospace, Menlo, monospace; font-size: .85rem;
  border: 1px solid #e3e6ee; border-radius: 4px; padding: .5rem; }
"""


def _register_html(register: Sequence[str]) -> str:
    if not register:
        return ""
    return ('<p class="meta">In the requirements register:</p><ul class="register">'
            + "".join(f"<li>{html.escape(line)}</li>" for line in register) + "</ul>")


def card_body_html(card: Card, header: CardHeader, links: Links | None = None, *, meta: str = "",
                   render: Callable[[str], str] | None = None, title_tag: str = "h1",
                   new_tab: bool = False, register: Sequence[str] = ()) -> str:
    """The card as a document: title, summary table, TL;DR, sections, debrief (sanitized).

    ``render`` turns one Markdown text into safe HTML (default ``render_html`` with ``links``);
    the app passes a cached one so each section renders once per change. ``register`` lists the
    top-level requirements of the requirements register (one line each), shown under the card's
    own requirements text."""
    render = render or (lambda text: render_html(text, links))

    def _section_html(body: str, _links: Links | None) -> str:
        return render(body) if body else '<p class="empty">Not written yet.</p>'

    assert title_tag in ("h1", "h2")
    parts = [f'<div class="trl-card"><{title_tag} class="title">{html.escape(card.title or default_title(header))}'
             f'</{title_tag}>']
    if meta:
        parts.append(f'<p class="meta">{html.escape(meta)}</p>')
    parts.append('<table class="summary"><tbody>')
    for label, value in summary_rows(card, header):
        if label == ROW_TECH:
            cell = html.escape(f"{header.name} ({header.code})") + (
                " " + render_cell(card.id_note, links) if card.id_note else "")
        elif label == ROW_LEVEL and links is not None and links.level_card_href and header.level is not None:
            prior = [lv for lv in header.prior_levels if lv != header.level]
            cell = str(header.level)
            if prior:
                cell += " (prior level cards: " + ", ".join(
                    f'<a href="{html.escape(links.level_card_href(header.code, lv))}">{lv}</a>' for lv in prior) + ")"
        elif label in (ROW_OWNERS, ROW_REVIEWERS):
            cell = html.escape(value) if value else '<span class="empty">—</span>'
        elif label == ROW_ETHICS and card.ethics_status and card.ethics_url:
            cell = f"{html.escape(card.ethics_status)}: {render_cell(card.ethics_url, links)}"
        elif label == ROW_COUPLED and card.coupled:
            cell = ", ".join(_component_html(c, links) for c in card.coupled)
        else:
            cell = render_cell(value, links)
        parts.append(f"<tr><th>{html.escape(label)}</th><td>{cell}</td></tr>")
    parts.append("</tbody></table>")
    if card.notes:
        parts.append(render(card.notes))
    tldr = render_cell(card.tldr, links) if card.tldr else '<span class="empty">Not written yet.</span>'
    parts.append(f'<div class="tldr"><strong>TL;DR</strong> — {tldr}</div>')
    for key, heading, _ in SECTIONS:
        if key == "requirements" and register and not card.requirements:
            parts.append(f"<h3>{html.escape(heading)}</h3>{_register_html(register)}")
            continue
        parts.append(f"<h3>{html.escape(heading)}</h3>{_section_html(getattr(card, key), links)}")
        if key == "requirements":
            parts.append(_register_html(register))
    parts.append(f"<h3>{DEBRIEF_HEADING}</h3>")
    if card.debrief_notes:
        parts.append(render(card.debrief_notes))
    for number, (key, question) in enumerate(DEBRIEF, start=1):
        parts.append(f'<p class="question">{number}. {html.escape(question)}</p>'
                     f'<div class="answer">{_section_html(getattr(card, key), links)}</div>')
    for heading, body in card.extra_sections:
        parts.append(f"<h3>{html.escape(heading)}</h3>{_section_html(body, links)}")
    parts.append("</div>")
    return sanitize_document("".join(parts), new_tab=new_tab)


def _component_html(component: str, links: Links | None) -> str:
    """A coupled component: a link when it is a known project code, else the text."""
    if links is not None and component in links.codes:
        if links.project_href is None:
            return f'<span class="xref">{html.escape(component)}</span>'
        return f'<a class="xref" href="{html.escape(links.project_href(component))}">{html.escape(component)}</a>'
    return html.escape(component)


def sanitize_document(fragment: str, *, new_tab: bool = False) -> str:
    """A fragment we assembled from already-sanitized pieces, through the allow-list once more
    with the card's own classes allowed."""
    classes = {**ALLOWED_CLASSES, "div": {"trl-card", "tldr", "answer", "footnote", "brief", "card-diff", "text"},
               "p": {"meta", "question", "empty", "section"},
               "span": {"xref-unknown", "xref", "person", "empty", "badge", "img-alt"},
               "table": {"summary"}, "h1": {"title"}, "h2": {"title"}}
    cleaned = nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, allowed_classes=classes,
                        url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
                        attribute_filter=_keep_attribute,
                        set_tag_attribute_values={"a": {"target": "_blank"}} if new_tab else None)
    return _drop_sourceless_images(cleaned)


def html_document(title: str, body: str, *, extra_css: str = "") -> str:
    """A self-contained, printable HTML page around sanitized ``body``."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<style>body { margin: 2rem auto; padding: 0 1.5rem; max-width: 960px;"
        " font-family: 'Source Sans 3', 'Segoe UI', Helvetica, Arial, sans-serif; }"
        f"{CARD_CSS}{extra_css}"
        "@page { margin: 18mm; }</style></head>\n"
        f"<body>{body}</body></html>\n"
    )


def to_html(card: Card, header: CardHeader, links: Links | None = None, *, meta: str = "",
            register: Sequence[str] = ()) -> str:
    """The card as one self-contained, styled, printable HTML page."""
    return html_document(card.title or default_title(header),
                         card_body_html(card, header, links, meta=meta, register=register))


def top_requirements(card: Card, limit: int = 5) -> list[str]:
    """The top-level requirements the card lists (its numbered items), first ``limit`` of them."""
    items = []
    for line in card.requirements.split("\n"):
        match = re.match(r"^(\d+)[.)]\s+(.*\S)", line)
        if match:
            items.append(match.group(2))
    return items[:limit]


# --------------------------------------------------------------------------------------------
# Comparing cards


@dataclass(frozen=True)
class SectionChange:
    """One field that differs between two cards, with both texts."""

    key: str
    label: str
    old: str
    new: str


def _field_texts(card: Card) -> list[tuple[str, str, str]]:
    texts = [
        ("title", "Title", card.title),
        ("owners", ROW_OWNERS, ", ".join(card.owners)),
        ("reviewers", ROW_REVIEWERS, ", ".join(card.reviewers)),
        *[(key, label, getattr(card, key)) for key, label in LINK_ROWS],
        ("ethics", ROW_ETHICS, ethics_cell(card)),
        ("coupled", ROW_COUPLED, ", ".join(card.coupled)),
        ("extra_rows", "Other summary rows", "\n".join(f"{a}: {b}" for a, b in card.extra_rows)),
        ("notes", "Notes under the summary", card.notes),
        ("tldr", "TL;DR", card.tldr),
        *[(key, heading, getattr(card, key)) for key, heading, _ in SECTIONS],
        ("debrief_notes", "Stage debrief: notes", card.debrief_notes),
        *[(key, f"Stage debrief: {question}", getattr(card, key)) for key, question in DEBRIEF],
    ]
    texts += [(f"extra:{h}", h, b) for h, b in card.extra_sections]
    return texts


def section_changes(old: Card, new: Card) -> list[SectionChange]:
    """The fields that differ between ``old`` and ``new``, in card order."""
    before = {key: (label, text) for key, label, text in _field_texts(old)}
    after = {key: (label, text) for key, label, text in _field_texts(new)}
    order = list(after) + [k for k in before if k not in after]
    changes = []
    for key in order:
        label, old_text = before.get(key, (after.get(key, ("", ""))[0], ""))
        new_text = after.get(key, (label, ""))[1]
        if old_text != new_text:
            changes.append(SectionChange(key, label, old_text, new_text))
    return changes


def word_diff_html(old: str, new: str) -> str:
    """``old`` -> ``new`` as escaped text with deletions in <del> and insertions in <ins>.

    Lines are matched first and only changed runs of lines are compared word by word, so a long
    section with one edited paragraph costs little."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            out.append(html.escape(removed))
        elif op == "replace":
            out.append(_word_diff(removed, added))
        else:
            out.append(_marked("del", removed) + _marked("ins", added))
    return "".join(out)


_WORD = re.compile(r"\S+|\s+")


def _marked(tag: str, text: str) -> str:
    return f"<{tag}>{html.escape(text)}</{tag}>" if text else ""


def _word_diff(old: str, new: str) -> str:
    a, b = _WORD.findall(old), _WORD.findall(new)
    # (same?, old text, new text) runs; a run of bare whitespace between two changes joins them,
    # so "a b c" -> "x y z" reads as one replacement, not three interleaved ones.
    runs: list[list] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        runs.append([op == "equal", "".join(a[i1:i2]), "".join(b[j1:j2])])
    merged: list[list] = []
    for k, run in enumerate(runs):
        between = 0 < k < len(runs) - 1 and not runs[k - 1][0] and not runs[k + 1][0]
        if run[0] and between and not run[1].strip():
            run = [False, run[1], run[2]]
        if merged and not run[0] and not merged[-1][0]:
            merged[-1][1] += run[1]
            merged[-1][2] += run[2]
        else:
            merged.append(run)
    out = []
    for same, removed, added in merged:
        out.append(html.escape(removed) if same else _marked("del", removed) + _marked("ins", added))
    return "".join(out)


def diff_html(old: Card, new: Card) -> str:
    """Every changed field of the card with a word-level diff (sanitized HTML)."""
    changes = section_changes(old, new)
    if not changes:
        return '<div class="card-diff"><p class="empty">The two versions are identical.</p></div>'
    parts = ['<div class="card-diff">']
    for change in changes:
        parts.append(f'<p class="section">{html.escape(change.label)}</p>'
                     f'<div class="text">{word_diff_html(change.old, change.new)}</div>')
    parts.append("</div>")
    return sanitize_document("".join(parts))


# --------------------------------------------------------------------------------------------
# Staleness


@dataclass(frozen=True)
class Staleness:
    """Whether a card needs attention: ``state`` is ``none``, ``stale`` or ``fresh``."""

    state: str
    reason: str

    @property
    def stale(self) -> bool:
        return self.state != "fresh"


def staleness(last_saved: datetime | None, level_since: datetime | None, now: datetime,
              max_days: int = DEFAULT_STALE_DAYS) -> Staleness:
    """A card is stale when it was not saved since the technology's last level change, or not
    for more than ``max_days`` days; a technology without a card has ``none``."""
    if last_saved is None:
        return Staleness("none", "no card yet")
    if level_since is not None and last_saved < level_since:
        return Staleness("stale", f"not saved since the level changed on {level_since:%Y-%m-%d}")
    age = (now - last_saved).total_seconds() / 86400
    if age > max_days:
        return Staleness("stale", f"last saved {int(age)} days ago (more than {max_days})")
    return Staleness("fresh", f"saved {int(age)} days ago" if age >= 1 else "saved today")


# --------------------------------------------------------------------------------------------
# The stakeholder brief


@dataclass(frozen=True)
class BriefFacts:
    """What the one-page brief says besides the card: where the technology stands."""

    level_label: str  # "Level 4 · Proof of concept development" or "no level yet"
    phase: str
    status: str
    card_state: Staleness
    revision: str  # "revision 7, saved by ada on 2026-11-20"
    top_risks: tuple[str, ...] = ()
    next_review: str = ""
    register_requirements: tuple[str, ...] = ()  # the register's top-level requirements, one line each


def brief_html(card: Card, header: CardHeader, facts: BriefFacts, links: Links | None = None) -> str:
    """One printable page for stakeholders: level, phase, TL;DR, top requirements, top risks,
    next review, and how current the card is (sanitized HTML)."""
    esc = html.escape
    rows = [
        ("Level", facts.level_label), ("Phase", facts.phase), ("Status", facts.status),
        (ROW_OWNERS, ", ".join(card.owners) or "—"), (ROW_REVIEWERS, ", ".join(card.reviewers) or "—"),
        ("Card", f"{facts.revision} ({facts.card_state.reason})"),
        ("Next review", facts.next_review or "none scheduled"),
    ]
    parts = [f'<div class="trl-card brief"><h1>{esc(header.name)} ({esc(header.code)})</h1>',
             '<table class="summary"><tbody>']
    parts += [f"<tr><th>{esc(a)}</th><td>{esc(b)}</td></tr>" for a, b in rows]
    parts.append("</tbody></table>")
    tldr = render_cell(card.tldr, links) if card.tldr else '<span class="empty">No TL;DR written yet.</span>'
    parts.append(f'<div class="tldr"><strong>TL;DR</strong> — {tldr}</div>')
    reqs = top_requirements(card)
    parts.append("<h3>Top-level requirements</h3>")
    if facts.register_requirements:
        parts.append("<ul>" + "".join(f"<li>{esc(r)}</li>" for r in facts.register_requirements) + "</ul>")
    elif reqs:
        parts.append("<ol>" + "".join(f"<li>{render_cell(r, links)}</li>" for r in reqs) + "</ol>")
    else:
        parts.append('<p class="empty">None listed on the card yet.</p>')
    if facts.top_risks:
        parts.append("<h3>Top risks</h3><ol>" + "".join(f"<li>{esc(r)}</li>" for r in facts.top_risks) + "</ol>")
    parts.append("</div>")
    return sanitize_document("".join(parts))
