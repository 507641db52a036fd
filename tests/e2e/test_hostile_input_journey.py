"""Browser journey with hostile files (issue 14): what a careless user or an attacker uploads ends in
a message naming the problem, with nothing written, and what is written comes back safe.

1. Requirements & risks: a CSV with a repeated column is refused naming the column; a Mac CSV
   (CR-only line ends) holding a formula-like title imports; its export quotes the formula
   (``'=HYPERLINK...``) so a spreadsheet shows text, not a live link.
2. TRL card: a card whose level cell reads ``4.5`` is refused naming the Current Level row; a card
   with a 100 KB heading of spaces (which used to freeze the parser for hours) gets its answer at
   once (the page is not frozen), with nothing but that answer written.

The database the server opens is read directly (``tests.factories.everything``) to prove that a
refusal wrote nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, demo_server, open_app, shot, wait_for_app
from tests.e2e.test_card_journey import open_tab

pytestmark = pytest.mark.e2e

CODE = "R18.1"
CARD = ROOT / "data" / "demo_cards" / "P03.1.md"
FORMULA = '=HYPERLINK("http://evil.example","click me")'
_URL: dict[str, str] = {}


def _remember(url: str) -> None:
    _URL["db"] = url


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory, "test_hostile_input_journey", seed=_remember) as base_url:
        yield base_url


def database() -> dict[str, list[tuple]]:
    from mltrl.db import make_engine
    from tests.factories import everything

    engine = make_engine(_URL["db"])
    try:
        return everything(engine)
    finally:
        engine.dispose()


def upload(page: Page, label: str, path: Path, button: str) -> None:
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=label)
    uploader.locator("input[type=file]").set_input_files(str(path))
    wait_for_app(page)
    page.get_by_role("button", name=button, exact=True).click()
    wait_for_app(page)


def error_box(page: Page):
    return page.get_by_test_id("stAlertContentError")


def test_hostile_register_files(hostile_server: str, page: Page, tmp_path: Path) -> None:
    open_app(page, f"{hostile_server}/risks?code={CODE}")
    expect(page.get_by_role("combobox", name="Technology")).to_have_value(re.compile(rf"^{re.escape(CODE)} · "))
    open_tab(page, "Risks")

    # A repeated column: refused by name, nothing written.
    repeated = tmp_path / "repeated.csv"
    repeated.write_bytes(b"title,title,category,p_failure,value\nDrift,Other,data,0.2,5\n")
    before = database()
    upload(page, "Import risks from CSV", repeated, "Import risks")
    expect(error_box(page)).to_contain_text("'title'")
    expect(error_box(page)).to_contain_text("more than once")
    assert database() == before
    shot(page, "repeated-column-refused")

    # A Mac CSV (CR-only line ends) with a formula-like title imports as text.
    mac = tmp_path / "mac.csv"
    mac.write_bytes(("title,category,p_failure,value\r" + f'"{FORMULA.replace(chr(34), chr(34) * 2)}",data,0.2,5\r')
                    .encode())
    upload(page, "Import risks from CSV", mac, "Import risks")
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Imported risks into {CODE}: 1 added")
    assert any(FORMULA in row for row in database()["risk"]), "the formula-like title was not stored as typed"

    # Its export neutralises the formula: the cell starts with a quote.
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download CSV").click()
    exported = Path(caught.value.path()).read_text(encoding="utf-8")
    cells = [line for line in exported.splitlines() if "HYPERLINK" in line]
    assert len(cells) == 1 and re.match(r"^\"?'=HYPERLINK", cells[0]), cells
    shot(page, "formula-imported")


def test_hostile_card_files(hostile_server: str, page: Page, tmp_path: Path) -> None:
    open_app(page, f"{hostile_server}/card?code=P03.1")
    expect(page.get_by_role("heading", name="TRL card", level=1, exact=True)).to_be_visible()
    open_tab(page, "Import")
    text = CARD.read_text(encoding="utf-8")
    assert "| Current Level | 7 |" in text

    # A level cell of 4.5 used to start the technology at level 4: refused, naming the row.
    half = tmp_path / "half-level.md"
    half.write_text(text.replace("| Current Level | 7 |", "| Current Level | 4.5 |"), encoding="utf-8")
    before = database()
    upload(page, "Card file (.md)", half, "Import card")
    expect(error_box(page)).to_contain_text("Current Level")
    expect(error_box(page)).to_contain_text("4.5")
    assert database() == before
    shot(page, "half-level-refused")

    # A 100 KB heading of spaces: the answer comes at once (the page is not frozen for hours).
    frozen = tmp_path / "long-heading.md"
    frozen.write_text(text + "\n# a" + " " * 100_000 + "b\n", encoding="utf-8")
    upload(page, "Card file (.md)", frozen, "Import card")
    answer = page.get_by_test_id("stAlertContentError").or_(page.get_by_test_id("stAlertContentSuccess"))
    expect(answer.first).to_be_visible()
    expect(answer.first).to_contain_text(re.compile(r"Imported the card into P03\.1|at most|KB|characters"))
    assert not page.get_by_test_id("stException").count()
    shot(page, "long-heading-answered")
