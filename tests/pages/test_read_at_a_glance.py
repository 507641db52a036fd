"""Issue 16, "the screen reads at a glance", on the demo portfolio: on every page and tab with
tables, no cell reads "None", "nan" or "NaT" (a missing value is drawn as a dash), every header
is in words (no raw ``snake_case``, no lower-case first letter), every count of days is whole, and
every chart is drawn without plotly's toolbar. And a success said where the person is looking:
beside the button that did it."""

from __future__ import annotations

import json
import math
import re

import pytest

from mltrl.ui import plots, tables

MISSING_WORDS = {"None", "none", "nan", "NaN", "NaT", "<NA>", "null"}

# (page, session state before the run (a tab), what the walk is called)
WALK = [
    ("views/portfolio.py", {}, "portfolio"),
    ("views/project.py", {}, "project"),
    ("views/cards.py", {}, "cards"),
    ("views/card.py", {"card_tab": "History"}, "card history"),
    ("views/risk_portfolio.py", {"rp_tab": "Matrix"}, "risk portfolio matrix"),
    ("views/risk_portfolio.py", {"rp_tab": "Highest risks"}, "risk portfolio highest"),
    ("views/risk_portfolio.py", {"rp_tab": "Overdue reviews"}, "risk portfolio overdue"),
    ("views/risk_portfolio.py", {"rp_tab": "Grown since level change"}, "risk portfolio growth"),
    ("views/reviews.py", {}, "reviews overview"),
    ("views/timelines.py", {"tl_tab": "Technology"}, "timelines technology"),
    ("views/timelines.py", {"tl_tab": "System"}, "timelines system"),
    ("views/timelines.py", {"tl_tab": "Portfolio"}, "timelines portfolio"),
    *((("views/analytics.py", {"an_tab": tab}, f"analytics {tab}"))
      for tab in ("Time per level", "Moves", "Paths & cycles", "Bottlenecks", "Heat map", "On a date")),
    ("views/quarterly.py", {"qr_tab": "Roll-up"}, "quarterly roll-up"),
    ("views/quarterly.py", {"qr_tab": "Key results"}, "quarterly key results"),
    ("views/quarterly.py", {"qr_tab": "Objectives"}, "quarterly objectives"),
    ("views/level_guide.py", {}, "level guide"),
]


def headers(table) -> dict[str, str]:
    """Column name -> the header the table shows (its configured label, else the name); hidden
    columns left out."""
    config = json.loads(table.proto.columns or "{}")
    shown = {}
    for column in table.value.columns:
        c = config.get(str(column), {})
        if c.get("hidden"):
            continue
        shown[str(column)] = c.get("label") or str(column)
    return shown


def problems(table) -> list[str]:
    """What a person would find wrong in ``table``."""
    found = []
    frame = table.value
    for column, header in headers(table).items():
        if "_" in header or header[:1].islower():
            found.append(f"header {header!r} is not in words")
        values = frame[column]
        words = {str(v) for v in values if isinstance(v, str)}
        if words & MISSING_WORDS:
            found.append(f"{header}: a cell reads {sorted(words & MISSING_WORDS)}")
        if values.isna().any() and table.proto.placeholder != tables.DASH:
            found.append(f"{header}: a missing value would read 'None'")
        if "day" in header.lower() and values.dtype.kind in "fiu" or str(values.dtype) == "Int64":
            fractional = [float(v) for v in values.dropna() if not float(v).is_integer()]
            if "day" in header.lower() and fractional:
                found.append(f"{header}: days not whole: {fractional[:3]}")
    return found


def open_with(open_page, page: str, state: dict):
    at = open_page(page)
    if state:
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page,state,name", WALK, ids=[w[2] for w in WALK])
def test_tables_read_at_a_glance(open_page, demo_db, page, state, name):
    at = open_with(open_page, page, state)
    if name not in ("timelines portfolio", "risk portfolio matrix"):
        assert at.dataframe, f"{name}: no table drawn"
    wrong = {(t.key or f"table {k}"): p for k, t in enumerate(at.dataframe) if (p := problems(t))}
    assert not wrong, f"{name}: {wrong}"
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success",
                                  "warning", "text") for e in getattr(at, kind)]
    texts += [f"{m.label} {m.value}" for m in at.metric]
    leaks = [t for t in texts if re.search(r"\b(None|nan|NaN|NaT)\b", str(t))]
    assert not leaks, f"{name}: {leaks}"
    for chart in at.get("plotly_chart"):
        config = json.loads(chart.proto.config)
        assert config.get("displayModeBar") is False and config == plots.CHART_CONFIG, (name, config)


