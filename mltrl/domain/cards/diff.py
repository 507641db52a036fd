"""Comparing two cards: which fields changed (``section_changes``, for the history view, the
conflict view and the audit), and a word-level diff of them as sanitized HTML. Pure.

Lines are matched first and only changed runs of lines are compared word by word. Before either
comparison the common first and last lines (words) are set aside, and a changed middle longer
than ``DIFF_MAX`` lines (words and spaces) on either side is shown as removed and added whole, as
is every changed run once a field's runs have been given ``WORD_DIFF_BUDGET`` words to compare:
``difflib`` costs up to the cube of the lengths on repetitive text (``a a a`` against ``b b b``),
so the diff of two long hostile sections still costs little.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

from mltrl.domain.cards.layout import ethics_cell
from mltrl.domain.cards.model import DEBRIEF, LINK_ROWS, ROW_COUPLED, ROW_ETHICS, ROW_OWNERS, ROW_REVIEWERS, SECTIONS, Card
from mltrl.domain.cards.rendering import sanitize_document

DIFF_MAX = 200  # lines (or words and spaces) on either side of a middle difflib compares
WORD_DIFF_BUDGET = 4_000  # words and spaces compared word by word in one field's diff


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
    budget = WORD_DIFF_BUDGET
    for op, i1, i2, j1, j2 in _opcodes(a, b)[0]:
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            out.append(html.escape(removed))
        elif op == "replace" and budget > 0:
            fragment, compared = _word_diff(_WORD.findall(removed), _WORD.findall(added))
            budget -= compared
            out.append(fragment)
        else:
            out.append(_marked("del", removed) + _marked("ins", added))
    return "".join(out)


_WORD = re.compile(r"\S+|\s+")


def _opcodes(a: list[str], b: list[str]) -> tuple[list[tuple[str, int, int, int, int]], int]:
    """``difflib``'s opcodes from ``a`` to ``b``, its work bounded (see the module docstring), and
    how many items it compared."""
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    ea, eb = len(a) - tail, len(b) - tail
    middle: list[tuple[str, int, int, int, int]] = []
    compared = 0
    if ea - head > DIFF_MAX or eb - head > DIFF_MAX:
        middle = [("replace", head, ea, head, eb)]
    elif ea > head or eb > head:
        compared = ea + eb - 2 * head
        matcher = difflib.SequenceMatcher(None, a[head:ea], b[head:eb], autojunk=False)
        middle = [(op, i1 + head, i2 + head, j1 + head, j2 + head) for op, i1, i2, j1, j2 in matcher.get_opcodes()]
    ops = [("equal", 0, head, 0, head)] if head else []
    ops += middle
    if tail:
        ops.append(("equal", ea, len(a), eb, len(b)))
    return ops, compared


def _marked(tag: str, text: str) -> str:
    return f"<{tag}>{html.escape(text)}</{tag}>" if text else ""


def _word_diff(a: list[str], b: list[str]) -> tuple[str, int]:
    # (same?, old text, new text) runs; a run of bare whitespace between two changes joins them,
    # so "a b c" -> "x y z" reads as one replacement, not three interleaved ones.
    runs: list[list] = []
    ops, compared = _opcodes(a, b)
    for op, i1, i2, j1, j2 in ops:
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
    return "".join(out), compared


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
