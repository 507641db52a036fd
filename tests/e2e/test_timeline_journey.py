"""Browser journeys through the Timelines page: one technology's level over time and the review
that decided a move, a system's technologies under the system level, and the portfolio's
swimlanes sorted and filtered.

Everything expected is worked out from the demo files that ``mltrl demo load`` reads
(``data/demo_portfolio.json``, ``data/demo_reviews.json``), so the journeys follow the demo when it
changes, and they check that the demo still holds what they need:

* P13.1 (CAMS meteor identification) has switchbacks of two kinds (review and embedded), none
  decided at a gated review;
* R18.1 (factory telemetry anomaly detector) graduated 3 -> 4 at a demo review, the only level
  move the demo decides at a review;
* P05.1 (recycling sorter mobile app) is a system with four components.

The module's server is the demo alone (``conftest.app_server``); nothing here writes.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from mltrl.domain.levels import LEVELS
from tests.e2e.conftest import (
    ROOT,
    RUN_TIMEOUT_MS,
    ConsoleLog,
    open_app,
    shot,
    wait_for_app,
)
from tests.e2e.test_card_journey import choose_matching, open_tab, still_on_tab
from tests.e2e.test_review_journey import (
    grid_cell,
    grid_with_column,
    markdown,
    pick_options,
)

pytestmark = pytest.mark.e2e

SWITCHBACKS = "P13.1"  # two kinds of switchback
REVIEWED = "R18.1"     # a graduation decided at a review
SYSTEM = "P05.1"       # a system with components
PHASE = "research"     # the phase the swimlanes are filtered by

# What the charts' legends call each kind of level event, in the order they list them.
KIND_LABELS = {
    "start": "Start",
    "graduation": "Graduation",
    "discovery": "Switchback: discovery",
    "review": "Switchback: review",
    "embedded": "Switchback: embedded",
}
DECIDED_AT_REVIEW = "Decided at a gated review"
SYSTEM_LEVEL = "System level (minimum)"
PHASE_LABELS = ["Research", "Prototyping", "Productization", "Deployment"]


# --- the demo, as the journeys expect to see it -------------------------------------------------


def _load(name: str) -> dict:
    return json.loads((ROOT / "data" / name).read_text(encoding="utf-8"))


DEMO = {tech["code"]: tech for tech in _load("demo_portfolio.json")["technologies"]}
DEMO_REVIEWS = _load("demo_reviews.json")["reviews"]


def kind_of(step: dict) -> str:
    """An event's kind as the page names it: a switchback goes by its own kind."""
    return step["switchback_kind"] if step["kind"] == "switchback" else step["kind"]


def kinds(code: str) -> list[str]:
    return [kind_of(step) for step in DEMO[code]["history"]]


def switchback_kinds(code: str) -> list[str]:
    return [kind_of(step) for step in DEMO[code]["history"] if step["kind"] == "switchback"]


def history_level(code: str) -> int | None:
    """The level the technology's history in the portfolio file leaves it at."""
    history = DEMO[code]["history"]
    return history[-1]["to"] if history else None


def graduated_at_review(code: str) -> bool:
    return any(r["code"] == code and (r.get("decide") or {}).get("decision") == "graduate" for r in DEMO_REVIEWS)


def level_now(code: str) -> int | None:
    """Its level once the demo is loaded: its history, then a graduation decided at a demo review."""
    level = history_level(code)
    return None if level is None else level + int(graduated_at_review(code))


def phase_now(code: str) -> str | None:
    level = level_now(code)
    return None if level is None else LEVELS[level].phase.value


def legend_for(code: str, *, reviewed: bool = False) -> list[str]:
    """The technology chart's legend: its kinds of event in the chart's order, then the ring."""
    mine = set(kinds(code))
    return [label for kind, label in KIND_LABELS.items() if kind in mine] + ([DECIDED_AT_REVIEW] if reviewed else [])


def reviewed_moves() -> list[tuple[str, int, int]]:
    """(code, from, to) of every level move the demo decides at a review."""
    return [(code, history_level(code), history_level(code) + 1) for code in DEMO if graduated_at_review(code)]


def lane_order(codes: list[str]) -> list[str]:
    """The swimlanes sorted by switchbacks: most first, then highest level, then code."""
    return sorted(codes, key=lambda c: (-len(switchback_kinds(c)), -level_now(c), c))


# --- helpers ------------------------------------------------------------------------------------


def chart(page: Page) -> Locator:
    """The Plotly chart on the open tab (only the open tab's content is drawn)."""
    return page.get_by_test_id("stPlotlyChart").locator(".js-plotly-plot")


def expect_chart_drawn(page: Page) -> None:
    expect(chart(page)).to_have_count(1)
    expect(chart(page).locator("svg.main-svg").first).to_be_visible()
    # Plotly draws each trace's data in its own group of the plot area; markers and bars are points.
    expect(marks(page).first).to_be_attached()


