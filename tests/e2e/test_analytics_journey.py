"""Browser journeys through Analytics and the Quarterly review.

Analytics: the portfolio's counts over the filters, the time-per-level chart, one owner's
technologies, the time-per-level table downloaded as CSV, and the Moves tab's charts and
transitions table. Quarterly review: the current quarter's roll-up, a check-in recorded on a key
result, and the HTML report downloaded and read in the browser with the network cut off.

Everything expected is worked out from the demo files that ``mltrl demo load`` reads
(``data/demo_portfolio.json``, ``data/demo_reviews.json``, ``data/demo_okrs.json``) and the day it
is loaded for, today (``tests.demo_files``: every date moves by today's distance from the file's
anchor):

* every history event begins a stay and every event but a start is a move; the demo's reviews add
  one move, R18.1's graduation 3 -> 4 (the only graduation decided at a demo review);
* the OKRs with ``quarter_offset`` 0 are the current quarter's, due on its last day (or on
  ``due_not_before``, when later); a key result whose technology holds its target level is
  achieved (R18.1 >= 4), one whose technology held it when the quarter began (or reached it since)
  and no longer does was achieved then lost (P15.1 >= 9), and nothing is missed before its due date.

The module's server is the demo (``conftest.app_server``); the quarterly journey writes one
check-in, which the analytics journey does not read.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Browser, Download, Locator, Page, expect

from mltrl.domain import okr
from mltrl.domain.levels import LEVELS
from tests import demo_files
from tests.e2e.conftest import ARTIFACTS, ROOT, new_page, open_app, shot, wait_for_app
from tests.e2e.test_card_journey import choose_matching, open_tab, still_on_tab
from tests.e2e.test_review_journey import (
    after_run,
    caption,
    grid_cell,
    grid_with_column,
    success,
)
from tests.e2e.test_timeline_journey import column_of, row_of

pytestmark = pytest.mark.e2e

OWNER = "Kwame Mensah"  # the owner the analytics are filtered by
CHECKED_IN = "R21.1"     # the key result a check-in is recorded on (the demo has none on it)
CHECK_IN = "Literature survey done; a first benchmark is being set up with the plant team."
CONFIDENCE = 7           # from the slider's default 5, two steps right
ACHIEVED = "R18.1"       # graduated to its target at a demo review
LOST = "P15.1"           # deployed when the quarter began, sent back through integration since
STATUSES = ["achieved", "achieved then lost", "on track", "at risk", "missed"]
TIME_COLUMNS = ["level", "name", "completed", "median_days", "p25_days", "p75_days", "mean_days", "ongoing",
                "ongoing_median_days"]


# --- the demo, as the journeys expect to see it -------------------------------------------------


def _load(name: str) -> dict:
    return json.loads((ROOT / "data" / name).read_text(encoding="utf-8"))


DEMO = {tech["code"]: tech for tech in _load("demo_portfolio.json")["technologies"]}
DEMO_REVIEWS = _load("demo_reviews.json")["reviews"]
DEMO_OKRS = _load("demo_okrs.json")["objectives"]


def graduated_at_review(code: str) -> bool:
    return any(r["code"] == code and (r.get("decide") or {}).get("decision") == "graduate" for r in DEMO_REVIEWS)


def kind_of(step: dict) -> str:
    """An event's kind as the analytics name a move: a switchback goes by its own kind."""
    return step["switchback_kind"] if step["kind"] == "switchback" else step["kind"]


def moves_of(code: str) -> list[tuple[int, int, str]]:
    """(from, to, kind) of every level move of ``code`` once the demo is loaded: its history's
    moves (starts excluded), then a graduation decided at a demo review."""
    out, level = [], None
    for step in DEMO[code]["history"]:
        if step["kind"] != "start":
            out.append((level, step["to"], kind_of(step)))
        level = step["to"]
    if graduated_at_review(code):
        out.append((level, level + 1, "graduation"))
    return out


def completed_stays(codes: list[str]) -> Counter[int]:
    """Completed stays per level: each move ends the stay at the level it leaves."""
    return Counter(before for c in codes for before, _, _ in moves_of(c))


def level_now(code: str) -> int | None:
    history = DEMO[code]["history"]
    return None if not history else history[-1]["to"] + int(graduated_at_review(code))


def first_day() -> date:
    """The first event's day, as the demo is placed for today."""
    return min(demo_files.placed(step["at"]) for tech in DEMO.values() for step in tech["history"])


