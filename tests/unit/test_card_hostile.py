"""Hostile card Markdown (issue 14): every reader, checker and renderer of ``mltrl.domain.cards``
gives a result or an ``InvalidInput`` naming the field and the limit, never another exception,
and never stalls.

No test here times anything. Inputs that took the old code hours (a cubic heading pattern at
100 KB, python-markdown rescanning 50,000 brackets) run under a watchdog (``signal.alarm``) that
turns a stall into a failure instead of a hung suite; the limits checked before reading are
tested as such (the reader is never called).
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, replace

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrl.domain import cards
from mltrl.domain.cards import Card, CardHeader, layout, text
from mltrl.domain.errors import InvalidInput

HEADER = CardHeader("R02.1", "Mixed-variable BO", 4, (1, 2, 3))
KB100 = 100_000
WATCHDOG_S = 120  # generous: each case finishes in well under a second; the old code took hours


class Stalled(Exception):
    pass


@contextmanager
def watchdog(seconds: int = WATCHDOG_S) -> Iterator[None]:
    def stalled(signum, frame):
        raise Stalled(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def result_or_refusal(fn, *args):
    """``fn(*args)``'s result, or the ``InvalidInput`` it raised (any other exception fails)."""
    with watchdog():
        try:
            return fn(*args)
        except InvalidInput as refusal:
            assert refusal.field and refusal.message
            return refusal


# --- the inputs the benchmark and the issue name, at 100 KB -----------------------------------

