"""TRL card rules (mltrl.domain.cards): the Markdown layout both ways, safe rendering, cross-links,
validation, diffs and staleness. Pure: no database, no streamlit."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrl.domain import cards
from mltrl.domain.cards import Card, CardHeader, Links
from mltrl.domain.errors import InvalidInput

HEADER = CardHeader("R02.1", "Mixed-variable BO", 4, (1, 2, 3))

# --- strategies: cards an editor can produce -----------------------------------------------

WORDS = st.sampled_from(
    ["the", "model", "shall", "rank", "items", "by", "expected", "value", "with", "calibrated", "uncertainty", "on", "held-out", "data", "from", "2024", "sensors", "v2.3", "recall", "0.91", "and", "latency", "p95", "below", "800", "ms", "é", "ü"]
)
sentence = st.lists(WORDS, min_size=1, max_size=12).map(lambda ws: " ".join(ws).capitalize() + ".")
name = st.from_regex(r"[A-Z][a-z]{1,8}( [A-Z][a-z]{1,10}){0,2}", fullmatch=True)
code = st.from_regex(r"[RP][0-9]{2}\.[1-9]", fullmatch=True)
link = st.sampled_from([
    "", "https://wiki.example.org/mltrl/r02", "http://intranet/x?y=1&z=2",
    "[team wiki](https://wiki.example.org/p)", "(*link to e.g. team's internal wiki page*)",
    "see [doc](https://e.org/d) and <https://e.org/a>",
])
block = st.one_of(
    sentence,
    st.lists(sentence, min_size=1, max_size=3).map(lambda xs: " ".join(xs)),
    st.lists(sentence, min_size=1, max_size=4).map(lambda xs: "\n".join(f"- {x}" for x in xs)),
    st.lists(sentence, min_size=1, max_size=4).map(lambda xs: "\n".join(f"{i}. {x}" for i, x in enumerate(xs, 1))),
    sentence.map(lambda x: f"**Extra notes**: {x}"),
    sentence.map(lambda x: f"#### Details\n\n{x}"),
    st.just("```python\nfit(x)  # not a heading:\n### inside a fence\n```"),
    code.map(lambda c: f"Depends on #{c}; ask @ana.ruiz."),
    st.just("| metric | value |\n| --- | --- |\n| recall | 0.91 |"),
    st.just("![flowchart](https://e.org/f.png \"Flow\")"),
)
markdown_text = st.one_of(st.just(""), st.lists(block, min_size=1, max_size=4).map("\n\n".join))
extra_row = st.tuples(st.sampled_from(["Budget", "Sponsor", "Data steward", "Model version"]), sentence)
extra_section = st.tuples(st.sampled_from(["Deployment notes", "Changelog", "Open questions", "Glossary"]), markdown_text)


@st.composite
def any_card(draw) -> Card:
    return cards.validate(Card(
        title=draw(st.one_of(st.just(""), sentence)),
        owners=tuple(draw(st.lists(name, max_size=3))),
        reviewers=tuple(draw(st.lists(name, max_size=3))),
        project_url=draw(link), requirements_url=draw(link), code_url=draw(link),
        ethics_status=draw(st.sampled_from(["", "Yes", "WIP", "Not started"])),
        ethics_url=draw(link),
        coupled=tuple(draw(st.lists(code, max_size=3))),
        extra_rows=tuple(dict(draw(st.lists(extra_row, max_size=2))).items()),
        id_note=draw(st.sampled_from(["", "[^1]", "(v2 draft)"])),
        notes=draw(st.sampled_from(["", "[^1]: The ID scheme: R research, 02 index, 1 version."])),
        tldr=draw(st.one_of(st.just(""), sentence)),
        requirements=draw(markdown_text), model=draw(markdown_text), intended_use=draw(markdown_text),
        testing=draw(markdown_text), data=draw(markdown_text), caveats=draw(markdown_text),
        accomplished=draw(markdown_text), punted=draw(markdown_text), learned=draw(markdown_text),
        tech_debt=draw(markdown_text),
        debrief_notes=draw(st.sampled_from(["", "<!-- answer each question -->", "Agreed at the level review."])),
        extra_sections=tuple(dict(draw(st.lists(extra_section, max_size=2))).items()),
    ))


@st.composite
def any_header(draw) -> CardHeader:
    tech = draw(st.one_of(name, name.map(lambda n: f"{n} (deep model)")))
    return CardHeader(draw(code), tech, draw(st.one_of(st.none(), st.integers(0, 9))))


# --- round trip ----------------------------------------------------------------------------


@settings(max_examples=150)
@given(card=any_card(), header=any_header())
def test_import_of_an_export_is_the_same_card(card: Card, header: CardHeader) -> None:
    parsed = cards.parse_markdown(cards.to_markdown(card, header))
    assert parsed.card == card
    assert (parsed.code, parsed.name, parsed.level) == (header.code, header.name, header.level)


@settings(max_examples=60)
@given(card=any_card())
def test_export_is_stable_after_one_round_trip(card: Card) -> None:
    once = cards.to_markdown(card, HEADER)
    assert cards.to_markdown(cards.parse_markdown(once).card, HEADER) == once


def test_export_follows_the_template_layout() -> None:
    card = cards.validate(Card(
        owners=("Ana Ruiz",), reviewers=("Tom Berg", "Li Wei"), project_url="https://wiki.example.org/r02",
        ethics_status="WIP", ethics_url="https://wiki.example.org/ethics/r02", coupled=("P12.2",),
        tldr="A mixed-variable optimiser.", requirements="1. It shall optimise.\n2. It shall be fast.",
        accomplished="Benchmarks by Ana.",
    ))
    text = cards.to_markdown(card, HEADER)
    lines = text.splitlines()
    assert lines[0] == "# Mixed-variable BO (R02.1) — TRL card, level 4"
    assert "| Tech name (project ID) | Mixed-variable BO (R02.1) |" in lines
    assert "| Current Level | 4 (prior level cards: 1, 2, 3) |" in lines
    assert "| Reviewer(s) | Tom Berg, Li Wei |" in lines
    assert "| Ethics checks? | WIP: https://wiki.example.org/ethics/r02 |" in lines
    assert "**TL;DR** — A mixed-variable optimiser." in lines
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == [f"### {h}" for _, h, _ in cards.SECTIONS] + ["### MLTRL stage debrief"]
    assert "1. What was accomplished, and by whom?" in lines
    assert lines[lines.index("1. What was accomplished, and by whom?") + 2] == "    Benchmarks by Ana."


# --- reading cards people wrote ------------------------------------------------------------

HAND_WRITTEN = """\
# Card for the solar optimiser - level 8

