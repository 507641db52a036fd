"""The MLTRL card Markdown layout, both ways. Pure.

* ``to_markdown`` writes the card in the MLTRL template layout (``#`` title, two-column summary
  table, bold TL;DR, ``###`` sections, numbered debrief questions with indented answers).
* ``parse_markdown`` reads that layout as people write it: sections in any order or missing, any
  heading depth, extra rows and sections, footnotes, images and links. For every valid card,
  ``parse_markdown(to_markdown(card)).card == card`` (property tests check it, including cards
  whose sections hold an unclosed code fence or whose headings end in ``#``).

Before reading anything, ``parse_markdown`` checks the file's size (``CARD_MAX_BYTES``), every
line's (at most ``SECTION_MAX_BYTES``: no line of a storable card is longer) and, once the file is
split at its headings, every standard section's; each refusal is an ``InvalidInput`` naming the
limit. The reading itself is linear in the file's size (``mltrl.domain.cards.text``). The
``Current Level`` cell must hold a whole number 0-9 (``Level 4``, ``**4**`` and a note after it,
``4 (prior level cards: 2, 3)``, are fine), or be empty or a dash; anything else is refused
naming the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from mltrl.domain.cards.model import (
    CARD_MAX_BYTES,
    DEBRIEF,
    DEBRIEF_HEADING,
    FIELD_LABELS,
    LINK_ROWS,
    ROW_COUPLED,
    ROW_ETHICS,
    ROW_LEVEL,
    ROW_OWNERS,
    ROW_REVIEWERS,
    ROW_TECH,
    SECTION_MAX_BYTES,
    SECTIONS,
    Card,
    CardHeader,
    canonical,
    canonical_text,
    default_title,
    looks_like_link,
)
from mltrl.domain.cards.text import (
    fence_marker,
    heading,
    heading_line,
    is_table_separator,
    norm,
    numbered,
    question_key,
    section_key,
    strip_html_comments,
    summary_key,
    tldr_prefix,
)
from mltrl.domain.errors import InvalidInput

# --------------------------------------------------------------------------------------------
# Markdown: writing the template layout


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _status_like(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9 /.!?'’-]{0,39}", text)) and not looks_like_link(text)


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
    out = [heading_line(1, card.title or default_title(header)), "",
           "| Summary info | Content, links |", "| --- | --- |"]
    out += [f"| {_escape_cell(label)} | {_escape_cell(value)} |" for label, value in summary_rows(card, header)]
    out.append("")
    if card.notes:
        out += [card.notes, ""]
    out += [f"**TL;DR** — {card.tldr}", ""]
    for key, section_heading, _ in SECTIONS:
        out += [heading_line(3, section_heading), ""]
        if getattr(card, key):
            out += [getattr(card, key), ""]
    out += [heading_line(3, DEBRIEF_HEADING), ""]
    if card.debrief_notes:
        out += [card.debrief_notes, ""]
    for number, (key, question) in enumerate(DEBRIEF, start=1):
        out += [f"{number}. {question}", ""]
        if getattr(card, key):
            out += [_indent(getattr(card, key)), ""]
    for extra_heading, body in card.extra_sections:
        out += [heading_line(3, extra_heading), ""]
        if body:
            out += [body, ""]
    return "\n".join(out).rstrip("\n") + "\n"


# --------------------------------------------------------------------------------------------
# Markdown: reading cards as people write them

_CODE_IN_CELL = re.compile(r"\(\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*\)")
_LEVEL_WORDS = ("mltrl", "trl", "level")
_NO_LEVEL = ("", "—", "–", "-")


def _code_in_cell(cell: str) -> tuple[str | None, str, str] | None:
    """(name, code, rest) from 'Name (R02.1)[^1]': the last parenthesised code with a digit
    (names may hold parentheses of their own: 'Forecaster (deep) (P14.2)')."""
    found = list(_CODE_IN_CELL.finditer(cell))
    if not found:
        return None
    with_digit = [m for m in found if any(ch.isdigit() for ch in m.group(1))]
    m = (with_digit or found)[-1]
    return cell[:m.start()].strip() or None, m.group(1), cell[m.end():].strip()


def parse_level(cell: str) -> int | None:
    """The level a ``Current Level`` cell states: a whole number 0-9, after optional words
    (``Level``, ``TRL``, ``MLTRL``) and before an optional note (``4 (prior level cards: 2)``,
    ``**4** — proof of concept``); None for an empty cell or a dash. Anything else (``-1``,
    ``4.5``, ``10``, ``IX``) is an ``InvalidInput`` naming the row."""
    text = cell.translate(str.maketrans("", "", "*_`")).strip()
    cut = min((i for i in (text.find("("), text.find("[")) if i >= 0), default=len(text))
    rest = text[:cut].strip()
    if rest in _NO_LEVEL:
        return None
    found = True
    while found:
        found = False
        for word in _LEVEL_WORDS:
            if rest[:len(word)].lower() == word:
                rest = rest[len(word):]
                rest = rest[1:] if rest.startswith("-") else rest  # "TRL-4"
                rest = rest.lstrip(" :")
                found = True
                break
    token = rest.split()[0].rstrip(".,;:") if rest.split() else ""
    if token.isascii() and token.isdigit() and int(token) <= 9:
        return int(token)
    raise InvalidInput(ROW_LEVEL, f"{cell.strip()[:40]!r} is not a level: write a whole number from 0 to 9 "
                                  "(e.g. '4', 'Level 4' or '4 (prior level cards: 2, 3)'), or leave it empty")


def _split_cells(line: str) -> list[str]:
    line = line.strip()
    line = line.removeprefix("|")
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [c.strip().replace("\\|", "|") for c in cells]


def _split_names(cell: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in re.split(r"[,;]", cell) if n.strip())


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


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _check_file_size(text: str) -> None:
    size = _utf8_size(text) if len(text) * 4 > CARD_MAX_BYTES else len(text)
    if size > CARD_MAX_BYTES:
        raise InvalidInput("file", f"a card file has at most {CARD_MAX_BYTES // (1024 * 1024)} MB "
                                   f"(got {size / (1024 * 1024):.1f} MB)")


def _check_section_sizes(preamble: list[str], sections: list[_Section]) -> None:
    """No line longer than a section (no storable card has one), and no standard section over
    ``SECTION_MAX_BYTES``; checked once the file is split at its headings, before it is read."""
    limit = f"at most {SECTION_MAX_BYTES // 1024} KB per section"
    for label, lines in [("file", preamble)] + [(_section_label(s), s.lines) for s in sections]:
        for number, line in enumerate(lines, start=1):
            if len(line) * 4 > SECTION_MAX_BYTES and _utf8_size(line) > SECTION_MAX_BYTES:
                where = f"line {number} of the section" if label != "file" else f"line {number} before the sections"
                raise InvalidInput(label, f"{limit} ({where} alone has {_utf8_size(line) / 1024:.0f} KB)")
    for section in sections:
        if section.key not in (None, "debrief", "tldr"):
            size = _utf8_size(canonical_text("\n".join(section.lines)))
            if size > SECTION_MAX_BYTES:
                raise InvalidInput(FIELD_LABELS[section.key], f"{limit} (got {size / 1024:.0f} KB)")


def _section_label(section: _Section) -> str:
    if section.key in FIELD_LABELS:
        return FIELD_LABELS[section.key]
    return "TL;DR" if section.key == "tldr" else f"Section {section.heading[:60]!r}"


def _split_sections(lines: list[str]) -> tuple[str, list[str], list[_Section]]:
    """(title, lines before the first section, sections) of a card's lines."""
    title = ""
    preamble: list[str] = []
    sections: list[_Section] = []
    current: _Section | None = None
    fence: str | None = None
    for line in lines:
        marker = fence_marker(line)
        if fence is not None:
            if marker and line.strip().startswith(fence):
                fence = None
            (current.lines if current else preamble).append(line)
            continue
        if marker:
            fence = marker
            (current.lines if current else preamble).append(line)
            continue
        found = heading(line)
        if found:
            depth, words = found
            key = section_key(words)
            if not title and depth == 1 and current is None and not strip_html_comments("\n".join(preamble)).strip():
                title = words
                continue
            if current is not None and key is None and depth > current.depth:
                current.lines.append(line)  # a sub-heading inside a section
                continue
            current = _Section(words, depth, key)
            sections.append(current)
            continue
        (current.lines if current else preamble).append(line)
    return title, preamble, sections