def marks(page: Page) -> Locator:
    """The markers (and bars) drawn on the chart."""
    return chart(page).locator(".cartesianlayer .trace .point")


def legend(page: Page) -> Locator:
    """The texts of the chart's legend entries, in the order they are shown."""
    return chart(page).locator(".legend .legendtext")


def summary(page: Page) -> Locator:
    """The line over the history table counting the technology's moves."""
    return markdown(page, re.compile(r"^\d+ level events?:"))


def history_table(page: Page) -> Locator:
    return grid_with_column(page, "Review #")


def column_of(table: Locator, header: str) -> int:
    """The 0-based index of the grid's column headed ``header`` (once the grid has drawn it)."""
    expect(table.locator("th[role='columnheader']").filter(has_text=re.compile(rf"^{re.escape(header)}$"))
           ).to_have_count(1)
    headers = table.locator("th[role='columnheader']").all_inner_texts()
    assert header in headers, f"no column {header!r} in {headers}"
    return headers.index(header)


def row_of(table: Locator, column: int, text: str | re.Pattern[str]) -> int:
    """The 0-based index of the grid's only row whose cell in ``column`` reads ``text``."""
    cell = table.locator(f"td[role='gridcell'][aria-colindex='{column + 1}']").filter(
        has_text=re.compile(rf"^{re.escape(text)}$") if isinstance(text, str) else text)
    expect(cell).to_have_count(1)
    return int(re.fullmatch(r"glide-cell-\d+-(\d+)", cell.get_attribute("data-testid")).group(1))


def follow_link_in_row(page: Page, table: Locator, row: int) -> Page:
    """Click the link drawn in the grid's ``row`` (0-based, its only link), as a mouse user does,
    and return the tab it opens (Streamlit opens a LinkColumn's links in a new tab).

    The grid is a canvas: the pointer moves along the row, as a person's does, until it turns into
    a hand over the link's text, and clicks there. Rows are 35 px, under a 35 px header.
    """
    table.scroll_into_view_if_needed()
    canvas = table.locator("canvas").first
    box = canvas.bounding_box()
    assert box is not None, "the grid has no canvas"
    y = box["y"] + 35 * (row + 1) + 17
    over_link: list[float] = []
    for dx in range(2, int(box["width"]) - 2, 5):
        page.mouse.move(box["x"] + dx, y)
        if canvas.evaluate("c => getComputedStyle(c).cursor") == "pointer":
            over_link.append(dx)
        elif over_link:
            break
    assert over_link, f"no link in row {row}: the pointer never became a hand along it"
    page.mouse.move(box["x"] + (over_link[0] + over_link[-1]) / 2, y)
    expect(canvas).to_have_css("cursor", "pointer")
    with page.context.expect_page() as opened:
        page.mouse.down()
        page.mouse.up()
    tab = opened.value
    tab.set_default_timeout(RUN_TIMEOUT_MS)
    log = ConsoleLog()  # as conftest.new_page keeps for a page of its own
    tab.on("console", lambda msg: log.console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}")
           if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    tab.errors = log  # type: ignore[attr-defined]
    tab.get_by_test_id("stAppViewContainer").wait_for(state="attached")
    wait_for_app(tab)
    return tab


_LANES_JS = """() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'] .yaxislayer-above .ytick text"))
    .map(t => [t.getBoundingClientRect().top, t.textContent]).sort((a, b) => a[0] - b[0]).map(p => p[1])"""


def lanes(page: Page) -> list[str]:
    """The swimlanes' labels ('CODE · name'), top to bottom as drawn."""
    return page.evaluate(_LANES_JS)


def lane_codes(page: Page) -> list[str]:
    return [label.split(" · ", 1)[0] for label in lanes(page)]


