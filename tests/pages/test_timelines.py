"""The Timelines page under AppTest: each tab draws what it should (checked in the plotly spec):
a technology's steps with its kinds, reviews and a fork's inherited past, a selected event's
details; a system's lines under the system level (the minimum, recomputed here by brute force);
the portfolio's swimlanes in each sort order, filtered, paginated, and a lane opening its
technology's timeline."""

from __future__ import annotations

import json

from mltrl.services import Actor, level_moves, projects, reviews
from tests import demo_files
from tests.factories import day, make_history, make_project

PAGE = "views/timelines.py"
ANA = Actor("alice")


def chart(at, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def traces(spec: dict) -> dict[str, dict]:
    return {t.get("name"): t for t in spec["data"]}


def select_point(at, key: str, customdata: list) -> None:
    at.session_state[key] = {"selection": {"points": [{"customdata": customdata}], "point_indices": [0],
                                           "box": [], "lasso": []}}
    at.run()
    assert not at.exception, at.exception


def texts(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info])


def _click(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def _moving(session) -> int:
    """R02.1 with every kind of move; its last graduation decided at a gated review (its id returned)."""
    make_project(session, "R02.1", "Mixed-variable BO", owners=["Ana Ruiz"])
    make_history(session, "R02.1", [
        ("start", 2, None, "2024-01-08"), ("graduation", None, None, "2024-03-04"),
        ("graduation", None, None, "2024-06-03"), ("switchback", 2, "embedded", "2024-09-02"),
        ("graduation", None, None, "2024-11-04"), ("switchback", 2, "discovery", "2025-01-06"),
        ("graduation", None, None, "2025-03-03"), ("graduation", None, None, "2025-05-05"),
        ("switchback", 3, "review", "2025-07-07"), ("graduation", None, None, "2025-09-01"),
    ])
    review = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    reviews.decide(session=session, actor=ANA, review_id=review.id, expected_version=review.version,
                   decision="graduate", note="Works on real data", at=day("2025-10-06"))
    return review.id


# --- technology ---------------------------------------------------------------------------------


def test_technology_tab_draws_each_kind_and_the_review_in_the_hover(open_page, session):
    review_id = _moving(session)
    at = open_page(PAGE, code="R02.1")
    assert at.selectbox(key="tl_code").value == "R02.1"
    spec = chart(at)
    by_name = traces(spec)
    assert {"Level", "Start", "Graduation", "Switchback: discovery", "Switchback: review", "Switchback: embedded",
            "Decided at a gated review"} <= set(by_name)
    assert by_name["Level"]["line"]["shape"] == "hv"
    assert by_name["Level"]["y"] == [2, 3, 4, 2, 3, 2, 3, 4, 3, 4, 5, 5]
    symbols = {by_name[f"Switchback: {k}"]["marker"]["symbol"] for k in ("discovery", "review", "embedded")}
    assert len(symbols) == 3
    graduations = by_name["Graduation"]["customdata"]
    assert graduations[-1][2] == f"<br>review #{review_id}" and graduations[-1][4] == review_id
    assert all(c[2] == "<br>recorded without a review" for c in graduations[:-1])
    assert "Works on real data" in graduations[-1][1]
    history = at.dataframe[0].value
    assert history["Review"].iloc[0] == f"reviews?review={review_id}" and history["Review"].iloc[1:].isna().all()
    assert "Whose" not in history and history["Kind"].iloc[2] == "Switchback: review"
    summary = next(m.value for m in at.markdown if "level events" in m.value)
    assert summary.startswith("**11 level events**: 7 graduations, 3 switchbacks (")
    assert all(f"1 {kind}" in summary for kind in ("embedded", "discovery", "review"))
    assert summary.endswith("1 decided at a gated review, 10 recorded without one.")


def test_clicking_a_marker_shows_the_event_and_opens_its_review(open_page, session):
    review_id = _moving(session)
    events = level_moves.history(session, "R02.1")
    decided = next(e for e in events if e.review_id == review_id)
    at = open_page(PAGE, code="R02.1")
    select_point(at, "tl_chart", ["4", "", f"<br>review #{review_id}", decided.id, review_id, "R02.1"])
    assert "2025-10-06 · Graduation: 4 → 5" in texts(at) and "Works on real data" in texts(at)
    links = [(p.proto.label, p.proto.query_string) for p in at.get("page_link")]
    markdown_links = [m.value for m in at.markdown if "reviews?review=" in m.value]
    assert (f"Open review #{review_id}, which decided this move", f"review={review_id}") in links or markdown_links
    switchback = next(e for e in events if e.switchback_kind == "discovery")
    select_point(at, "tl_chart", ["3", "", "<br>recorded without a review", switchback.id, None, "R02.1"])
    assert "Switchback: discovery: 3 → 2" in texts(at) and "recorded without a review" in texts(at)
    assert not [p for p in at.get("page_link") if "review" in p.proto.label.lower()]


def test_a_fork_shows_its_parents_past_dashed_and_can_open_it(open_page, session):
    _moving(session)
    reviews.fork(session=session, actor=ANA, code="R02.1", new_code="R02.2", name="Applied branch",
                 at=day("2025-11-03"))
    make_history(session, "R02.2", [("switchback", 4, "discovery", "2026-01-05")])
    at = open_page(PAGE, code="R02.2")
    assert "forked from **R02.1** on 2025-11-03" in at.info[0].value
    by_name = traces(chart(at))
    past = by_name["R02.1's past (before the fork)"]
    assert past["line"]["dash"] == "dash" and past["y"][-1] == 5 and past["x"][-1].startswith("2025-11-03")
    inherited = by_name["R02.1's events"]
    assert len(inherited["customdata"]) == 11 and {c[5] for c in inherited["customdata"]} == {"R02.1"}
    assert by_name["Level"]["y"] == [5, 4, 4]  # its own line starts at the fork
    history = at.dataframe[0].value
    assert list(history["Whose"]) == ["R02.2"] * 2 + ["R02.1 (before the fork)"] * 11
    first = level_moves.history(session, "R02.1")[0]
    select_point(at, "tl_chart", ["—", "", "<br>recorded without a review", first.id, None, "R02.1"])
    assert "From R02.1's history, before R02.2 was forked from it." in texts(at)
    _click(at, "Open R02.1's timeline")
    assert at.selectbox(key="tl_code").value == "R02.1"
    assert "R02.1's past (before the fork)" not in traces(chart(at))


def test_a_technology_without_history_says_so(open_page, session):
    make_project(session, "R09.1", "Not started")
    at = open_page(PAGE, code="R09.1")
    assert [i.value for i in at.info] == ["R09.1 has no level history yet: record its start on the Project page."]
    assert not at.get("plotly_chart")  # no empty axes


# --- system -------------------------------------------------------------------------------------


def brute_force_system_levels(session, codes: list[str]) -> list[tuple[str, int]]:
    """(date, system level) after every moment a technology of the tree moved: the minimum of the
    latest levels of those that have started, recomputed from each one's raw history."""
    events = [(e.at, e.id, code, e.to_level) for code in codes for e in level_moves.history(session, code)]
    events.sort()
    current: dict[str, int] = {}
    out: list[tuple[str, int]] = []
    for k, (at, _, code, level) in enumerate(events):
        current[code] = level
        if k + 1 < len(events) and events[k + 1][0] == at:
            continue
        out.append((at.date().isoformat(), min(current.values())))
    return out


def test_demo_system_draws_each_component_under_the_system_minimum(open_page, demo_db, session):
    at = open_page(PAGE, code="P06.1", tab="System")  # a component: its system is chosen
    assert at.selectbox(key="tl_system").value == "P05.1"
    by_name = traces(chart(at))
    assert [n for n in by_name if n.startswith("P0")] == ["P05.1 (system)", "P06.1", "P07.1", "P08.1", "P09.1"]
    system = by_name["System level (minimum)"]
    assert system["line"]["width"] > by_name["P06.1"]["line"]["width"]
    expected = brute_force_system_levels(session, ["P05.1", "P06.1", "P07.1", "P08.1", "P09.1"])
    drawn = list(zip([x[:10] for x in system["x"][:-1]], system["y"][:-1]))
    # The chart keeps the moments where the level or its holders changed: each drawn point is the
    # brute force's value at that moment, and between them the brute force's value does not move.
    brute = dict(expected)
    assert drawn[0][0] == expected[0][0]
    assert all(brute[d] == y for d, y in drawn)
    for (d0, y0), (d1, _) in zip(drawn, drawn[1:] + [("9999", None)]):
        assert {y for d, y in expected if d0 <= d < d1} == {y0}
    assert system["y"][-1] == 5 and system["customdata"][-1] == "P08.1"
    assert "held down by **P08.1**" in texts(at)
    kinds = {n for n in by_name if n.startswith("Switchback")}
    assert kinds == {"Switchback: discovery", "Switchback: embedded"}
    members = at.dataframe[0].value
    assert list(members["Level"]) == [9, 6, 8, 5, 7] and list(members["Switchbacks"]) == [1, 2, 1, 1, 0]


def test_a_technology_without_components_is_its_own_system(open_page, demo_db):
    at = open_page(PAGE, code="P03.1", tab="System")
    assert at.selectbox(key="tl_system").value == "P03.1"
    by_name = traces(chart(at))
    assert by_name["System level (minimum)"]["y"] == [5, 6, 7, 6, 7, 7]
    assert "P03.1 has no components" in texts(at)
    assert "Switchback: review" in by_name


def test_selecting_a_components_switchback_shows_it(open_page, demo_db, session):
    at = open_page(PAGE, code="P05.1", tab="System")
    event = next(e for e in level_moves.history(session, "P06.1") if e.switchback_kind == "discovery")
    select_point(at, "tl_system_chart", ["7", "", "<br>recorded without a review", event.id, None, "P06.1", 4])
    placed = next(at for at, step in demo_files.events("P06.1") if step.get("switchback_kind") == "discovery")
    assert f"P06.1 · {placed:%Y-%m-%d} · Switchback: discovery: 7 → 4" in texts(at) and event.note in texts(at)
    _click(at, "Open P06.1's timeline")
    assert at.session_state["tl_tab"] == "Technology" and at.selectbox(key="tl_code").value == "P06.1"


# --- portfolio ----------------------------------------------------------------------------------


def _portfolio(session) -> None:
    """Five technologies: levels, switchbacks, phases, owners and a status to sort and filter by."""
    make_project(session, "A", "Alpha vision", owners=["Kim"])
    make_history(session, "A", [("start", 5, None, "2024-01-01")])
    make_project(session, "B", "Beta ranker", owners=["Lee"])
    make_history(session, "B", [("start", 7, None, "2024-02-01"), ("switchback", 6, "review", "2024-05-01"),
                                ("graduation", None, None, "2024-08-01")])
    make_project(session, "C", "Gamma speech", owners=["Kim"], status="paused")
    make_history(session, "C", [("start", 2, None, "2024-03-01"), ("switchback", 1, "discovery", "2024-04-01"),
                                ("graduation", None, None, "2024-05-01"), ("switchback", 0, "discovery", "2024-06-01")])
    make_project(session, "D", "Delta part", parent_code="B", owners=["Lee"])
    make_history(session, "D", [("start", 9, None, "2024-01-15"), ("switchback", 7, "embedded", "2024-09-02")])
    make_project(session, "E", "Epsilon idea")


def lanes(at) -> list[str]:
    return [label.split(" · ")[0] for label in chart(at)["layout"]["yaxis"]["categoryarray"]]


def test_swimlanes_in_each_sort_order(open_page, session):
    _portfolio(session)
    at = open_page(PAGE, tab="Portfolio")
    assert lanes(at) == ["B", "D", "A", "C", "E"]  # by level: 7, 7, 5, 0, then not started
    spec = chart(at)
    names = [t["name"] for t in spec["data"]]
    assert names[:7] == ["Research", "Prototyping", "Productization", "Deployment", "Switchback: discovery",
                         "Switchback: review", "Switchback: embedded"]
    assert [t["type"] for t in spec["data"][:4]] == ["bar"] * 4
    marks = traces(spec)
    assert [c[0] for c in marks["Switchback: discovery"]["customdata"]] == ["C", "C"]
    assert marks["Switchback: review"]["customdata"][0][4] == "<br>recorded without a review"
    assert spec["layout"]["height"] == 5 * 26 + 150
    for by, order in [("phase", ["C", "A", "B", "D", "E"]), ("switchbacks", ["C", "B", "D", "A", "E"]),
                      ("code", ["A", "B", "D", "C", "E"]), ("level", ["B", "D", "A", "C", "E"])]:
        at.session_state["tl_sort"] = by
        at.run()
        assert lanes(at) == order, by
    at.toggle(key="tl_reverse").set_value(True).run()
    assert lanes(at) == ["C", "A", "D", "B", "E"]


def test_swimlanes_filters(open_page, session):
    _portfolio(session)
    at = open_page(PAGE, tab="Portfolio")
    at.multiselect(key="tl_phase").set_value(["productization"]).run()
    assert lanes(at) == ["B", "D"]
    at.toggle(key="tl_components").set_value(False).run()
    assert lanes(at) == ["B"]
    at.toggle(key="tl_components").set_value(True)
    at.multiselect(key="tl_phase").set_value([]).run()
    at.multiselect(key="tl_owner").set_value(["Kim"]).run()
    assert lanes(at) == ["A", "C"]
    at.multiselect(key="tl_status").set_value(["paused"]).run()
    assert lanes(at) == ["C"]
    at.multiselect(key="tl_owner").set_value([])
    at.multiselect(key="tl_status").set_value([])
    at.text_input(key="tl_text").input("ranker").run()
    assert lanes(at) == ["B"]
    at.text_input(key="tl_text").input("nothing like this").run()
    assert "No technology matches the filters." in at.info[0].value


def test_swimlanes_paginate_above_sixty_lanes(open_page, session):
    for k in range(65):
        projects.add_project(session=session, actor=ANA, code=f"T{k:03}", name=f"Tech {k}")
    make_history(session, "T064", [("start", 3, None, "2025-01-06")])
    at = open_page(PAGE, tab="Portfolio")
    shown = lanes(at)
    assert len(shown) == 60 and shown[0] == "T064"  # the one with a level first
    assert chart(at)["layout"]["height"] == 60 * 26 + 150
    assert "Lanes 1-60 of 65" in texts(at)
    at.selectbox(key="tl_page").set_value(2).run()
    assert lanes(at) == ["T059", "T060", "T061", "T062", "T063"]


def test_selecting_a_lane_opens_its_timeline(open_page, session):
    _portfolio(session)
    at = open_page(PAGE, tab="Portfolio")
    select_point(at, "tl_lanes", ["C", 0, "First principles", "2024-06-01", "today", 100])
    assert "**C · Gamma speech**: level 0 (First principles), 2 switchbacks." in texts(at)
    _click(at, "Open C's timeline")
    assert at.session_state["tl_tab"] == "Technology" and at.selectbox(key="tl_code").value == "C"
    assert "Switchback: discovery" in traces(chart(at))


def test_an_empty_portfolio(open_page):
    at = open_page(PAGE)
    assert "No technologies yet" in at.info[0].value