def parse_markdown(text: str) -> ParsedCard:
    """Read a card written in (or near) the MLTRL template layout; nothing it holds is dropped.

    A result, or an ``InvalidInput`` naming the limit or the row that cannot be read."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidInput("file", f"a card file is text (got {type(text).__name__})")
    _check_file_size(text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    warnings: list[str] = []
    title, preamble, sections = _split_sections(lines)
    _check_section_sizes(preamble, sections)

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
        if summary_key(header[0] if header else "") is not None:
            body = [header] + body
        for cells in body:
            label = cells[0] if cells else ""
            value = " | ".join(cells[1:]) if len(cells) > 1 else ""
            key = summary_key(label)
            if key == "tech":
                match = _code_in_cell(value)
                if match:
                    name, code, rest = match
                    values["id_note"] = rest
                elif norm(label) in ("project id",):
                    code = value.strip() or None
                else:
                    name = value.strip() or None
            elif key == "level":
                level = parse_level(value)
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
            if tldr_prefix(line) is not None:
                end = i + 1
                while end < len(candidate) and candidate[end].strip():
                    end += 1
                paragraph = " ".join(candidate[i:end])
                values["tldr"] = paragraph[tldr_prefix(paragraph) or 0:].strip()
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
    unknown = [s for s in sections if s.key is None]
    for (extra_heading, body), original in zip(extra_sections, unknown, strict=True):
        if not body and not any(line.strip() for line in original.lines) and _wrapper_heading(extra_heading):
            continue
        kept.append((extra_heading, body))
    values["extra_sections"] = tuple(kept)
    values["notes"] = "\n\n".join(n for n in notes if n)
    if code is None:
        warnings.append("The summary table names no project ID, e.g. 'Tech name (project ID) | My model (R02.1)'.")
    card = canonical(Card(**{k: v for k, v in values.items() if k in {f.name for f in fields(Card)}}))
    header = CardHeader(code or "", name or "", level)
    if card.title and code and name and card.title == default_title(header):
        card = replace(card, title="")
    return ParsedCard(card=card, code=code, name=name, level=level, warnings=tuple(warnings))


def _wrapper_heading(text: str) -> bool:
    return norm(text) in ("summary", "summary info", "card content", "overview", "tl dr", "summary table")


def _find_table(lines: list[str]) -> tuple[int, int] | None:
    """The line span of the first pipe table whose rows include a known summary label."""
    i = 0
    while i < len(lines):
        if "|" in lines[i] and i + 1 < len(lines) and "-" in lines[i + 1] and is_table_separator(lines[i + 1]):
            end = i + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            labels = [_split_cells(line)[0] for k, line in enumerate(lines[i:end]) if k != 1]
            if any(summary_key(label) is not None for label in labels):
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
    return text.endswith("?") or (bool(question_key(text)) and not text.endswith(".") and len(text) <= 80)


def _question(line: str) -> str | None:
    """The question a debrief line asks ('2. What was punted?'), or None."""
    found = numbered(line)
    return found[1] if found and _is_question(found[1]) else None


def _dedent_answer(lines: list[str]) -> str:
    """An answer without the indentation of its first line, at most four columns (the layout's
    own; an answer's own indentation, such as an indented code block, stays); lines indented less
    keep what they have."""
    first = next((line for line in lines if line.strip()), "")
    indent = min(len(first) - len(first.lstrip(" \t")), 4)
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
        question = _question(lines[i])
        if question is not None:
            j = i + 1
            while j < len(lines) and _question(lines[j]) is None:
                j += 1
            key = question_key(question)
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