def levels_between(code: str, start: datetime, end: datetime) -> tuple[int | None, list[int]]:
    """``code``'s level just before ``start`` and the levels it moved to from then until ``end``
    (its history placed for today, and a graduation decided at a demo review on its day)."""
    moves = [(at, step["to"]) for at, step in demo_files.events(code)]
    for review in DEMO_REVIEWS:
        if review["code"] == code and (review.get("decide") or {}).get("decision") == "graduate":
            at = datetime.combine(demo_files.placed(review["decided"], "demo_reviews.json"), datetime.min.time(), UTC)
            moves.append((at, moves[-1][1] + 1))
    before = [level for at, level in sorted(moves) if at < start]
    return (before[-1] if before else None), [level for at, level in sorted(moves) if start <= at <= end]


def due_of(kr: dict, quarter: okr.Quarter) -> date:
    """A current key result's due date: its quarter's last day, or ``due_not_before`` when later."""
    if "due_not_before" in kr:
        return max(quarter.end, demo_files.placed(kr["due_not_before"], "demo_okrs.json"))
    return quarter.end


def expected_caption(codes: list[str], today: date) -> str:
    """The counts line under the filters: every event begins a stay, a technology's last stay is
    ongoing, and every event but a start is a move."""
    moves = sum(len(moves_of(c)) for c in codes)
    started = [c for c in codes if DEMO[c]["history"]]
    stays = len(started) + moves  # a start, then a stay after each move
    return (f"{len(codes)} of {len(DEMO)} technologies · {stays:,} stays ({len(started):,} ongoing) · "
            f"{moves:,} moves from {first_day():%Y-%m-%d} to {today:%Y-%m-%d}.")


def owned_by(owner: str) -> list[str]:
    return [code for code, tech in DEMO.items() if owner in tech["owners"]]


def current_key_results() -> list[tuple[str, dict]]:
    """(objective title, key result) of the current quarter's objectives, in the file's order."""
    return [(o["title"], kr) for o in DEMO_OKRS if o.get("quarter_offset", 0) == 0 for kr in o["key_results"]]


def objective_of(code: str) -> str:
    return next(title for title, kr in current_key_results() if kr["code"] == code)




# --- helpers ------------------------------------------------------------------------------------


def charts(scope: Page | Locator) -> Locator:
    """The Plotly charts drawn in ``scope``."""
    return scope.get_by_test_id("stPlotlyChart").locator(".js-plotly-plot")


def expect_drawn(chart: Locator, marks: str) -> None:
    """The chart has its SVG and at least one of ``marks`` (a CSS selector of what it draws)."""
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator(marks).first).to_be_attached()


def counts_caption(page: Page) -> Locator:
    return caption(page, re.compile(r"^\d+ of \d+ technologies · "))


def choose_option(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the multiselect ``label`` (outside a form: a run), then close its list."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    after_run(page, page.get_by_role("option", name=option, exact=True).click)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stMultiSelect").filter(has=box).get_by_text(option, exact=True)).to_be_visible()


def clear_options(page: Page, label: str) -> None:
    """Empty the multiselect ``label`` with its clear-all button (a run)."""
    field = page.get_by_test_id("stMultiSelect").filter(has=page.get_by_role("combobox", name=label, exact=True))
    after_run(page, field.get_by_role("button", name="Clear all").click)
    expect(page.get_by_role("combobox", name=label, exact=True)).to_have_attribute("placeholder", re.compile(r"^every "))


def detail(page: Page) -> Locator:
    """The bordered box of the key result picked on the Key results tab (it holds the check-in form)."""
    return page.get_by_role("tabpanel", name="Key results").get_by_test_id("stLayoutWrapper").filter(
        has=page.get_by_role("button", name="Record check-in")).filter(has_text=re.compile("reaches level ≥")).last


def expect_date(page: Page, label: str, day: date) -> None:
    """The date input ``label`` shows ``day`` (its year, month and day are fields of their own)."""
    field = page.get_by_role("group", name=label, exact=True)
    expect(field.get_by_role("spinbutton")).to_have_text([f"{day:%Y}", f"{day:%m}", f"{day:%d}"])


def metric(page: Page, label: str) -> Locator:
    """The value of the st.metric labelled ``label``."""
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)).get_by_test_id("stMetricValue")


def row_count(table: Locator) -> Locator:
    """The grid's accessible table, whose aria-rowcount counts the header row."""
    return table.locator("table[role='grid']")


def download(page: Page, button: str, name: str) -> Download:
    """Press the download button ``button`` and return the file it downloads, saved to the
    artifacts as ``name``."""
    target = page.get_by_role("button", name=button, exact=True)
    target.scroll_into_view_if_needed()
    with page.expect_download() as info:
        target.click()
    got = info.value
    wait_for_app(page)  # the press also reruns the script
    got.save_as(ARTIFACTS / name)
    return got