HOSTILE_100KB = {
    "heading: '# a', spaces, 'b'": "# a" + " " * (KB100 - 4) + "b",
    "heading ending in a backslash": "# " + " " * (KB100 - 3) + "\\",
    "TL;DR-like line": " " * (KB100 - 1) + "x",
    "bold TL;DR-like line": "**" + " " * (KB100 - 3) + "x",
    "table separator": "| a | b |\n|--" + " " * (KB100 - 14) + "x",
    "nested brackets": "[" * (KB100 // 2) + "x" + "]" * (KB100 // 2),
    "open brackets": "[x" * (KB100 // 2),
    "links never closed": "[a](" * (KB100 // 4),
    "list nested deep": "- " * (KB100 // 2) + "x",
    "quote nested deep": "> " * (KB100 // 2) + "x",
    "fence lines never closed": "```a\n" * (KB100 // 5),
    "fence with spaces": "```" + " " * (KB100 - 4) + "!",
    "fences with open hl_lines": '```a hl_lines="\n' * (KB100 // 16),
    "open tags": "<a" * (KB100 // 2),
    "open autolinks": "<a:" * (KB100 // 3),
    "HTML comments never closed": "<!--" * (KB100 // 4),
    "backtick runs never closed": "".join("`" * k + "a" for k in range(1, 440)),
    "numbered line of spaces": "### MLTRL stage debrief\n\n1." + " " * (KB100 - 40),
    "hashes": "#" * KB100,
    "control characters": "\x00\x01\x0b" * (KB100 // 3),
    "carriage returns": "\r" * KB100,
    "non-breaking spaces in a heading": "# a" + "\u00a0" * (KB100 // 2) + "b",
    "indented list 220 deep": "\n".join("    " * k + "- x" for k in range(220)),
}


@pytest.mark.parametrize("name", list(HOSTILE_100KB))
def test_hostile_card_files_are_read_or_refused_by_name(name: str) -> None:
    out = result_or_refusal(cards.parse_markdown, HOSTILE_100KB[name])
    assert isinstance(out, (cards.ParsedCard, InvalidInput))


@pytest.mark.parametrize("name", list(HOSTILE_100KB))
def test_hostile_sections_are_stored_or_refused_by_name(name: str) -> None:
    out = result_or_refusal(cards.validate, Card(model=HOSTILE_100KB[name]))
    if isinstance(out, InvalidInput):
        assert out.field == "Model / algorithm info"
    else:
        assert isinstance(out, Card)


@pytest.mark.parametrize("name", list(HOSTILE_100KB))
def test_hostile_stored_text_renders(name: str) -> None:
    """What the old rules let into the database renders, whatever it holds (no validation here)."""
    with watchdog():
        fragment = cards.render_html(HOSTILE_100KB[name])
        page = cards.to_html(Card(model=HOSTILE_100KB[name], tldr="t"), HEADER)
    assert isinstance(fragment, str) and page.startswith("<!DOCTYPE html>")
    assert "<script" not in page


# --- defect 2: the patterns, each on its own worst line ---------------------------------------


@pytest.mark.parametrize(("fn", "line", "expected"), [
    (text.heading, "# a" + " " * KB100 + "b", (1, "a" + " " * KB100 + "b")),
    (text.heading, "# " + " " * KB100 + "\\", (1, "\\")),
    (text.tldr_prefix, " " * KB100 + "x", None),
    (text.tldr_prefix, "**" + " " * KB100 + "x", None),
    (text.is_table_separator, "|--" + " " * KB100 + "x", False),
    (text.numbered, "1." + " " * KB100, None),
    (text.strip_html_comments, "<!--" * KB100, "<!--" * KB100),
])
def test_the_line_readers_finish_on_their_worst_lines(fn, line, expected) -> None:
    with watchdog():
        assert fn(line) == expected


def test_the_line_readers_read_what_the_old_patterns_read() -> None:
    assert text.heading("### Intended use ###") == (3, "Intended use")
    assert text.heading("## Bindings for C#") == (2, "Bindings for C#")
    assert text.heading("# foo # ###") == (1, "foo #")
    assert text.heading("#R02.1 feeds this") is None and text.heading("####### seven") is None
    assert text.heading("# ##") == (1, "")
    assert text.tldr_prefix("**TL;DR:** — Fast.") == len("**TL;DR:** — ")
    assert text.tldr_prefix("tl dr - x") == len("tl dr - ")
    assert text.tldr_prefix("TLDR") == 4 and text.tldr_prefix("Too long") is None
    assert text.is_table_separator("| :--- | ---: |") and text.is_table_separator("--|--")
    assert not text.is_table_separator("|--||") and not text.is_table_separator("| - |")
    assert text.numbered("2) What was punted? ") == ("2", "What was punted?")
    assert text.numbered("². x") is None
    assert text.strip_html_comments("a<!-- b -->c<!-- d") == "ac<!-- d"


# --- sizes are checked before the file is read ------------------------------------------------


def test_a_file_over_the_limit_is_refused_before_it_is_split(monkeypatch) -> None:
    def never(*args):
        raise AssertionError("the file was read")

    monkeypatch.setattr(layout, "_split_sections", never)
    with pytest.raises(InvalidInput) as refusal:
        cards.parse_markdown("x" * (cards.CARD_MAX_BYTES + 1))
    assert refusal.value.field == "file" and "at most 2 MB" in refusal.value.message


def test_a_line_longer_than_a_section_is_refused_naming_its_section_before_the_table_is_read(monkeypatch) -> None:
    def never(*args):
        raise AssertionError("the card was read")

    monkeypatch.setattr(layout, "_find_table", never)
    line = "x" * (cards.SECTION_MAX_BYTES + 1)
    with pytest.raises(InvalidInput) as refusal:
        cards.parse_markdown(f"# T\n\n### Intended use\n\n{line}\n")
    assert refusal.value.field == "Intended use" and "100 KB" in refusal.value.message
    with pytest.raises(InvalidInput) as refusal:
        cards.parse_markdown(f"# T\n\n### Deployment notes\n\n{line}\n")
    assert refusal.value.field == "Section 'Deployment notes'"
    with pytest.raises(InvalidInput) as refusal:
        cards.parse_markdown(line)
    assert refusal.value.field == "file" and "line 1" in refusal.value.message


def test_a_section_of_exactly_the_limit_is_read() -> None:
    body = "x" * cards.SECTION_MAX_BYTES
    parsed = cards.parse_markdown(f"### Intended use\n\n{body}\n")
    assert parsed.card.intended_use == body
    with pytest.raises(InvalidInput, match="Intended use: at most 100 KB"):
        cards.parse_markdown(f"### Intended use\n\n{body}\n\n{body}\n")


# --- defect 3: nested brackets ----------------------------------------------------------------


def test_brackets_nested_deeper_than_the_bound_are_refused_naming_the_section() -> None:
    depth = cards.MAX_BRACKET_DEPTH
    ok = "[" * depth + "x" + "]" * depth
    assert cards.validate(Card(testing=ok)).testing == ok
    with pytest.raises(InvalidInput) as refusal:
        cards.validate(Card(testing="[" * (depth + 1) + "x" + "]" * (depth + 1)))
    assert refusal.value.field == "Testing status" and f"at most {depth} deep" in refusal.value.message
    with pytest.raises(InvalidInput, match="Section 'Notes'"):
        cards.validate(Card(extra_sections=(("Notes", "see " + "[a " * 9 + "]" * 9),)))
    # Brackets left open (half-open intervals, say) are no nesting: the renderer copes with any number.
    intervals = "p in [0, 1), " * 40
    assert cards.validate(Card(testing=intervals)).testing == intervals.strip()
    assert cards.render_html(intervals).count("[0, 1)") == 40
    # Brackets in code are not links: any number may nest there.
    assert cards.validate(Card(testing="```\n" + "[" * 50 + "\n```\n`[[[[[[[[[[[[`"))


def test_stored_nested_brackets_render_as_written_without_stalling() -> None:
    n = 30_000  # 60 KB, within the old section limit: minutes for python-markdown
    with watchdog():
        out = cards.render_html("[" * n + "x" + "]" * n)
    assert out.count("[") == n and out.count("]") == n and "x" in out


def test_links_and_escapes_still_render_when_brackets_are_hidden() -> None:
    out = cards.render_html("[a](https://e.org) " + "[" * 20 + " `[` \\[ (x) <b>b</b>")
    assert '<a href="https://e.org" rel="noopener noreferrer nofollow">a</a>' in out
    assert "[" * 20 in out and "<code>[</code>" in out and "<b>b</b>" in out
    assert "\ue000" not in out


def test_private_use_characters_of_the_text_do_not_become_markup() -> None:
    out = cards.render_html("\ue006script\ue001 " + "<a" * 40)
    assert "<script" not in out and "\ue006" not in out


# --- defect 4: deep nesting -------------------------------------------------------------------


@pytest.mark.parametrize("nested", [
    "- " * 300 + "x",
    "1. " * 300 + "x",
    "> " * 300 + "x",
    "\n".join("    " * k + "- x" for k in range(200)),
])
def test_nesting_deeper_than_the_bound_is_refused_naming_the_section_and_the_limit(nested: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        cards.validate(Card(caveats=nested))
    assert refusal.value.field == "Caveats, known edge cases, recommendations"
    assert f"at most {cards.MAX_NESTING} deep" in refusal.value.message


def test_nesting_up_to_the_bound_is_stored_and_code_is_not_counted() -> None:
    depth = cards.MAX_NESTING
    assert cards.validate(Card(caveats="- " * depth + "x")).caveats == "- " * depth + "x"
    assert cards.validate(Card(caveats="```\n" + " " * 400 + "deep code\n```"))


@pytest.mark.parametrize("nested", ["- " * 1000 + "x", "- " * 300 + "x", "\n".join("    " * k + "- x" for k in range(300))])
def test_stored_deep_lists_render_as_preformatted_text(nested: str) -> None:
    card = Card(model=nested)  # as the old rules stored it: not validated
    page = cards.to_html(card, HEADER)
    assert "<pre>" in page and "Shown as written" in page
    assert cards.card_body_html(card, HEADER).count("<pre>") == 1


def test_the_renderer_falls_back_to_text_when_python_markdown_recurses_too_deep(monkeypatch) -> None:
    def recurse(self, source):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(markdown.Markdown, "convert", recurse)
    out = cards.render_html("<b>x</b> - y")
    assert out.endswith("<pre>&lt;b&gt;x&lt;/b&gt; - y</pre>")


# --- defect 5: the level cell -----------------------------------------------------------------


def _card_with_level(cell: str) -> str:
    return f"| Tech name (project ID) | Model (R02.1) |\n| --- | --- |\n| Current Level | {cell} |\n"


@pytest.mark.parametrize(("cell", "level"), [
    ("4", 4), ("0", 0), ("9", 9), ("Level 4", 4), ("**4**", 4), ("TRL-4", 4), ("MLTRL level: 7", 7),
    ("4 (prior level cards: 1, 2, 3)", 4), ("8 (*link to prior level cards*)", 8), ("5[^2]", 5),
    ("4 — proof of concept", 4), ("", None), ("—", None), ("-", None), ("(*link to prior level cards*)", None),
])
def test_a_level_cell_states_a_whole_level(cell: str, level: int | None) -> None:
    assert cards.parse_markdown(_card_with_level(cell)).level == level


@pytest.mark.parametrize("cell", ["-1", "4.5", "99", "10", "IX", "four", "level -1", "٤", "4,5"])
def test_a_level_cell_that_is_no_level_is_refused_naming_the_row(cell: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        cards.parse_markdown(_card_with_level(cell))
    assert refusal.value.field == "Current Level"
    assert "whole number from 0 to 9" in refusal.value.message


@given(st.text(max_size=12))
def test_a_level_is_read_only_from_a_digit_0_to_9(cell: str) -> None:
    try:
        level = cards.parse_level(cell)
    except InvalidInput as refusal:
        assert refusal.field == "Current Level"
        return
    assert level is None or (0 <= level <= 9 and str(level) in cell)


# --- defect 6: round trips --------------------------------------------------------------------


def test_an_unclosed_fence_keeps_every_later_section() -> None:
    card = cards.validate(Card(model="```python\nfit(x)", intended_use="Tuning.", caveats="None known.",
                               accomplished="Benchmarks.", extra_sections=(("Changelog", "v2"),)))
    assert card.model == "```python\nfit(x)\n```"
    assert cards.parse_markdown(cards.to_markdown(card, HEADER)).card == card


def test_headings_ending_in_a_hash_come_back_whole() -> None:
    card = cards.validate(Card(title="Bindings for C#", extra_sections=(
        ("Bindings for C#", "x"), ("Issue #", "y"), ("#", "z"), ("F# ##", "w"))))
    parsed = cards.parse_markdown(cards.to_markdown(card, HEADER))
    assert parsed.card == card
    assert parsed.card.extra_sections[0] == ("Bindings for C#", "x")


FENCE_OR_HEADING = st.sampled_from(["```", "````", "~~~", "```python", "# C#", "## x #", "#", "text", "",
                                    "    ```", "- item", "1. What was learned?", "| a | b |", "**TL;DR** x"])
section_text = st.lists(FENCE_OR_HEADING, max_size=6).map("\n".join)
# Notes sit above the sections, where a heading starts a section: they hold no headings.
notes_text = st.lists(st.sampled_from(["```", "~~~", "````", "```python", "text", "", "[^1]: a note"]),
                      max_size=5).map("\n".join)
extra_heading = st.sampled_from(["Bindings for C#", "Changelog #", "Glossary", "C# ## notes", "#1 priority", "F#"])


@settings(max_examples=200)
@given(model=section_text, testing=section_text, learned=section_text, notes=notes_text,
       extra=st.lists(st.tuples(extra_heading, section_text), max_size=3, unique_by=lambda p: p[0]))
def test_cards_with_fences_and_hash_headings_round_trip(model, testing, learned, notes, extra) -> None:
    try:
        card = cards.validate(Card(model=model, testing=testing, learned=learned, notes=notes,
                                   caveats="After them.", extra_sections=tuple(extra)))
    except InvalidInput:
        return
    parsed = cards.parse_markdown(cards.to_markdown(card, HEADER))
    assert parsed.card == card
    assert cards.validate(parsed.card) == card


# --- random and hostile Markdown: a result or a named refusal ----------------------------------

PIECES = st.sampled_from([
    "#", "# ", "### ", " ", "  ", "\t", "|", "| ", "-", "--", "- ", "* ", "1. ", "> ", "[", "]", "](", "(", ")",
    "`", "```", "~~~", "\n", "\n\n", "\r", "\r\n", "\x00", "\x0b", "\x1f", "\x7f", "TL;DR", "**", "__", "<", ">",
    "<!--", "-->", "<a", "&#", "@ana", "#R02.1", "![", "[^1]", ":", "x", "é", "\ufeff", "\u2028", "\ue000",
    "| Current Level |", "| Tech name (project ID) | A (R1) |", "| --- | --- |", "### MLTRL stage debrief",
])
hostile_markdown = st.lists(st.tuples(PIECES, st.integers(1, 400)), max_size=25).map(
    lambda parts: "".join(piece * count for piece, count in parts))


@settings(max_examples=250)
@given(hostile_markdown)
def test_parse_markdown_reads_or_refuses_by_name(source: str) -> None:
    out = result_or_refusal(cards.parse_markdown, source)
    if isinstance(out, cards.ParsedCard):
        assert isinstance(out.card, Card)
        result_or_refusal(cards.validate, out.card)


@settings(max_examples=150)
@given(hostile_markdown, st.sampled_from([f.name for f in fields(Card) if f.type == "str"]))
def test_validate_stores_or_refuses_any_text_by_name(source: str, field_name: str) -> None:
    out = result_or_refusal(cards.validate, replace(Card(), **{field_name: source}))
    if isinstance(out, InvalidInput):
        assert out.field == cards.FIELD_LABELS[field_name]


@settings(max_examples=150)
@given(hostile_markdown)
def test_render_html_and_to_html_never_raise(source: str) -> None:
    with watchdog():
        fragment = cards.render_html(source, cards.Links(codes=frozenset({"R02.1"})))
        page = cards.to_html(Card(model=source, tldr=source[:200], extra_rows=(("Note", source[:100]),)), HEADER)
        diff = cards.diff_html(Card(), Card(model=source))
    assert isinstance(fragment, str) and "<script" not in page and isinstance(diff, str)
    assert not any("\ue000" <= ch <= "\ue006" for ch in fragment)


@settings(max_examples=100)
@given(st.text(max_size=300))
def test_random_text_is_read_or_refused_and_renders(source: str) -> None:
    out = result_or_refusal(cards.parse_markdown, source)
    assert isinstance(out, (cards.ParsedCard, InvalidInput))
    assert isinstance(cards.render_html(source), str)


@pytest.mark.parametrize("value", [42, ["a"], None, b"bytes"])
def test_what_is_not_text_is_refused_by_name(value) -> None:
    with pytest.raises(InvalidInput) as refusal:
        cards.validate(Card(model=value)) if value is not None else cards.validate(Card(owners="Ana"))
    assert refusal.value.field in ("Model / algorithm info", "Owner(s)")
    with pytest.raises(InvalidInput, match="file"):
        cards.parse_markdown(42)  # type: ignore[arg-type]


def test_control_characters_and_lone_surrogates_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="TL;DR: must not contain control characters"):
        cards.validate(Card(tldr="a\x00b"))
    with pytest.raises(InvalidInput, match="Intended use: must be valid Unicode"):
        cards.validate(Card(intended_use="a\ud800b"))
    with pytest.raises(InvalidInput, match="Other sections"):
        cards.validate(Card(extra_sections=(("Notes", "x", "y"),)))  # type: ignore[arg-type]


# --- the diff of two hostile sections -----------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), [
    ("a\nb\n" * 25_000, "b\na\n" * 25_000),  # hours for difflib without bounds
    ("\n".join("w " * 250 + "\nsame" for _ in range(200)), "\n".join("v " * 250 + "\nsame" for _ in range(200))),
    ("x " * 50_000, "y " * 50_000),
])
def test_the_diff_of_hostile_sections_is_bounded_and_complete(old: str, new: str) -> None:
    with watchdog():
        out = cards.diff_html(Card(model=old), Card(model=new))
    removed = "".join(re.findall(r"<del>(.*?)</del>", out, re.S))
    added = "".join(re.findall(r"<ins>(.*?)</ins>", out, re.S))
    assert removed and added and "Model / algorithm info" in out
    assert len(removed) <= len(old) and len(added) <= len(new)


def test_small_edits_in_long_sections_are_still_shown_word_by_word() -> None:
    old = "\n".join(f"Line {k} of the method." for k in range(1000))
    new = old.replace("Line 500 of the method.", "Line 500 of the new method.")
    out = cards.word_diff_html(old, new)
    assert "<ins>new </ins>" in out and out.count("<del>") == 0


def test_a_heading_in_the_notes_above_the_sections_is_refused() -> None:
    """Read back, it would start a section: the card would not come back as saved."""
    with pytest.raises(InvalidInput) as refusal:
        cards.validate(Card(notes="[^1]: a note\n\n# Budget"))
    assert refusal.value.field == "Notes under the summary" and "no headings" in refusal.value.message
    card = cards.validate(Card(notes="```\n# a comment in code\n```"))
    assert cards.parse_markdown(cards.to_markdown(card, HEADER)).card == card
