"""Browser journey: deleting asks first and can be undone.

Quarterly review › Objectives: choose an objective, Delete…, the question names its key results
and check-ins; confirm; the page says what went, offers Undo and chooses no other objective;
Undo brings the objective back with its key results and check-ins, on the page and in the
server's database.

The module's server holds the demo plus an objective of its own in the current quarter (two
technologies, two key results, three check-ins), seeded through the services before it starts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import demo_server, open_app, shot, wait_for_app
from tests.e2e.test_card_journey import choose_matching, open_tab

pytestmark = pytest.mark.e2e

TITLE = "Undo journey: ship the line scanner"
SEEDED: dict[str, object] = {}


def _seed(url: str) -> None:
    from mltrl.db import get_engine, session_scope
    from mltrl.domain import days, okr
    from mltrl.services import Actor, level_moves, okrs, projects

    actor = Actor("e2e")
    engine = get_engine(url)
    try:
        with session_scope(engine) as session:
            for code, level in (("E2E.U1", 3), ("E2E.U2", 5)):
                projects.add_project(session=session, actor=actor, code=code, name=f"Undo journey {code}")
                level_moves.record_start(session=session, actor=actor, code=code, level=level)
            quarter = str(okr.quarter_of(days.today()))
            objective = okrs.add_objective(session=session, actor=actor, quarter=quarter, title=TITLE, owner="Ana")
            first = okrs.add_key_result(session=session, actor=actor, objective_id=objective.id, code="E2E.U1",
                                        target_level=4)
            second = okrs.add_key_result(session=session, actor=actor, objective_id=objective.id, code="E2E.U2",
                                         target_level=6)
            for kr, comment in ((first, "Scanner mounted."), (first, "Calibrating."), (second, "Waiting on data.")):
                okrs.check_in(session=session, actor=actor, key_result_id=kr.id, comment=comment, confidence=6)
            SEEDED.update(url=url, objective_id=objective.id, quarter=quarter)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def undo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory, "test_undo_journey", seed=_seed) as base_url:
        yield base_url


def _stored() -> tuple[int, int] | None:
    """The seeded objective's key results and check-ins in the server's database (None: gone)."""
    from mltrl.db import get_engine, session_scope
    from mltrl.domain.errors import NotFound
    from mltrl.services import okrs

    engine = get_engine(str(SEEDED["url"]))
    try:
        with session_scope(engine) as session:
            try:
                view = okrs.objective(session, int(SEEDED["objective_id"]))
            except NotFound:
                return None
            return len(view.key_results), sum(len(k.check_ins) for k in view.key_results)
    finally:
        engine.dispose()


def test_deleting_an_objective_asks_then_undo_brings_it_back(undo_server: str, page: Page) -> None:
    open_app(page, f"{undo_server}/quarterly?quarter={SEEDED['quarter']}")
    open_tab(page, "Objectives")
    manage = page.get_by_role("combobox", name="Objective to edit, copy or delete", exact=True)
    expect(manage).to_have_value("")  # nothing chosen: nothing one click from deletion
    expect(page.get_by_role("button", name="Delete…")).to_be_disabled()
    choose_matching(page, "Objective to edit, copy or delete", TITLE, tab="Objectives")

    page.get_by_role("button", name="Delete…").click()
    wait_for_app(page)
    question = page.get_by_text(f"Delete the objective “{TITLE}” with 2 key results and 3 check-ins?")
    expect(question).to_be_visible()
    expect(page.get_by_text("Key results: E2E.U1 ≥ 4, E2E.U2 ≥ 6.")).to_be_visible()
    question.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/undo_confirm.png")
    shot(page, "confirmation")
    assert _stored() == (2, 3)  # asking deletes nothing

    page.get_by_role("button", name="Delete objective and 2 key results").click()
    wait_for_app(page)
    offer = page.get_by_test_id("stVerticalBlock").filter(
        has_text=f"Deleted objective “{TITLE}” with 2 key results and 3 check-ins.").last
    expect(offer).to_be_visible()
    expect(question).to_have_count(0)
    expect(page.get_by_role("combobox", name="Objective to edit, copy or delete", exact=True)).to_have_value("")
    assert _stored() is None
    page.screenshot(path="/tmp/undo_offer.png")
    shot(page, "deleted-with-undo")

    page.get_by_role("button", name="Undo").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        f"Restored objective “{TITLE}” with 2 key results and 3 check-ins.")
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)
    assert _stored() == (2, 3)

    # what the user sees: the objective and its key results are back on the Key results tab
    open_tab(page, "Key results")
    choose_matching(page, "Objective", TITLE, tab="Key results")
    picker = page.get_by_role("combobox", name="Key result", exact=True)
    picker.scroll_into_view_if_needed()
    picker.click()
    expect(page.get_by_role("option").filter(has_text="E2E.U1 reaches level ≥ 4")).to_have_count(1)
    expect(page.get_by_role("option").filter(has_text="E2E.U2 reaches level ≥ 6")).to_have_count(1)
    page.keyboard.press("Escape")
    shot(page, "restored")
    assert page.errors.unexpected() == []