@pytest.fixture
def offline_page(browser: Browser) -> Iterator[Page]:
    """A page of its own with the network cut off, recording every request it makes."""
    pages = new_page(browser)
    pg = next(pages)
    pg.context.set_offline(True)
    pg.requests = []  # type: ignore[attr-defined]
    pg.on("request", lambda request: pg.requests.append(request.url))  # type: ignore[attr-defined]
    yield pg
    pages.close()


# --- journeys -----------------------------------------------------------------------------------


def test_portfolio_analytics_filtered_by_owner_and_downloaded(app_server: str, page: Page) -> None:
    today = datetime.now(UTC).date()
    mine = owned_by(OWNER)
    assert 1 < len(mine) < len(DEMO), f"{OWNER} owns {mine}"

    # 1. Every technology: the counts, and the time-per-level chart (completed and ongoing stays).
    open_app(page, f"{app_server}/analytics")
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    expect_date(page, "From", first_day())
    expect_date(page, "To", today)
    expect(counts_caption(page)).to_have_text(expected_caption(list(DEMO), today))
    still_on_tab(page, "Time per level")
    panel = page.get_by_role("tabpanel", name="Time per level")
    expect(charts(panel)).to_have_count(2)  # the portfolio's boxes, then one technology's bars
    boxes = charts(panel).first
    expect_drawn(boxes, ".boxlayer .trace.boxes")
    expect(boxes.locator(".legend .legendtext")).to_have_text(["completed stays", "ongoing stays (so far)"])
    # Along the top, each level's count of completed stays: a stay at L is completed by a move from L.
    expect(boxes.locator(".annotation-text tspan.line:first-child")).to_have_text(
        [f"n={n}" for _, n in sorted(completed_stays(list(DEMO)).items())])
    expect(panel.get_by_role("button", name="Download time per level (CSV)")).to_be_visible()
    shot(page, "analytics-portfolio")

    # 2. One owner's technologies.
    choose_option(page, "Owner", OWNER)
    expect(counts_caption(page)).to_have_text(expected_caption(mine, today))
    still_on_tab(page, "Time per level")
    expect_drawn(charts(panel).first, ".boxlayer .trace.boxes")
    started = [c for c in mine if DEMO[c]["history"]]
    expect(page.get_by_role("combobox", name="Technology", exact=True)).to_have_value(
        f"{started[0]} · {DEMO[started[0]]['name']}")
    shot(page, "analytics-owner")

    # 3. The time-per-level table as CSV: a row per level, 0 to 9, its stays adding up to the counts.
    got = download(page, "Download time per level (CSV)", "time_per_level.csv")
    assert got.suggested_filename == f"time_per_level_{today:%Y-%m-%d}.csv"
    rows = list(csv.reader(io.StringIO((ARTIFACTS / "time_per_level.csv").read_text(encoding="utf-8"))))
    assert rows[0] == TIME_COLUMNS
    body = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert len(body) == 10
    assert [(int(r["level"]), r["name"]) for r in body] == [(n, LEVELS[n].name) for n in range(10)]
    assert {int(r["level"]): int(r["completed"]) for r in body} == {n: completed_stays(mine)[n] for n in range(10)}
    ongoing = Counter(level_now(c) for c in started)  # a technology's last stay is under way
    assert {int(r["level"]): int(r["ongoing"]) for r in body} == {n: ongoing[n] for n in range(10)}
    still_on_tab(page, "Time per level")

    # 4. Moves: the from -> to heat map, the Sankey by kind, and the transitions table.
    panel = open_tab(page, "Moves")
    expect(counts_caption(page)).to_have_text(expected_caption(mine, today))  # the filter holds
    expect(charts(panel)).to_have_count(3)
    heatmap, sankey, rates = charts(panel).all()
    expect_drawn(heatmap, ".heatmaplayer image, .hm image")
    expect_drawn(sankey, ".sankey .sankey-link")
    expect_drawn(rates, ".barlayer .point")
    expect(panel.get_by_role("heading", name="From → to")).to_be_visible()
    expect(panel.get_by_role("heading", name="Moves by kind")).to_be_visible()
    transitions = Counter(move for c in mine for move in moves_of(c))
    table = grid_with_column(page, "Kind of move")
    expect(row_count(table)).to_have_attribute("aria-rowcount", str(len(transitions) + 1))
    expect(table.locator("th[role='columnheader']")).to_contain_text(["From level", "To level", "Kind of move", "Moves"])
    expect(panel.get_by_role("button", name="Download transitions (CSV)")).to_be_visible()
    shot(page, "analytics-moves")

    assert page.errors.unexpected() == []  # type: ignore[attr-defined]