def _table(at, key: str):
    """The table of ``key`` (a table that takes selections: only those carry their key)."""
    return next(t for t in at.dataframe if t.key == key)


def test_portfolio_flags_come_first_and_fit_beside_the_sidebar(open_page, demo_db):
    at = open_page("views/portfolio.py")
    table = _table(at, "pf_table")
    shown = list(headers(table).values())
    assert shown[:7] == ["Code", "Technology", "Level", "System", "Days at level", "Card", "Reviews"]
    # The columns up to the flags fit the table's width at 1440 px beside the sidebar (about 980 px,
    # less the row selector's 32 px), so no flag needs a sideways scroll.
    widths = json.loads(table.proto.columns)
    assert 32 + sum(widths[c]["width"] for c in list(table.value.columns)[:7]) <= 940
    days = table.value.set_index(table.value["Code"].str.removeprefix("project?code="))["Days at level"]
    assert days.dtype == "Int64" and days.isna().sum() == 1  # R21.1 has no level: a dash


def test_presentation_mode_widens_the_columns_for_its_larger_type(open_page, demo_db):
    at = open_page("views/portfolio.py", present="1")
    widths = json.loads(_table(at, "pf_table").proto.columns)
    assert widths["Technology"]["width"] == round(272 * 19 / 16)
    # 1440 px with the sidebar folded leaves about 1250 px: the flags still fit at 19 px type.
    assert 38 + sum(widths[c]["width"] for c in ("Code", "Technology", "Level", "System level", "Days at level",
                                                  "Card", "Reviews")) <= 1200


def test_quarterly_key_results_show_target_and_date_apart_with_dashes(open_page, demo_db):
    at = open_with(open_page, "views/quarterly.py", {"qr_tab": "Key results"})
    table = next(t for t in at.dataframe if "target" in t.value.columns)  # a table without selection has no key
    assert list(headers(table).values())[:8] == ["Technology", "Target", "By", "Status", "Level", "Expected",
                                                 "P(by date)", "Confidence"]
    frame = table.value
    assert frame["target"].str.fullmatch(r"≥ \d").all()
    assert frame["P(by date)"].dropna().map(lambda p: float(p).is_integer() and 0 <= p <= 100).all()
    # Achieved key results have no forecast, the never-started one no level: dashes, not "None".
    assert frame["P(by date)"].isna().any() and frame["level"].isna().any()
    assert table.proto.placeholder == tables.DASH


def test_analytics_days_are_whole_and_halves_round_up():
    import pandas as pd

    assert tables.whole_days(pd.Series([143.5, 12.5, 0.4, None])).tolist() == [144, 13, 0, pd.NA]
    assert not math.isnan(float(tables.whole_days(pd.Series([1.5]))[0]))


def test_the_success_of_saving_a_card_is_said_beside_the_save_button(open_page, demo_db):
    at = open_with(open_page, "views/card.py", {"card_tab": "Edit"})
    next(b for b in at.button if b.label == "Save card").click().run()
    assert not at.exception, at.exception
    assert len(at.success) == 1 and at.success[0].value.startswith("Saved the card of ")
    kinds = [(type(e).__name__, getattr(e, "label", "")) for e in at.main if type(e).__name__ in ("Button", "Success")]
    save = next(k for k, (kind, label) in enumerate(kinds) if kind == "Button" and label == "Save card")
    said = next(k for k, (kind, _) in enumerate(kinds) if kind == "Success")
    assert said == save + 1, kinds  # right after the button, not at the top of the page
    # Once: the next run no longer says it.
    at.run()
    assert not at.success


def test_a_review_reads_at_a_glance_open_and_decided(open_page, demo_db, session):
    from mltrl.services import reviews

    wanted = [reviews.reviews(session, status="open")[0][0].id, reviews.reviews(session, status="decided")[0][0].id]
    for review_id in wanted:
        at = open_page("views/reviews.py", review=str(review_id))
        assert at.dataframe, review_id
        wrong = {(t.key or f"table {k}"): p for k, t in enumerate(at.dataframe) if (p := problems(t))}
        assert not wrong, (review_id, wrong)
