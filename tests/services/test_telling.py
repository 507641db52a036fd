"""Which technology a page opens on when nobody has chosen one: ``portfolio.telling_order`` and
``portfolio.most_telling`` rank technologies by how much there is to show."""

from __future__ import annotations

from sqlmodel import Session

from mltrl.domain.cards import Card
from mltrl.services import cards, portfolio, projects, reviews
from mltrl.services import risks as registers
from tests.factories import TESTER, make_history, make_project

CARD = Card(owners=("Ana Ruiz",), tldr="Finds defects.")


def _card(session: Session, code: str) -> None:
    cards.save_card(session=session, actor=TESTER, code=code, card=CARD, base_revision=0)


def _requirement(session: Session, code: str, number: str = "1") -> None:
    registers.add_requirement(session=session, actor=TESTER, code=code, number=number, statement="Works",
                              p_failure=0.2, value=5)


def _risk(session: Session, code: str, title: str = "Drift", status: str | None = None) -> None:
    registers.add_risk(session=session, actor=TESTER, code=code, title=title, category="data", p_failure=0.4,
                       value=6, status=status)


def test_nothing_to_rank(session: Session) -> None:
    assert portfolio.telling_order(session) == [] and portfolio.most_telling(session) is None


def test_a_level_a_card_and_a_register_beat_the_first_code_with_a_long_history(session: Session) -> None:
    # A01.1 comes first by code and has the longest history, but nothing else to show.
    make_project(session, "A01.1")
    make_history(session, "A01.1", [("start", 1, None, "2025-01-01"), ("graduation", None, None, "2025-02-01"),
                                    ("graduation", None, None, "2025-03-01"), ("graduation", None, None, "2025-04-01")])
    make_project(session, "M01.1")  # card and register but no level
    _card(session, "M01.1")
    _requirement(session, "M01.1")
    make_project(session, "Z01.1")  # a level, a card and a register
    make_history(session, "Z01.1", [("start", 2, None, "2025-05-01")])
    _card(session, "Z01.1")
    _risk(session, "Z01.1")
    make_project(session, "B01.1")  # nothing at all
    # Two of the three things every page shows (card, register) beat one (a level), however long.
    assert portfolio.telling_order(session) == ["Z01.1", "M01.1", "A01.1", "B01.1"]
    assert portfolio.most_telling(session) == "Z01.1"
    assert portfolio.telling_order(session, limit=2) == ["Z01.1", "M01.1"]


def test_more_to_show_wins_then_active_then_history_then_registers_then_code(session: Session) -> None:
    for code in ("T1", "T2", "T3", "T4", "T5", "T6"):
        make_project(session, code)
        make_history(session, code, [("start", 3, None, "2025-01-01")])
        _card(session, code)
        _requirement(session, code)
    # T1: open risks and an open review (five things to show).
    _risk(session, "T1")
    reviews.open_review(session=session, actor=TESTER, code="T1")
    # T2 and T3: open risks too; T2 is retired, so T3 comes before it.
    _risk(session, "T2")
    _risk(session, "T3")
    projects.update_project(session=session, actor=TESTER, code="T2", expected_version=projects.get_project(
        session, "T2").version, status="retired")
    # T4: a closed risk does not count as a register to show.
    _risk(session, "T4", status="closed")
    # T5 and T6: the same facets; T6 has a longer history.
    make_history(session, "T6", [("graduation", None, None, "2025-02-01")])
    order = portfolio.telling_order(session)
    assert order[:3] == ["T1", "T3", "T2"]  # T1: 5 things; T3, T2: 4, the active one first
    assert order[3:] == ["T6", "T4", "T5"]  # 3 things each: the longer history, then the code
    # With the same history, the bigger register wins over the code.
    _requirement(session, "T5", number="2")
    assert portfolio.telling_order(session)[3:] == ["T6", "T5", "T4"]
