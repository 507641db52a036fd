"""The TRL card itself: what it holds (``Card``, ``CardHeader``), its limits, its stored
(canonical) form, ``validate`` and staleness. Pure.

``validate`` refuses what cannot be stored with an ``InvalidInput`` naming the field and what is
allowed: text that is not text or holds control characters, sizes (``SECTION_MAX_BYTES`` per
section, ``CELL_MAX`` per summary cell, ``TLDR_MAX``, ``TITLE_MAX``), links other than http(s),
names holding commas, standard rows or sections given as extra ones, and Markdown whose structure
would cost the renderer too much: lists or quotes nested deeper than ``MAX_NESTING`` and link
brackets nested deeper than ``MAX_BRACKET_DEPTH``, outside code (brackets left open are not
refused: the renderer neutralises them); and a heading in
the notes above the sections (read back, it would start a section). The canonical form closes a code fence left open at the end of a text, so
the fence cannot swallow the sections after it when the card is written out and read back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from mltrl.domain import fields as text_fields
from mltrl.domain.cards.text import (
    bracket_report,
    deepest_nesting,
    fence_marker,
    fence_run,
    heading,
    outside_fences,
    section_key,
    summary_key,
)
from mltrl.domain.errors import InvalidInput
from mltrl.domain.policy import DEFAULT_CARD_STALE_DAYS

# --------------------------------------------------------------------------------------------
# What a card holds

SECTION_MAX_BYTES = 100 * 1024  # per Markdown section (and so per line of a card file)
CARD_MAX_BYTES = 2 * 1024 * 1024  # a card file, checked before it is read
CELL_MAX = 500  # a summary-table cell
TLDR_MAX = 2_000
TITLE_MAX = 200
CHANGE_SUMMARY_MAX = 500
MAX_NESTING = 16  # lists and quotes inside each other (python-markdown recurses per level)
MAX_BRACKET_DEPTH = 8  # link brackets [...] inside each other (python-markdown rescans per bracket)

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


def canonical_text(text: str | None, *, close_fence: bool = True) -> str:
    """Text as a card stores it: Unix newlines, no trailing spaces, no blank lines around it,
    headings inside a section at depth 4 or deeper (the sections themselves are depth 3), and a
    code fence left open at the end closed (unless ``close_fence`` is false)."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    fence: str | None = None
    run = ""
    for line in lines:
        marker = fence_marker(line)
        if fence is None and marker:
            fence, run = marker, fence_run(line)
        elif fence is not None and marker and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            found = heading(line)
            if found and found[0] < 4:
                line = "####" + line[found[0]:]
        out.append(line)
    joined = "\n".join(out).strip("\n")
    if fence is not None and close_fence:
        joined += "\n" + run
    return joined


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
        tldr=" ".join(canonical_text(card.tldr, close_fence=False).split()),
        **{key: canonical_text(getattr(card, key)) for key, _, _ in SECTIONS},
        **{key: canonical_text(getattr(card, key)) for key, _ in DEBRIEF},
        debrief_notes=canonical_text(card.debrief_notes),
        extra_sections=tuple(
            (_cell(h), canonical_text(b)) for h, b in card.extra_sections if _cell(h) or canonical_text(b)
        ),
    )


_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):")
_MD_LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]*:[^<>\s]*)>")  # no '<' inside: one scan per '<'
_BARE_URLISH = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S*$")


def bad_link(target: str) -> bool:
    """A link target with a scheme other than http, https or mailto (``javascript:``, ``data:``...)."""
    match = _SCHEME.match(target)
    return bool(match) and match.group(1).lower() not in ("http", "https", "mailto")


def looks_like_link(text: str) -> bool:
    return bool(_BARE_URLISH.match(text)) or "](" in text or bool(_AUTOLINK.search(text))


def check_link_field(field_name: str, value: str) -> None:
    """A link row holds an http(s) URL, or a short note whose links are http(s)."""
    label = FIELD_LABELS.get(field_name, field_name)
    value = value.strip()
    targets = [value] if _BARE_URLISH.match(value) else []
    targets += _MD_LINK_TARGET.findall(value) + _AUTOLINK.findall(value)
    for target in targets:
        if bad_link(target) or (target is value and not value.lower().startswith(("http://", "https://"))):
            raise InvalidInput(
                label, f"only http:// or https:// links are allowed (got {target[:60]!r})"
            )


_TEXT_FIELDS = ("title", "project_url", "requirements_url", "code_url", "ethics_status", "ethics_url", "id_note",
                "notes", "tldr", *(key for key, _, _ in SECTIONS), *(key for key, _ in DEBRIEF), "debrief_notes")


def _check_text(label: str, value: Any) -> None:
    """Text is text: a ``str`` without control characters (tab and line breaks allowed) and
    without lone surrogates (which no database stores)."""
    text_fields.block(value, label, 1 << 62)
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(label, "must be valid Unicode text (found a lone surrogate)") from None


def _check_shapes(card: Card) -> None:
    """Every field of the right shape before anything reads it: texts, lists of texts, pairs."""
    for key in _TEXT_FIELDS:
        _check_text(FIELD_LABELS[key], getattr(card, key))
    for key in ("owners", "reviewers", "coupled"):
        values = getattr(card, key)
        if isinstance(values, str) or not isinstance(values, (tuple, list)):
            raise InvalidInput(FIELD_LABELS[key], f"expected a list of names, got {type(values).__name__}")
        for value in values:
            _check_text(FIELD_LABELS[key], value)
    for key in ("extra_rows", "extra_sections"):
        pairs = getattr(card, key)
        if isinstance(pairs, str) or not isinstance(pairs, (tuple, list)):
            raise InvalidInput(FIELD_LABELS[key], f"expected a list of pairs, got {type(pairs).__name__}")
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise InvalidInput(FIELD_LABELS[key], "each entry is a pair: (label, text)")
            for value in pair:
                _check_text(FIELD_LABELS[key], value)