| Summary info | Content, links |
| --- | --- |
| Tech name (project ID) | Solar array optimiser (P13.2)[^1] |
| Current Level | 8 (*link to prior level cards*) |
| Owner(s) | Ana Ruiz |
| Reviewer(s) | Tom Berg; Li Wei |
| Main project page | (*link to the team wiki*) |
| Ethics checks? | Yes: *see the [checklist](../ethics.md)* |
| Coupled components | R02.1, P12.2 |
| Sponsor | Plant operations |

[^1]: P for product, 13 the index, 2 the version.

**TL;DR:** Closed-loop optimisation
of panel angles.

## Intended use

Panel positioning only.

**Extra notes**: never for grid dispatch.

#### Top-level requirements

1. It shall run within 5% of the control loop.

## Model / algorithm info

![flow](flow.png "Flow")

## Deployment notes

Shadow mode first.

#### Rollout

Two plants.

### MLTRL stage debrief

1. What was accomplished, and by who?
Shadow tests passed.
2. What did we learn?

    Calibration drifts.

5. Anything else?

    No.
"""


def test_hand_written_card_lands_in_the_right_fields() -> None:
    parsed = cards.parse_markdown(HAND_WRITTEN)
    card = parsed.card
    assert (parsed.code, parsed.name, parsed.level) == ("P13.2", "Solar array optimiser", 8)
    assert card.title == "Card for the solar optimiser - level 8"
    assert card.id_note == "[^1]"
    assert card.owners == ("Ana Ruiz",)
    assert card.reviewers == ("Tom Berg", "Li Wei")
    assert card.project_url == "(*link to the team wiki*)"
    assert (card.ethics_status, card.ethics_url) == ("Yes", "*see the [checklist](../ethics.md)*")
    assert card.coupled == ("R02.1", "P12.2")
    assert card.extra_rows == (("Sponsor", "Plant operations"),)
    assert card.notes == "[^1]: P for product, 13 the index, 2 the version."
    assert card.tldr == "Closed-loop optimisation of panel angles."
    assert card.intended_use == "Panel positioning only.\n\n**Extra notes**: never for grid dispatch."
    assert card.requirements == "1. It shall run within 5% of the control loop."
    assert card.model == '![flow](flow.png "Flow")'
    assert card.extra_sections == (("Deployment notes", "Shadow mode first.\n\n#### Rollout\n\nTwo plants."),)
    assert card.accomplished == "Shadow tests passed."
    assert card.learned == "Calibration drifts."
    assert card.debrief_notes == "5. Anything else?\n\n    No."
    assert card.testing == card.data == card.caveats == ""


def test_a_card_without_a_project_id_says_so() -> None:
    parsed = cards.parse_markdown("# A card\n\n**TL;DR** — something.\n")
    assert parsed.code is None
    assert parsed.card.tldr == "something."
    assert any("project ID" in w for w in parsed.warnings)


def test_the_generated_title_is_not_stored() -> None:
    text = cards.to_markdown(Card(tldr="x"), HEADER)
    assert cards.parse_markdown(text).card.title == ""


def test_names_with_parentheses_keep_the_code_apart() -> None:
    parsed = cards.parse_markdown("| Tech name (project ID) | Forecaster (beta) (P14.2) (draft) |\n| --- | --- |\n")
    assert (parsed.name, parsed.code, parsed.card.id_note) == ("Forecaster (beta)", "P14.2", "(draft)")


def test_pipes_inside_cells_survive() -> None:
    card = cards.validate(Card(extra_rows=(("Metric", "recall | precision"),)))
    assert cards.parse_markdown(cards.to_markdown(card, HEADER)).card.extra_rows == (("Metric", "recall | precision"),)


# --- safe rendering and cross-links --------------------------------------------------------

HOSTILE = """<script>alert('x')</script>
<img src=x onerror="alert(1)">
<iframe src="https://evil.example"></iframe>
[click](javascript:alert(1)) [CLICK](JaVaScRiPt:alert(2)) [data](data:text/html;base64,PHNjcmlwdD4=)
<a href="#" onclick="steal()">raw</a> <div style="position:fixed">overlay</div>
"""


@pytest.mark.parametrize("render", [
    lambda t: cards.render_html(t),
    lambda t: cards.card_body_html(Card(model=t, tldr=t, notes=t), HEADER),
    lambda t: cards.to_html(Card(testing=t), HEADER),
    lambda t: cards.brief_html(Card(tldr=t, requirements=f"1. {t}"), HEADER, cards.BriefFacts(
        "Level 4", "development", "active", cards.Staleness("fresh", "saved today"), "revision 1")),
])
def test_hostile_markdown_renders_inert(render) -> None:
    out = render(HOSTILE).lower()
    assert "<script" not in out and "alert('x')" not in out
    assert "<iframe" not in out
    assert not re.search(r"\son\w+\s*=", out), out
    assert "javascript:" not in out and "data:text" not in out
    assert "style=" not in out or "<style>" in out  # the export's own stylesheet only


def test_cross_links_to_known_codes_and_people() -> None:
    out = cards.render_html("See #R02.1, #R99.9 and #general; ask @ana.ruiz; mail a@b.org; `#R02.1`",
                            Links(codes=frozenset({"R02.1"})))
    assert '<a class="xref" href="project?code=R02.1"' in out
    assert '<span class="xref-unknown" title="No technology has this code">#R99.9 (unknown code)</span>' in out
    assert "#general" in out and "code=general" not in out
    assert '<a class="person" href="cards?person=ana.ruiz"' in out
    assert "person=b.org" not in out  # an e-mail address is not a mention
    assert "<code>#R02.1</code>" in out  # code spans stay as written


def test_relative_images_become_their_alt_text() -> None:
    out = cards.render_html("![flow](flow.png) ![chart](https://e.org/c.png)")
    assert '<span class="img-alt">[image: flow]</span>' in out and "<img alt=\"flow\"" not in out
    assert 'src="https://e.org/c.png"' in out


def test_a_line_starting_with_a_code_is_a_cross_link_not_a_heading() -> None:
    out = cards.render_html("#R02.1 feeds this.\n\n# Heading", Links(codes=frozenset({"R02.1"})))
    assert out.startswith('<p><a class="xref"') and "<h1>Heading</h1>" in out


def test_exports_without_a_base_url_mark_references_without_linking() -> None:
    out = cards.render_html("#R02.1 and @ana", Links(codes=frozenset({"R02.1"}), project_href=None, person_href=None))
    assert '<span class="xref" title="A technology in this portfolio">#R02.1</span>' in out
    assert '<span class="person">@ana</span>' in out and "href" not in out


def test_coupled_components_link_known_codes_in_the_app_and_mark_them_in_exports() -> None:
    card = Card(coupled=("R02.1", "P99.1", "Vendor SDK"))
    in_app = cards.card_body_html(card, HEADER, Links(codes=frozenset({"R02.1"})))
    assert '<a class="xref" href="project?code=R02.1"' in in_app and "P99.1, Vendor SDK" in in_app
    exported = cards.to_html(card, HEADER, Links(codes=frozenset({"R02.1"}), project_href=None, person_href=None))
    assert '<span class="xref">R02.1</span>, P99.1, Vendor SDK' in exported


def test_links_open_in_a_new_tab_when_asked() -> None:
    assert 'target="_blank"' in cards.render_html("[a](https://e.org)", new_tab=True)
    assert "target" not in cards.render_html("[a](https://e.org)")


def test_html_export_is_one_self_contained_page() -> None:
    page = cards.to_html(Card(tldr="Short.", model="**Bold** text"), HEADER, meta="Revision 3")
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page and "@media print" in page
    assert "<link" not in page and "<script" not in page  # nothing fetched, nothing run
    assert "<strong>Bold</strong>" in page and "Revision 3" in page


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"project_url": "javascript:alert(1)"}, "Main project page", "http"),
    ({"code_url": "ftp://files.example.org/x"}, "Code repo & docs", "http"),
    ({"ethics_url": "[list](javascript:alert(1))"}, "Ethics checks: checklist link", "http"),
    ({"model": "x" * (100 * 1024 + 1)}, "Model / algorithm info", "100 KB"),
    ({"accomplished": "é" * (60 * 1024)}, "Debrief: What was accomplished, and by whom?", "100 KB"),
    ({"owners": ("Ana, Tom",)}, "Owner(s)", "commas"),
    ({"tldr": "x" * 2001}, "TL;DR", "2000"),
    ({"ethics_status": "done: yes"}, "Ethics checks: status", "':'"),
    ({"extra_rows": (("Owner(s)", "x"),)}, "Other summary rows", "standard row"),
    ({"extra_sections": (("Intended use", "x"),)}, "Other sections", "standard section"),
    ({"title": "t" * 201}, "Title", "200"),
])
def test_bad_fields_are_refused_by_name(changes, field, words) -> None:
    with pytest.raises(InvalidInput) as refusal:
        cards.validate(replace(Card(), **changes))
    assert refusal.value.field == field
    assert words in refusal.value.message


def test_a_section_of_exactly_100_kb_is_accepted() -> None:
    assert len(cards.validate(Card(model="x" * 100 * 1024)).model) == 100 * 1024


def test_canonical_form_demotes_headings_inside_sections() -> None:
    card = cards.validate(Card(testing="## Results\n\n# Top\n\n```\n# comment\n```\n#R02.1 is related"))
    assert card.testing == "#### Results\n\n#### Top\n\n```\n# comment\n```\n#R02.1 is related"


# --- diffs and staleness -------------------------------------------------------------------


def test_section_changes_name_what_changed() -> None:
    old = Card(tldr="Fast.", model="A GP.", reviewers=("Tom",))
    new = Card(tldr="Fast and safe.", model="A GP.", reviewers=("Tom", "Li"), extra_sections=(("Changelog", "v2"),))
    assert [c.label for c in cards.section_changes(old, new)] == ["Reviewer(s)", "TL;DR", "Changelog"]
    html = cards.diff_html(old, new)
    assert "<del>Fast.</del><ins>Fast and safe.</ins>" in html or "<ins> and safe.</ins>" in html
    assert "identical" in cards.diff_html(old, old)


def test_word_diff_escapes_markup() -> None:
    assert "&lt;script&gt;" in cards.word_diff_html("", "<script>")


NOW = datetime(2026, 11, 23, tzinfo=UTC)


@given(saved_days_ago=st.floats(0, 400), level_days_ago=st.one_of(st.none(), st.floats(0, 400)),
       max_days=st.integers(1, 365))
def test_staleness_rule(saved_days_ago, level_days_ago, max_days) -> None:
    saved = NOW - timedelta(days=saved_days_ago)
    since = None if level_days_ago is None else NOW - timedelta(days=level_days_ago)
    result = cards.staleness(saved, since, NOW, max_days)
    expected_stale = (since is not None and saved < since) or saved_days_ago > max_days
    assert result.stale is expected_stale
    assert result.state == ("stale" if expected_stale else "fresh")


def test_staleness_explains_itself() -> None:
    assert cards.staleness(None, None, NOW).state == "none"
    assert "level changed on 2026-11-01" in cards.staleness(
        NOW - timedelta(days=30), datetime(2026, 11, 1, tzinfo=UTC), NOW).reason
    assert "100 days ago (more than 90)" in cards.staleness(NOW - timedelta(days=100), None, NOW).reason


def test_top_requirements_are_the_numbered_items() -> None:
    card = Card(requirements="*See the doc.*\n\n1. First.\n2. Second.\n   - detail\n\n**Extra notes**: x")
    assert cards.top_requirements(card) == ["First.", "Second."]
