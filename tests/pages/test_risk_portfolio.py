"""The Risk portfolio page under AppTest: the portfolio matrix with its filters and cell selection,
the highest risks, overdue reviews and risk grown since the last level change."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from mltrl.models import Risk, RiskEvent, utcnow
from mltrl.services import Actor, risks
from tests.factories import day, make_history, make_project

PAGE = "views/risk_portfolio.py"
ANA = Actor("ana")


def _portfolio(session) -> None:
    make_project(session, "R02.1", "Mixed-variable BO")
    make_history(session, "R02.1", [("start", 2, None, "2026-01-05")])
    make_project(session, "P01.1", "Flood model")
    make_history(session, "P01.1", [("start", 7, None, "2026-02-01")])
    for code, title, category, p, value in [("R02.1", "Drift", "data", 0.5, 8), ("R02.1", "Bias", "ethics", 0.9, 10),
                                            ("P01.1", "Outage", "technical", 0.5, 8),
                                            ("P01.1", "Leak", "security & privacy", 0.1, 2)]:
        risks.add_risk(session=session, actor=ANA, code=code, title=title, category=category, p_failure=p, value=value)
    risks.add_requirement(session=session, actor=ANA, code="P01.1", number="1", statement="Serve.", p_failure=0.5,
                          value=8)


def _total(at) -> int:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return sum(int(n) for row in spec["data"][0]["text"] for n in row)


def test_portfolio_matrix_filters_by_phase_level_and_category(open_page, session):
    _portfolio(session)
    at = open_page(PAGE)
    assert _total(at) == 4
    at.multiselect(key="rp_phase").set_value(["productization"]).run()
    assert _total(at) == 2
    at.multiselect(key="rp_category").set_value(["technical"]).run()
    assert _total(at) == 1
    at.multiselect(key="rp_phase").set_value([]).run()
    at.multiselect(key="rp_category").set_value([]).run()
    at.multiselect(key="rp_level").set_value([2]).run()
    assert _total(at) == 2
    at.multiselect(key="rp_level").set_value([]).run()
    at.session_state["rp_what"] = "Both"
    at.run()
    assert _total(at) == 5


def test_selecting_a_portfolio_cell_lists_items_of_every_technology(open_page, session):
    _portfolio(session)
    at = open_page(PAGE)
    at.session_state["rp_matrix"] = {"selection": {"points": [{"x": 4, "y": 3}], "point_indices": [], "box": [],
                                                   "lasso": []}}
    at.run()
    listed = at.dataframe[0].value
    assert sorted(zip(listed["code"], listed["item"])) == [("P01.1", "Outage"), ("R02.1", "Drift")]
    assert "2 item(s)" in " ".join(m.value for m in at.markdown)


def test_highest_overdue_and_grown_tabs(open_page, session):
    _portfolio(session)
    bias = session.exec(select(Risk).where(Risk.title == "Bias")).one()
    bias.last_reviewed_at = utcnow() - timedelta(days=20)  # critical: every 14 days
    session.add(bias)
    for event in session.exec(select(RiskEvent).where(RiskEvent.risk_id != bias.id)):
        event.at = day("2025-12-01")  # these three were there before their level change
        session.add(event)
    session.commit()
    at = open_page(PAGE)
    at.session_state["rp_tab"] = "Highest risks"
    at.run()
    top = at.dataframe[0].value
    assert list(top["title"]) == ["Bias", "Drift", "Outage", "Leak"]
    assert list(top["code"])[0] == "/risks?code=R02.1&tab=Risks"
    at.session_state["rp_tab"] = "Overdue reviews"
    at.run()
    assert at.metric[0].value == "1" and list(at.dataframe[0].value["title"]) == ["Bias"]
    at.session_state["rp_tab"] = "Grown since level change"
    at.run()
    grown = at.dataframe[0].value
    assert list(grown["code"]) == ["/risks?code=R02.1"] and list(grown["growth"]) == [9.0]


def test_an_empty_portfolio_says_so(open_page, session):
    make_project(session, "R02.1", "x")
    at = open_page(PAGE)
    assert not at.get("plotly_chart")  # no empty matrix: a sentence says why
    assert "Nothing to count: no open risk matches these filters." in at.info[0].value
    for tab, words in [("Highest risks", "No open risks"), ("Overdue reviews", "No risk is overdue"),
                       ("Grown since level change", "No technology's open risk grew")]:
        at.session_state["rp_tab"] = tab
        at.run()
        assert words in at.info[0].value
