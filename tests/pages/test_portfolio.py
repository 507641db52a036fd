"""The Portfolio page under AppTest: empty database, demo portfolio, filters, opening a project."""

import json


PAGE = "views/portfolio.py"


def _table(at):
    """The portfolio table with the Code links read back as codes."""
    table = at.dataframe[0].value.copy()
    assert table["Code"].str.startswith("project?code=").all()  # each code links to its page
    table["Code"] = table["Code"].str.removeprefix("project?code=")
    return table


def test_empty_database_invites_the_first_technology(open_page):
    at = open_page(PAGE)
    assert at.title[0].value == "Portfolio"
    assert "No technologies yet" in at.info[0].value
    assert len(at.dataframe) == 0


def test_demo_portfolio_lists_every_technology_in_tree_order(open_page, demo_db):
    at = open_page(PAGE)
    table = _table(at)
    assert len(table) == 25
    assert at.metric[0].value == "25"
    codes = list(table["Code"])
    # Components follow their system, indented.
    parent = codes.index("P05.1")
    assert codes[parent + 1: parent + 5] == ["P06.1", "P07.1", "P08.1", "P09.1"]
    row = table[table["Code"] == "P06.1"].iloc[0]
    assert row["Technology"].startswith("└ ")
    recycling = table[table["Code"] == "P05.1"].iloc[0]
    assert (recycling["Level"], recycling["System level"]) == (9, 5)
    not_started = table[table["Code"] == "R21.1"].iloc[0]
    assert not_started["Phase"] == "no level yet"


def test_filters_by_text_phase_status_and_owner(open_page, demo_db):
    at = open_page(PAGE)
    at.text_input(key="pf_text").input("METEOR").run()
    assert list(_table(at)["Code"]) == ["P13.1"]
    assert at.caption[1].value.startswith("Showing 1 of 25")

    at.text_input(key="pf_text").input("").run()
    at.multiselect(key="pf_phase").set_value(["research"]).run()
    assert set(_table(at)["Phase"]) == {"research"}

    at.multiselect(key="pf_phase").set_value([]).run()
    at.multiselect(key="pf_status").set_value(["paused"]).run()
    assert list(_table(at)["Code"]) == ["R19.1"]

    at.multiselect(key="pf_status").set_value([]).run()
    at.multiselect(key="pf_owner").set_value(["Mei Zhao"]).run()
    owners = list(_table(at)["Owners"])
    assert owners and all("Mei Zhao" in o for o in owners)


def test_open_a_technology_links_to_its_project_page(open_page, demo_db):
    at = open_page(PAGE)
    at.selectbox(key="pf_open").set_value("P13.1").run()
    links = [e.proto for e in at.get("page_link") if e.proto.label == "Open P13.1"]
    assert len(links) == 1 and links[0].page.endswith("project") and "code=P13.1" in links[0].query_string
    at.switch_page("views/project.py")
    at.query_params["code"] = "P13.1"
    at.run()
    assert not at.exception
    assert at.title[0].value == "Project"
    assert at.header[0].value == "P13.1 · CAMS meteor identification"


def test_levels_chart_counts_technologies_per_level(open_page, demo_db):
    at = open_page(PAGE)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = spec["data"][0]
    table = _table(at)
    assert sum(bars["y"]) == int(table["Level"].notna().sum())
    assert spec["data"][1]["x"] == ["none"] and spec["data"][1]["y"] == [1]


def test_card_column_shows_which_cards_are_stale(open_page, demo_db):
    table = _table(open_page(PAGE)).set_index("Code")["Card"]
    assert table["P05.1"] == "up to date"
    assert table["P03.1"] == "stale"
    assert table["R21.1"] == "no card"


def test_portfolio_flags_reviews_overdue_and_overridden_gates(open_page, session):
    from mltrl.services import Actor, reviews
    from tests.factories import make_history, make_project

    make_project(session, "P09.1", "Deployed")
    make_history(session, "P09.1", [("start", 9, None, "2026-01-05")])
    make_project(session, "P08.1", "Flight ready")
    make_history(session, "P08.1", [("start", 8, None, "2026-01-05")])
    reviews.override_gate(session=session, actor=Actor("ana"), code="P08.1", level=8, gate="validation",
                          justification="Field trial")
    reviews.open_review(session=session, actor=Actor("ana"), code="P08.1")
    at = open_page("views/portfolio.py")
    table = next(d.value for d in at.dataframe if "Reviews" in d.value.columns)
    notes = dict(zip(table["Code"].str.replace("project?code=", "", regex=False), table["Reviews"]))
    assert notes["P09.1"] == "level 9 review overdue"
    assert notes["P08.1"] == "review open; level 8 gate validation: overridden"