def test_quarterly_review_check_in_and_offline_report(app_server: str, page: Page, offline_page: Page) -> None:
    now = datetime.now(UTC)
    today = now.date()
    quarter = okr.quarter_of(today)
    mine = current_key_results()
    labels = {kr["code"]: f"{kr['code']} reaches level ≥ {kr['level']} by {due_of(kr, quarter):%Y-%m-%d}"
              for _, kr in mine}
    achieved = [kr["code"] for _, kr in mine
                if level_now(kr["code"]) is not None and level_now(kr["code"]) >= kr["level"]]
    lost = []
    for _, kr in mine:
        held, since = levels_between(kr["code"], datetime.combine(quarter.start, datetime.min.time(), UTC), now)
        if kr["code"] not in achieved and max([held or -1, *since]) >= kr["level"]:
            lost.append(kr["code"])
    objectives = list(dict.fromkeys(title for title, _ in mine))
    # The demo holds what this journey needs.
    assert ACHIEVED in achieved and lost == [LOST], f"the current quarter's key results: {labels}"
    assert CHECKED_IN in labels and not next(kr for _, kr in mine if kr["code"] == CHECKED_IN).get("check_ins")

    # 1. The current quarter by default: its roll-up counts the key results by status.
    open_app(page, f"{app_server}/quarterly")
    expect(page.get_by_role("heading", name="Quarterly review", level=1)).to_be_visible()
    expect(page.get_by_role("combobox", name="Quarter", exact=True)).to_have_value(str(quarter))
    expect_date(page, "As of", today)
    expect(caption(page, re.compile(rf"^{quarter}: "))).to_have_text(re.compile(
        rf"^{quarter}: {quarter.start:%Y-%m-%d} to {quarter.end:%Y-%m-%d} · as of {today:%Y-%m-%d} \d\d:\d\d UTC · "
        rf"{len(objectives)} objective\(s\), {len(mine)} key result\(s\)\.$"))
    still_on_tab(page, "Roll-up")
    expect(metric(page, "Achieved")).to_have_text(str(len(achieved)))
    expect(metric(page, "Achieved then lost")).to_have_text(str(len(lost)))
    expect(metric(page, "Missed")).to_have_text("0")
    open_ones = [int(metric(page, s).inner_text()) for s in ("On track", "At risk")]
    assert sum(open_ones) == len(mine) - len(achieved) - len(lost), f"on track, at risk: {open_ones}"
    assert all(open_ones), f"on track, at risk: {open_ones}"  # the demo has both, whatever the day
    expect_drawn(charts(page).first, ".scatterlayer .trace")  # the burn-up
    expect(page.get_by_role("heading", name="Key results achieved over the quarter")).to_be_visible()
    expect(row_count(grid_with_column(page, "Owner"))).to_have_attribute(
        "aria-rowcount", str(len({kr["owner"] for _, kr in mine}) + 1))
    shot(page, "quarterly-rollup")

    # 2. Key results: every objective's in one table; the achieved one found by its status.
    panel = open_tab(page, "Key results")
    expect(page.get_by_role("combobox", name="Objective", exact=True)).to_have_value("Every objective")
    table = grid_with_column(page, "Technology")
    expect(row_count(table)).to_have_attribute("aria-rowcount", str(len(mine) + 1))
    choose_option(page, "Status", "achieved")
    expect(row_count(table)).to_have_attribute("aria-rowcount", str(len(achieved) + 1))
    expect(table.locator("td[role='gridcell']").filter(has_text=re.compile(rf"^{re.escape(ACHIEVED)}$"))
           ).to_have_count(1)
    expect(page.get_by_role("combobox", name="Key result", exact=True)).to_have_value(f"{labels[ACHIEVED]} · achieved")
    expect(detail(page)).to_contain_text(f"{labels[ACHIEVED]} ({objective_of(ACHIEVED)}) achieved")
    clear_options(page, "Status")
    expect(row_count(table)).to_have_attribute("aria-rowcount", str(len(mine) + 1))

    # One objective's key results, and one of them in detail.
    choose_matching(page, "Objective", objective_of(CHECKED_IN), tab="Key results")
    expect(row_count(table)).to_have_attribute("aria-rowcount", str(
        sum(title == objective_of(CHECKED_IN) for title, _ in mine) + 1))
    choose_matching(page, "Key result", re.compile(rf"^{re.escape(labels[CHECKED_IN])} · "), tab="Key results")
    box = detail(page)
    expect(box).to_contain_text(f"{labels[CHECKED_IN]} ({objective_of(CHECKED_IN)})")
    # not started: no empty axes, a sentence says why
    expect(charts(box)).to_have_count(0)
    expect(box.get_by_text(f"{CHECKED_IN} has no level yet, so there is no path to draw", exact=False)).to_be_visible()
    expect(box.get_by_text("No check-ins yet.")).to_be_visible()

    # 3. A check-in: a comment and the confidence, two steps up from 5.
    form = box.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Record check-in"))
    form.get_by_role("textbox", name="Check-in").fill(CHECK_IN)
    slider = form.get_by_role("slider", name="Confidence it will be met (0-10)")
    expect(slider).to_have_value("5")
    slider.focus()
    for _ in range(CONFIDENCE - 5):
        slider.press("ArrowRight")
    expect(slider).to_have_value(str(CONFIDENCE))
    after_run(page, form.get_by_role("button", name="Record check-in").click)
    expect(success(page)).to_have_text(f"Check-in recorded on {labels[CHECKED_IN]}.")
    still_on_tab(page, "Key results")
    expect(page.get_by_role("combobox", name="Key result", exact=True)).to_have_value(
        re.compile(rf"^{re.escape(labels[CHECKED_IN])} · "))  # still the one checked in on
    box = detail(page)
    expect(box.locator("li")).to_have_text([f"{today:%Y-%m-%d} e2e ({CONFIDENCE}/10): {CHECK_IN}"])
    expect(box.get_by_text("No check-ins yet.")).to_have_count(0)
    expect(box.get_by_role("textbox", name="Check-in")).to_have_value("")  # emptied for the next one
    row = row_of(table, column_of(table, "Technology"), CHECKED_IN)
    expect(grid_cell(table, column_of(table, "Confidence"), row)).to_have_text(re.compile(rf"^{CONFIDENCE}\b"))
    expect(box.get_by_role("slider", name="Confidence it will be met (0-10)")).to_have_value("5")  # reset too
    shot(page, "quarterly-check-in")

    # 4. Export: the HTML report, downloaded.
    panel = open_tab(page, "Export")
    expect(panel.get_by_text("The HTML opens offline (everything is inline).", exact=False)).to_be_visible()
    got = download(page, "Download HTML report", "quarterly_review.html")
    assert re.fullmatch(rf"quarterly_review_{quarter}_{today:%Y-%m-%d}\.html", got.suggested_filename), \
        got.suggested_filename
    still_on_tab(page, "Export")
    shot(page, "quarterly-export")
    assert page.errors.unexpected() == []  # type: ignore[attr-defined]

    # 5. The saved file in the browser, offline: its heading, its key results and their check-ins,
    # and its charts, static SVG drawn into it.
    saved = ARTIFACTS / "quarterly_review.html"
    report = offline_page
    report.goto(saved.resolve().as_uri())
    expect(report).to_have_title(f"Quarterly readiness review {quarter}")
    expect(report.get_by_role("heading", name=f"Quarterly readiness review {quarter}", level=1)).to_be_visible()
    for title in objectives:
        expect(report.get_by_role("heading", name=title, level=2)).to_be_visible()
    lines = report.locator("div.kr")
    expect(lines).to_have_count(len(mine))
    for label in labels.values():
        line = lines.filter(has=report.locator("b", has_text=re.compile(rf"^{re.escape(label)}$")))
        expect(line).to_be_visible()
        expect(line.locator("svg").first).to_be_visible()  # its path over the quarter
    expect(lines.filter(has_text=labels[ACHIEVED]).locator(".status")).to_have_text("achieved")
    checked = lines.filter(has_text=labels[CHECKED_IN])
    expect(checked).to_contain_text(f"confidence: {CONFIDENCE}/10")
    expect(checked.locator("p.checkin")).to_have_text([f"{today:%Y-%m-%d} e2e ({CONFIDENCE}/10): {CHECK_IN}"])
    # The burn-up: a static SVG chart in the file (no script), with its axis titles.
    burnup = report.get_by_role("img", name=f"Key results achieved over {quarter}")
    expect(burnup).to_have_count(1)
    expect(burnup).to_be_visible()
    expect(report.locator("script")).to_have_count(0)
    shot(report, "quarterly-report-html")
    assert saved.resolve().as_uri() in report.requests  # type: ignore[attr-defined]
    elsewhere = [url for url in report.requests if not url.startswith(("file:", "data:", "blob:"))]  # type: ignore[attr-defined]
    assert elsewhere == [], f"the report asked the network for {elsewhere}"
    assert report.errors.unexpected() == []  # type: ignore[attr-defined]