def wait_for_lanes(page: Page, codes: list[str]) -> None:
    """Wait until the swimlanes are redrawn with ``codes`` from the top (a Plotly redraw follows the
    script run); fail naming the lanes drawn instead."""
    try:
        page.wait_for_function(
            f"want => ({_LANES_JS})().slice(0, want.length).map(l => l.split(' · ')[0]).join('|') === want.join('|')",
            arg=codes, timeout=RUN_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pass
    assert lane_codes(page)[:len(codes)] == codes, f"lanes from the top: {lane_codes(page)}"


def lanes_caption(page: Page) -> Locator:
    return page.get_by_test_id("stCaptionContainer").filter(has_text=re.compile(r"^\d+ of \d+ technologies\."))


# --- journeys -----------------------------------------------------------------------------------


def test_a_technology_timeline_and_the_review_that_decided_a_move(app_server: str, page: Page) -> None:
    # The demo holds what this journey needs.
    assert len(set(switchback_kinds(SWITCHBACKS))) > 1, f"{SWITCHBACKS} no longer has two kinds of switchback"
    [(code, before, after)] = reviewed_moves()
    assert code == REVIEWED, f"the demo's reviewed move is {code}'s now"

    # 1. A technology with switchbacks of two kinds: the chart's legend names each kind it has.
    open_app(page, f"{app_server}/timelines?code={SWITCHBACKS}")
    expect(page.get_by_role("heading", name="Timelines", level=1)).to_be_visible()
    still_on_tab(page, "Technology")
    expect(page.get_by_role("combobox", name="Technology", exact=True)).to_have_value(
        f"{SWITCHBACKS} · {DEMO[SWITCHBACKS]['name']}")
    expect_chart_drawn(page)
    expect(legend(page)).to_have_text(legend_for(SWITCHBACKS))
    expect(marks(page)).to_have_count(len(kinds(SWITCHBACKS)))  # a marker per move
    for kind in {"discovery", "review", "embedded"} - set(kinds(SWITCHBACKS)):
        expect(legend(page).filter(has_text=KIND_LABELS[kind])).to_have_count(0)

    # The count of moves over the history table, and the table lists each move with its kind.
    counted = Counter(kinds(SWITCHBACKS))
    events, graduations, switchbacks = len(kinds(SWITCHBACKS)), counted["graduation"], len(switchback_kinds(SWITCHBACKS))
    by_kind = ", ".join(f"{n} {k}" for k, n in Counter(switchback_kinds(SWITCHBACKS)).most_common())
    expect(summary(page)).to_have_text(
        f"{events} level events: {graduations} graduations, {switchbacks} switchbacks ({by_kind}); "
        f"0 decided at a gated review, {events} recorded without one.")
    table = history_table(page)
    expect(table.locator("table[role='grid']")).to_have_attribute("aria-rowcount", str(events + 1))
    kind_column = column_of(table, "Kind")
    for kind in set(switchback_kinds(SWITCHBACKS)):
        expect(table.locator(f"td[aria-colindex='{kind_column + 1}']").filter(
            has_text=re.compile(rf"^{re.escape(KIND_LABELS[kind])}$"))).to_have_count(switchback_kinds(SWITCHBACKS).count(kind))
    expect(table.locator(f"td[aria-colindex='{column_of(table, 'Review #') + 1}']").filter(
        has_text=re.compile(r"\S"))).to_have_count(0)
    expect(page.get_by_text("Click a marker for the event's details and the review that decided it.")).to_be_visible()
    shot(page, "technology-switchbacks")

    # 2. The technology whose graduation was decided at a review: the ring is explained in the legend,
    # and the history links the move to its review.
    choose_matching(page, "Technology", f"{REVIEWED} · {DEMO[REVIEWED]['name']}", tab="Technology")
    expect(page).to_have_url(re.compile(rf"[?&]code={re.escape(REVIEWED)}(&|$)"))
    expect_chart_drawn(page)
    expect(legend(page)).to_have_text(legend_for(REVIEWED, reviewed=True))
    assert not switchback_kinds(REVIEWED)
    events = len(kinds(REVIEWED)) + 1  # its history, then the graduation decided at the review
    expect(marks(page)).to_have_count(events)
    expect(summary(page)).to_have_text(
        f"{events} level events: {Counter(kinds(REVIEWED))['graduation'] + 1} graduations, 0 switchbacks; "
        f"1 decided at a gated review, {events - 1} recorded without one.")
    table = history_table(page)
    expect(table.locator("table[role='grid']")).to_have_attribute("aria-rowcount", str(events + 1))
    review_column = column_of(table, "Review #")
    row = row_of(table, column_of(table, "Move"), f"{before} → {after}")
    expect(grid_cell(table, kind_column, row)).to_have_text("Graduation")
    link = grid_cell(table, review_column, row)
    expect(link).to_have_text(re.compile(r"^reviews\?review=\d+$"))  # drawn as the review's number
    number = int(link.inner_text().rsplit("=", 1)[1])
    expect(table.locator(f"td[aria-colindex='{review_column + 1}']").filter(
        has_text=re.compile(r"\S"))).to_have_count(1)  # the other moves were recorded without a review
    shot(page, "technology-reviewed")

    # 3. Its Review # link opens the Reviews page on that review (in a new tab).
    reviews = follow_link_in_row(page, table, row)
    expect(reviews).to_have_url(re.compile(rf"/reviews\?review={number}$"))
    expect(reviews.get_by_role("heading", name="Reviews", level=1)).to_be_visible()
    expect(reviews.get_by_role("heading", name=re.compile(
        rf"^Review {number} · {re.escape(REVIEWED)} {re.escape(DEMO[REVIEWED]['name'])}$"))).to_be_visible()
    still_on_tab(reviews, "Review")
    shot(reviews, "review-opened")
    assert reviews.errors.unexpected() == []  # type: ignore[attr-defined]
    reviews.close()

    assert page.errors.unexpected() == []  # type: ignore[attr-defined]


def test_a_system_under_its_system_level(app_server: str, page: Page) -> None:
    components = [code for code, tech in DEMO.items() if tech.get("parent") == SYSTEM]
    assert len(components) > 1, f"{SYSTEM} no longer has components"
    members = [SYSTEM, *components]
    lowest = min(members, key=lambda c: (level_now(c), members.index(c)))
    kinds_here = {k for c in members for k in switchback_kinds(c)}

    open_app(page, f"{app_server}/timelines?code={REVIEWED}")
    open_tab(page, "System")
    choose_matching(page, "System", f"{SYSTEM} · {DEMO[SYSTEM]['name']} ({len(components)} components)", tab="System")
    expect_chart_drawn(page)
    # A line per technology (the system first), the system level over them, then the switchbacks by kind.
    expect(legend(page)).to_have_text(
        [f"{SYSTEM} (system)", *components, SYSTEM_LEVEL]
        + [KIND_LABELS[k] for k in ("discovery", "review", "embedded") if k in kinds_here])
    level = level_now(lowest)
    expect(markdown(page, "System level now:")).to_have_text(
        f"System level now: {level} ({LEVELS[level].name}), held down by {lowest}.")

    # The members table: the system and its components, each with its level and switchbacks.
    table = grid_with_column(page, "Switchbacks")
    expect(table.locator("table[role='grid']")).to_have_attribute("aria-rowcount", str(len(members) + 1))
    for row, code in enumerate(members):
        name = DEMO[code]["name"]
        expect(grid_cell(table, 0, row)).to_have_text(name if code == SYSTEM else f"└ {name}")
        expect(grid_cell(table, 1, row)).to_have_text(f"timelines?code={code}")  # drawn as the code, a link
        expect(grid_cell(table, 2, row)).to_have_text(str(level_now(code)))
        expect(grid_cell(table, 3, row)).to_have_text(str(len(switchback_kinds(code))))
    shot(page, "system")

    assert page.errors.unexpected() == []  # type: ignore[attr-defined]


def test_the_portfolio_swimlanes_sorted_and_filtered(app_server: str, page: Page) -> None:
    total = len(DEMO)
    started = [code for code in DEMO if level_now(code) is not None]

    open_app(page, f"{app_server}/timelines?tab=portfolio")
    still_on_tab(page, "Portfolio")
    expect_chart_drawn(page)
    expect(lanes_caption(page)).to_have_text(re.compile(rf"^{total} of {total} technologies\."))
    expect(legend(page)).to_have_text(PHASE_LABELS + [KIND_LABELS[k] for k in ("discovery", "review", "embedded")])
    assert sorted(lane_codes(page)) == sorted(DEMO), "a lane per demo technology"
    shot(page, "portfolio")

    # Sorted by switchbacks: the technology with the most is on top.
    sort = page.get_by_role("radiogroup", name="Sort by")
    sort.get_by_role("radio", name="Switchbacks", exact=True).click()
    wait_for_app(page)
    expect(sort.get_by_role("radio", name="Switchbacks", exact=True)).to_have_attribute("aria-checked", "true")
    most = max(len(switchback_kinds(c)) for c in DEMO)
    ordered = lane_order(started)
    wait_for_lanes(page, ordered[:1])
    top = lane_codes(page)[0]
    assert len(switchback_kinds(top)) == most, f"{top} on top has fewer switchbacks than the demo's most ({most})"
    tied = [c for c in ordered if len(switchback_kinds(c)) == most]
    assert sorted(lane_codes(page)[:len(tied)]) == sorted(tied), "the technologies with the most switchbacks lead"
    # Technologies with no level yet come last, whatever the sort.
    assert lane_codes(page)[len(started):] == [c for c in DEMO if c not in started]
    shot(page, "portfolio-by-switchbacks")

    # Filtered by a phase: the caption counts the lanes left, and only that phase's technologies remain.
    in_phase = [code for code in started if phase_now(code) == PHASE]
    assert 0 < len(in_phase) < total
    pick_options(page, "Phase", [PHASE])
    wait_for_app(page)
    expect(lanes_caption(page)).to_have_text(re.compile(rf"^{len(in_phase)} of {total} technologies\."))
    wait_for_lanes(page, lane_order(in_phase))
    assert sorted(lane_codes(page)) == sorted(in_phase)
    shot(page, "portfolio-research")

    assert page.errors.unexpected() == []  # type: ignore[attr-defined]
