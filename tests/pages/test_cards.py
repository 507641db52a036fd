"""The Cards page under AppTest: every card's state, a person's cards, two cards side by side."""

from __future__ import annotations

from mltrl.domain.cards import Card
from mltrl.services import Actor, cards
from tests.factories import make_project

PAGE = "views/cards.py"


def html(at) -> str:
    return "\n".join(h.proto.body for h in at.html)


def test_overview_counts_and_lists_stale_cards_first(open_page, demo_db):
    at = open_page(PAGE)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Cards up to date": "4", "Stale cards": "2", "Technologies without a card": "19"}
    table = at.dataframe[0].value
    assert list(table["Card"][:2]) == ["card?code=P03.1", "card?code=R17.1"]
    assert list(table["State"][:3]) == ["stale", "stale", "no card"]
    assert table["Last saved"].iloc[2] == "—"
    assert set(table[table["State"] == "up to date"]["Card"]) == {
        "card?code=P05.1", "card?code=P13.1", "card?code=R10.1", "card?code=P14.2"}


def test_a_persons_cards_by_handle(open_page, demo_db):
    at = open_page(PAGE, person="elena")
    table = at.dataframe[1].value
    assert "Elena Marchetti" in " ".join(m.value for m in at.markdown)
    assert {"card?code=R10.1", "card?code=P14.2"} <= set(table["Card"])
    at.text_input(key="person").input("nobody-here").run()
    assert "No card names 'nobody-here'" in at.info[0].value


def test_compare_two_technologies_section_by_section(open_page, session):
    make_project(session, "R01.1", "Left tech")
    make_project(session, "R02.1", "Right tech")
    cards.save_card(session=session, actor=Actor("a"), code="R01.1", base_revision=0,
                    card=Card(tldr="Left summary.", model="A **GP**."))
    cards.save_card(session=session, actor=Actor("a"), code="R02.1", base_revision=0,
                    card=Card(tldr="Right summary.", intended_use="Only <script>x()</script> tuning."))
    at = open_page(PAGE)
    assert at.selectbox(key="compare_left").value == "R01.1"
    assert at.selectbox(key="compare_right").value == "R02.1"
    body = html(at)
    assert "Left summary." in body and "Right summary." in body and "<strong>GP</strong>" in body
    assert "<script" not in body.replace("<style>", "")
    side_by_side = at.table[0].value
    assert list(side_by_side.columns) == ["R01.1", "R02.1"]
    assert side_by_side.loc["Card", "R01.1"] == "revision 1, saved today"
    headings = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert headings[:3] == ["#### TL;DR", "#### Top-level requirements", "#### Model / algorithm info"]


def test_empty_portfolio(open_page):
    at = open_page(PAGE)
    assert "No technologies yet" in at.info[0].value
