"""Presentation mode offers nothing to press but navigation and the choice of what to look at.

Every page, with each of its tabs, on the demo portfolio opened with ``?present=1`` (as a single
user, who may do everything, so any control left visible would show): only selectors (select
boxes, multiselects, radios, segmented controls, tabs), page links and read-only tables remain. The
same walk without ``?present=1`` finds the controls, so the check can fail."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP

# What the pages draw does not depend on the database engine: SQLite only (the pages' own tests run
# on both backends).
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# Everything a person could type into, toggle, press or upload with.
INPUTS = ("button", "download_button", "text_input", "text_area", "number_input", "date_input", "time_input",
          "checkbox", "toggle", "slider", "select_slider", "color_picker", "file_uploader", "chat_input",
          "camera_input", "audio_input", "form")

# (page, query, the page's tab key, its tabs): each tab is opened in turn.
STATES = [
    ("views/portfolio.py", {}, None, [None]),
    ("views/project.py", {"code": "R10.1"}, None, [None]),
    ("views/project.py", {"code": "P14.2"}, None, [None]),  # level 9: the deployed-change form in the working view
    ("views/card.py", {"code": "R10.1"}, "card_tab", ["Card", "History", "Brief"]),
    ("views/cards.py", {"person": "elena"}, None, [None]),
    ("views/risks.py", {"code": "R10.1"}, "risk_tab", ["Matrix", "Requirements", "Risks"]),
    ("views/risk_portfolio.py", {}, None, [None]),
    ("views/reviews.py", {}, "reviews_tab", ["Overview", "Review", "Checklist", "Open a review"]),
    ("views/timelines.py", {"code": "R10.1"}, "tl_tab", ["Technology", "System", "Portfolio"]),
    ("views/analytics.py", {}, "an_tab", ["Time per level", "Moves", "Paths & cycles", "Bottlenecks", "Heat map",
                                          "On a date"]),
    ("views/quarterly.py", {}, "qr_tab", ["Roll-up", "Key results", "Objectives", "Export"]),
    ("views/level_guide.py", {}, None, [None]),
]


def _open(page: str, query: dict[str, str], present: bool) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["actor_name"] = "alice"
    for key, value in {**query, **({"present": "1"} if present else {})}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _controls(at: AppTest) -> list[str]:
    found = [f"{kind}: {getattr(w, 'label', '')}" for kind in INPUTS for w in at.get(kind)]
    editors = [e for e in at.get("arrow_data_frame") if e.proto.editing_mode != 0]  # 0 = read-only
    return found + [f"data_editor: {e.proto.id}" for e in editors]


def _shown(frame) -> pd.DataFrame | None:
    """What a Styler asked the grid to show instead of the values (its display values), if any."""
    arrow = frame.proto.arrow_data
    if not arrow.HasField("styler") or not arrow.styler.display_values:
        return None
    return pa.ipc.open_stream(arrow.styler.display_values).read_all().to_pandas()


def _missing_cells(at: AppTest) -> list[str]:
    """Cells a grid would paint "None": missing values outside progress bars (drawn empty), in a
    table without a placeholder for them, that no Styler gives a text of their own."""
    found = []
    for number, frame in enumerate(at.dataframe, 1):
        if frame.proto.placeholder.strip() not in ("", "None", "nan"):
            continue  # st.dataframe(placeholder=...): every missing value reads as that
        progress = {name for name, config in json.loads(frame.proto.columns or "{}").items()
                    if (config.get("type_config") or {}).get("type") == "progress"}
        value, shown = frame.value, _shown(frame)
        for position, column in enumerate(value.columns):
            missing = value[column].isna().to_numpy().copy()
            if shown is not None:
                texts = shown.iloc[:, position].astype(str).str.strip().to_numpy()
                missing &= ~((texts != "") & (texts != "None") & (texts != "nan") & (texts != "<NA>"))
            if str(column) not in progress and missing.any():
                found.append(f"table {number} ({', '.join(map(str, value.columns[:3]))}, …): column {column!r} has "
                             f"{int(missing.sum())} missing")
    return found


def _walk(page: str, query: dict[str, str], tab_key: str | None, tabs: list[str | None], present: bool,
          look=_controls) -> dict:
    at = _open(page, query, present)
    seen = {}
    for tab in tabs:
        if tab is not None:
            at.session_state[tab_key] = tab
            at.run()
            assert not at.exception, (tab, at.exception)
        seen[tab] = look(at)
    return seen


@pytest.mark.parametrize(("page", "query", "tab_key", "tabs"), STATES,
                         ids=[f"{p.split('/')[-1][:-3]}-{'-'.join(q.values()) or 'all'}" for p, q, _, _ in STATES])
def test_presentation_mode_offers_only_navigation_and_selectors(open_page, demo_db, page, query, tab_key, tabs):
    seen = _walk(page, query, tab_key, tabs, present=True)
    assert {tab: found for tab, found in seen.items() if found} == {}


def test_the_working_view_of_the_same_pages_has_controls(open_page, demo_db):
    """The walk's check can fail: without presentation mode the same pages offer their controls."""
    with_controls = {page for page, query, tab_key, tabs in STATES
                     if any(_walk(page, query, tab_key, tabs, present=False).values())}
    assert {"views/portfolio.py", "views/project.py", "views/card.py", "views/risks.py", "views/analytics.py",
            "views/quarterly.py", "views/timelines.py", "views/reviews.py"} <= with_controls


def test_the_sidebar_switches_by_a_link_that_reloads_the_page(open_page, demo_db):
    at = _open("views/project.py", {"code": "R10.1"}, present=False)
    switch = [h.proto.body for h in at.sidebar.get("html") if "mltrl-present" in h.proto.body]
    assert len(switch) == 1 and 'href="?code=R10.1&amp;present=1"' in switch[0] and "Presentation mode" in switch[0]
    at = _open("views/project.py", {"code": "R10.1"}, present=True)
    switch = [h.proto.body for h in at.sidebar.get("html") if "mltrl-present" in h.proto.body]
    assert len(switch) == 1 and 'href="?code=R10.1&amp;present=0"' in switch[0] and "Leave presentation mode" in switch[0]


@pytest.mark.parametrize(("page", "query", "tab_key", "tabs"), STATES,
                         ids=[f"{p.split('/')[-1][:-3]}-{'-'.join(q.values()) or 'all'}" for p, q, _, _ in STATES])
def test_no_table_shows_a_missing_value(open_page, demo_db, page, query, tab_key, tabs):
    """A missing value is painted "None" on the grid's canvas: every page says a word or a dash."""
    seen = _walk(page, query, tab_key, tabs, present=False, look=_missing_cells)
    assert {tab: found for tab, found in seen.items() if found} == {}