def check_markup(label: str, text: str) -> None:
    """Refuse Markdown the renderer cannot show quickly: lists or quotes nested deeper than
    ``MAX_NESTING``, link brackets nested deeper than ``MAX_BRACKET_DEPTH``."""
    depth, line = deepest_nesting(text)
    if depth > MAX_NESTING:
        raise InvalidInput(label, f"lists and quotes nest at most {MAX_NESTING} deep, counting four spaces of "
                                  f"indentation before a list item or quote as a level (line {line} is "
                                  f"{depth} deep)")
    deepest, _ = bracket_report(text, MAX_BRACKET_DEPTH)
    if deepest > MAX_BRACKET_DEPTH:
        raise InvalidInput(label, f"square brackets [...] nest at most {MAX_BRACKET_DEPTH} deep outside code "
                                  f"(found {deepest}); write \\[ for a literal bracket")


def section_label(key: str) -> str:
    """How messages name a long text: its field's label, or ``Section 'heading'``."""
    return FIELD_LABELS.get(key) or f"Section {key.split(':', 1)[1]!r}"


def validate(card: Card) -> Card:
    """``card`` in canonical form, or ``InvalidInput`` naming the first field that cannot be stored."""
    _check_shapes(card)
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
    if card.ethics_status and looks_like_link(card.ethics_status):
        raise InvalidInput(FIELD_LABELS["ethics_status"], "put the checklist's link in the link field")
    for label, value in card.extra_rows:
        if not label:
            raise InvalidInput(FIELD_LABELS["extra_rows"], f"the row with {value[:30]!r} needs a label")
        if len(label) > CELL_MAX or len(value) > CELL_MAX:
            raise InvalidInput(FIELD_LABELS["extra_rows"], f"{label[:30]!r}: at most {CELL_MAX} characters per cell")
        if summary_key(label) is not None:
            raise InvalidInput(FIELD_LABELS["extra_rows"], f"{label!r} is a standard row; use its own field")
        for target in _MD_LINK_TARGET.findall(value) + _AUTOLINK.findall(value):
            if bad_link(target):
                raise InvalidInput(FIELD_LABELS["extra_rows"], f"{label!r}: only http(s) links are allowed")
    if len(card.tldr) > TLDR_MAX:
        raise InvalidInput(FIELD_LABELS["tldr"], f"one paragraph of at most {TLDR_MAX} characters (got {len(card.tldr)})")
    long_texts = [(key, getattr(card, key)) for key, _, _ in SECTIONS]
    long_texts += [(key, getattr(card, key)) for key, _ in DEBRIEF]
    long_texts += [("notes", card.notes), ("debrief_notes", card.debrief_notes)]
    long_texts += [(f"extra_sections:{h}", b) for h, b in card.extra_sections]
    for key, text in long_texts:
        size = len(text.encode("utf-8"))
        if size > SECTION_MAX_BYTES:
            raise InvalidInput(section_label(key),
                               f"at most {SECTION_MAX_BYTES // 1024} KB per section (got {size / 1024:.0f} KB)")
    for heading_text, _ in card.extra_sections:
        if not heading_text:
            raise InvalidInput(FIELD_LABELS["extra_sections"], "every extra section needs a heading")
        if len(heading_text) > TITLE_MAX:
            raise InvalidInput(FIELD_LABELS["extra_sections"], f"headings have at most {TITLE_MAX} characters")
        if section_key(heading_text) is not None:
            raise InvalidInput(FIELD_LABELS["extra_sections"],
                               f"{heading_text!r} is a standard section; use its own field")
    notes_lines = card.notes.split("\n")
    for line, outside in zip(notes_lines, outside_fences(notes_lines), strict=True):
        if outside and heading(line):
            raise InvalidInput(FIELD_LABELS["notes"], f"no headings here ({line[:40]!r}): above the sections a "
                                                      "heading starts a section; put this text in one")
    cells = [(key, getattr(card, key)) for key in ("project_url", "requirements_url", "code_url", "ethics_url",
                                                   "id_note", "tldr")]
    cells += [("extra_rows", value) for _, value in card.extra_rows]
    for key, text in long_texts + cells:
        check_markup(section_label(key), text)
    return card


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
              max_days: int = DEFAULT_CARD_STALE_DAYS) -> Staleness:
    """A card is stale when it was not saved since the technology's last level change, or not
    for more than ``max_days`` days (``mltrl.domain.policy.DEFAULT_CARD_STALE_DAYS`` unless the
    organisation's setting says otherwise); a technology without a card has ``none``."""
    if last_saved is None:
        return Staleness("none", "no card yet")
    if level_since is not None and last_saved < level_since:
        return Staleness("stale", f"not saved since the level changed on {level_since:%Y-%m-%d}")
    age = (now - last_saved).total_seconds() / 86400
    if age > max_days:
        return Staleness("stale", f"last saved {int(age)} days ago (more than {max_days})")
    return Staleness("fresh", f"saved {int(age)} days ago" if age >= 1 else "saved today")
