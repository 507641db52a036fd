"""The Reviews page under AppTest: overview, opening a review, the checklist, votes, ethics
answers, each decision, a blocked gate and its override (valid through a chosen UTC day), and what
each role is offered."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

from sqlmodel import select

from mltrl.domain import days
from mltrl.models import CriterionScore, GateOverride, LevelEvent, Review
from mltrl.services import Actor, level_moves, projects, reviews, risks
from tests.factories import day, make_history, make_project

PAGE = "views/reviews.py"
ANA = Actor("alice")


def _setup(session, level=4, code="R02.1"):
    make_project(session, code, "Mixed-variable BO")
    make_history(session, code, [("start", level, None, "2025-06-02")])
    return code


def _click(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def _review_page(open_page, review_id, **kw):
    return open_page(PAGE, review=str(review_id), **kw)


def test_overview_lists_open_waiting_and_deployed(open_page, session):
    _setup(session)
    _setup(session, 9, "P09.1")
    reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    at = open_page(PAGE)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open reviews"] == "1" and metrics["Waiting for my vote"] == "1"
    assert metrics["Level 9 reviews overdue"] == "1"  # at level 9 since 2025-06-02, every 90 days
    assert list(at.dataframe[0].value["code"]) == ["R02.1"]


def test_open_a_review_from_the_form(open_page, session):
    _setup(session)
    at = open_page(PAGE)
    at.session_state["reviews_tab"] = "Open a review"
    at.run()
    assert "Suggested panel for level 4" in " ".join(c.value for c in at.caption)
    at.multiselect(key="open_panel").set_value(["alice"])
    _click(at, "Open review")
    review = session.exec(select(Review)).one()
    assert at.success[0].value == f"Opened review {review.id} of R02.1 at level 4."
    assert at.session_state["reviews_tab"] == "Review" and at.query_params["review"] in (str(review.id), [str(review.id)])
    assert f"Review {review.id} · R02.1" in " ".join(m.value for m in at.markdown)


def test_checklist_scores_are_saved_all_or_nothing(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["reviews_tab"] = "Checklist"
    at.run()
    grid = next(e for e in at.data_editor if e.key.startswith("self_checklist:"))
    keys = list(grid.value["key"])
    at.session_state[grid.key] = {"edited_rows": {0: {"percent": 100}, 1: {"percent": 150}}, "added_rows": [],
                                  "deleted_rows": []}
    at.run()
    _click(at, "Save checklist")
    assert "nothing was saved" in at.error[0].value and f"criterion {keys[1]}, percent" in at.error[0].value
    assert session.exec(select(CriterionScore)).all() == []
    at.session_state[grid.key] = {"edited_rows": {0: {"percent": 100, "evidence": "https://x.org/e"},
                                                  1: {"percent": 60}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _click(at, "Save checklist")
    assert at.success[0].value == "Saved 2 score(s) of level 4's checklist for R02.1."
    session.expire_all()
    assert {(r.key, r.percent) for r in session.exec(select(CriterionScore))} == {(keys[0], 100), (keys[1], 60)}
    assert "Exit criteria average" in " ".join(m.value for m in at.markdown)


def _text(at) -> str:
    return html.unescape("\n".join(e.value for e in [*at.error, *at.markdown, *at.caption]))


def test_a_checklist_scored_meanwhile_keeps_the_draft_and_applies_it_on_top(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["reviews_tab"] = "Checklist"
    at.run()
    grid = next(e for e in at.data_editor if e.key.startswith("self_checklist:"))
    keys, texts = list(grid.value["key"]), list(grid.value["criterion"])
    # Bob scores the first criterion while Alice scores the first two.
    reviews.score_criterion(session=session, actor=Actor("bob"), code="R02.1", level=4, key=keys[0], percent=40,
                            comment="Half way")
    at.session_state[grid.key] = {"edited_rows": {0: {"percent": 90}, 1: {"percent": 60}}, "added_rows": [],
                                  "deleted_rows": []}
    at.run()
    _click(at, "Save checklist")
    session.expire_all()
    assert [(r.key, r.percent, r.updated_by) for r in session.exec(select(CriterionScore))] == [(keys[0], 40, "bob")]
    text = _text(at)
    assert f"since you opened this grid, criterion “{texts[0][:60]}” was saved for the first time (version 1)" in text
    assert "**bob** created it on" in text
    assert "Done %: (empty) → “40” · your draft: “90”" in text and "Comment: (empty) → “Half way”" in text
    shown = next(e for e in at.data_editor if e.key.startswith("self_checklist:")).value
    assert list(shown["percent"])[:2] == [90, 60] and list(shown["comment"])[0] == "Half way"
    _click(at, "Apply my draft on top of version 1")
    assert at.success[0].value == "Saved 2 score(s) of level 4's checklist for R02.1."
    session.expire_all()
    assert {(r.key, r.percent, r.comment) for r in session.exec(select(CriterionScore))} == {
        (keys[0], 90, "Half way"), (keys[1], 60, "")}


def test_discarding_a_checklist_draft_loads_the_other_score(open_page, session):
    _setup(session)
    at = open_page(PAGE, code="R02.1")
    at.session_state["reviews_tab"] = "Checklist"
    at.run()
    grid = next(e for e in at.data_editor if e.key.startswith("self_checklist:"))
    keys = list(grid.value["key"])
    reviews.score_criterion(session=session, actor=Actor("bob"), code="R02.1", level=4, key=keys[0], percent=40)
    at.session_state[grid.key] = {"edited_rows": {0: {"percent": 90}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _click(at, "Save checklist")
    _click(at, "Discard my draft and load version 1")
    shown = next(e for e in at.data_editor if e.key.startswith("self_checklist:")).value
    assert list(shown["percent"])[0] == 40
    assert next(b for b in at.button if b.label == "Save checklist").disabled  # nothing left to save
    session.expire_all()
    assert [(r.percent, r.version) for r in session.exec(select(CriterionScore))] == [(40, 1)]


def test_vote_then_graduate_and_ask_for_the_debrief(open_page, session):
    _setup(session)
    review = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    at = _review_page(open_page, review.id)
    at.text_area(key="vote_comment").input("Ready.")
    _click(at, "Cast vote")
    assert at.success[0].value == "Vote recorded: alice votes graduate."
    at.radio(key=f"decision:{review.id}:choice").set_value("graduate").run()
    _click(at, "Decide")
    assert at.success[0].value == f"Review {review.id} decided: graduate (level 4 → 5). Now write the stage debrief on the TRL card."
    session.expire_all()
    event = session.exec(select(LevelEvent).where(LevelEvent.review_id == review.id)).one()
    assert (event.from_level, event.to_level) == (4, 5)
    links = [p.label for p in at.get("page_link")]
    assert "Write the stage debrief of level 4 on the TRL card" in links


def test_nothing_is_decided_until_a_decision_is_chosen_and_cautions_are_shown(open_page, session):
    _setup(session)
    review = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice", "bob"])
    at = _review_page(open_page, review.id)
    decide = next(b for b in at.button if b.label == "Decide")
    assert at.radio(key=f"decision:{review.id}:choice").value is None and decide.disabled
    assert "Choose a decision to decide the review." in [c.value for c in at.caption]
    at.radio(key=f"decision:{review.id}:choice").set_value("graduate").run()
    warning = at.warning[0].value
    assert warning.startswith("Before deciding:") and "- Nobody on the panel has voted yet." in warning
    assert "- The exit criteria average 0%, under the 80% readiness threshold." in warning
    assert not next(b for b in at.button if b.label == "Decide").disabled
    # Cautions advise, they do not refuse: the decision still goes through.
    _click(at, "Decide")
    assert at.success[0].value.startswith(f"Review {review.id} decided: graduate")


def test_a_panel_changed_meanwhile_keeps_the_decision_and_the_panel_drafts(open_page, session):
    _setup(session)
    review = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    at = _review_page(open_page, review.id)
    reviews.set_panel(session=session, actor=Actor("bob"), review_id=review.id, expected_version=1,
                      panel=["alice", "bob"])
    # Alice's own panel edit is refused and kept, with who changed it.
    at.multiselect(key=f"panel:{review.id}:panel").set_value(["alice", "cy"]).run()
    _click(at, "Save panel")
    text = _text(at)
    assert "Not saved, to protect someone else's change: review" in text and "(version 1 → 2)" in text
    assert "Panel: “alice” → “alice, bob” · your draft: “alice, cy”" in text
    assert at.multiselect(key=f"panel:{review.id}:panel").value == ["alice", "cy"]
    _click(at, "Discard my draft and load version 2")
    assert at.multiselect(key=f"panel:{review.id}:panel").value == ["alice", "bob"]
    # Her decision, started before Bob's change, is refused the same way and kept.
    at = _review_page(open_page, review.id)
    reviews.set_panel(session=session, actor=Actor("bob"), review_id=review.id, expected_version=2,
                      panel=["alice", "bob", "dee"])
    at.radio(key=f"decision:{review.id}:choice").set_value("pause").run()
    at.text_area(key=f"decision:{review.id}:note").input("Waiting for the data deal.")
    _click(at, "Decide")
    session.expire_all()
    assert session.get(Review, review.id).status == "open"  # nothing decided
    assert "Panel: “alice, bob” → “alice, bob, dee”" in _text(at)
    assert at.radio(key=f"decision:{review.id}:choice").value == "pause"
    assert at.text_area(key=f"decision:{review.id}:note").value == "Waiting for the data deal."
    _click(at, "Apply my draft on top of version 3")
    assert at.success[0].value == f"Review {review.id} decided: pause."
    session.expire_all()
    decided = session.get(Review, review.id)
    assert (decided.decision, decided.decision_note, decided.panel) == ("pause", "Waiting for the data deal.",
                                                                         ["alice", "bob", "dee"])


def test_a_blocked_gate_refuses_and_an_admin_overrides_it(open_page, session, team):
    make_project(session, "P08.1", "Flight ready", actor=Actor("eve"))
    level_moves.record_start(session=session, actor=Actor("eve"), code="P08.1", level=8, at=day("2025-06-02"))
    risks.add_requirement(session=session, actor=Actor("eve"), code="P08.1", number="1", statement="Serve.",
                          p_failure=0.2, value=5, validation_status="in progress")
    review = reviews.open_review(session=session, actor=Actor("eve"), code="P08.1", panel=["ada"])
    at = _review_page(open_page, review.id, signed_in="eve")
    assert "requirement 1: validation in progress" in " ".join(m.value for m in at.markdown)
    assert not [e for e in at.expander if "Override" in e.label]  # editors cannot override
    assert not [r for r in at.radio if r.key == f"decision:{review.id}:choice"]  # nor decide
    at = _review_page(open_page, review.id, signed_in="ada")
    at.radio(key=f"decision:{review.id}:choice").set_value("graduate").run()
    assert "Graduation is blocked by a gate" in at.error[0].value
    _click(at, "Decide")
    refusal = at.error[-1].value
    assert refusal.startswith("Not allowed") and "validation in progress" in refusal and "[rule: gate]" in refusal
    session.expire_all()
    assert projects.get_project(session, "P08.1").level == 8
    at.text_input(key="rg_validation_why").input("Validated in the field trial; record to follow")
    next(b for b in at.button if b.label == "Override").click().run()
    assert at.success[0].value == "Gate overridden: Every requirement has passed validation."
    assert "overridden" in " ".join(m.value for m in at.markdown)
    at.radio(key=f"decision:{review.id}:choice").set_value("graduate").run()
    _click(at, "Decide")
    assert "decided: graduate (level 8 → 9)" in at.success[0].value


def test_hold_with_tasks_switch_back_and_pause(open_page, session):
    _setup(session)
    review = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    at = _review_page(open_page, review.id)
    at.radio(key=f"decision:{review.id}:choice").set_value("hold").run()
    _click(at, "Decide")
    assert "tasks" in at.error[0].value
    at.session_state["decision_tasks"] = {"edited_rows": {}, "deleted_rows": [],
                                          "added_rows": [{"task": "Collect field data", "owner": "alice"}]}
    at.run()
    _click(at, "Decide")
    assert at.success[0].value == f"Review {review.id} decided: hold."
    assert any("Collect field data" in list(d.value.get("task", [])) for d in at.dataframe)
    second = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    at = _review_page(open_page, second.id)
    at.radio(key=f"decision:{second.id}:choice").set_value("switch back").run()
    at.selectbox(key="decision_target").set_value(2).run()
    assert "Recorded as an embedded switchback." in " ".join(c.value for c in at.caption)
    _click(at, "Decide")
    assert "decided: switch back (level 4 → 2)" in at.success[0].value
    third = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    at = _review_page(open_page, third.id)
    at.radio(key=f"decision:{third.id}:choice").set_value("pause").run()
    _click(at, "Decide")
    session.expire_all()
    assert projects.get_project(session, "R02.1").status == "paused"


def test_ethics_answers_are_saved_and_marked_changed(open_page, session):
    _setup(session)
    first = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    key = reviews.ethics_keys(first.ethics)[0]
    reviews.answer_ethics(session=session, actor=ANA, review_id=first.id, answers={key: "Ours."})
    reviews.decide(session=session, actor=ANA, review_id=first.id, expected_version=first.version, decision="hold",
                   tasks=[{"task": "t", "owner": "alice"}])
    second = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    at = _review_page(open_page, second.id)
    at.text_area(key=f"ethics:{second.id}:{key}").input("Shared with a partner now.")
    _click(at, "Save ethics answers")
    assert at.success[0].value == "Saved 1 changed answer(s)."
    assert any("*changed*" in t.label for t in at.text_area)


def test_an_ethics_save_never_puts_back_an_answer_changed_meanwhile(open_page, session):
    _setup(session)
    review = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    first, second = reviews.ethics_keys(review.ethics)[:2]
    at = _review_page(open_page, review.id)
    reviews.answer_ethics(session=session, actor=Actor("bob"), review_id=review.id, answers={first: "Bob's answer."})
    at.text_area(key=f"ethics:{review.id}:{second}").input("Alice's answer.")
    _click(at, "Save ethics answers")
    assert at.success[0].value == "Saved 1 changed answer(s)."
    view = reviews.review_view(session, review.id)
    assert (view.answers[first].answer, view.answers[second].answer) == ("Bob's answer.", "Alice's answer.")
    assert at.text_area(key=f"ethics:{review.id}:{first}").value == "Bob's answer."  # shown after the save


def test_viewers_read_without_forms(open_page, session, team):
    make_project(session, "R02.1", "x", actor=Actor("eve"))
    level_moves.record_start(session=session, actor=Actor("eve"), code="R02.1", level=4, at=day("2025-06-02"))
    review = reviews.open_review(session=session, actor=Actor("eve"), code="R02.1", panel=["eve"])
    at = _review_page(open_page, review.id, signed_in="vic")
    assert [b.label for b in at.button] == ["Sign out"] and not [r for r in at.radio if r.key == "decision"]
    assert "A reviewer or an admin decides the review." in " ".join(c.value for c in at.caption)


def test_counts_are_not_capped_and_an_old_review_opens_by_link(open_page, session, monkeypatch):
    _setup(session)
    first = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    reviews.cancel_review(session=session, actor=ANA, review_id=first.id, reason="wrong panel")
    for n in range(3):
        code = _setup(session, 4, f"R1{n}.1")
        reviews.open_review(session=session, actor=ANA, code=code, panel=["alice"])
    real = reviews.reviews
    monkeypatch.setattr(reviews, "reviews", lambda s, limit=200, **kw: real(s, limit=min(limit, 2), **kw))
    at = open_page(PAGE)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open reviews"] == "3" and metrics["Waiting for my vote"] == "3"
    assert "The newest 2 of 3." in [c.value for c in at.caption]
    at = _review_page(open_page, first.id)
    assert at.selectbox(key="review_pick").value == first.id
    assert f"Review {first.id} · R02.1" in " ".join(m.value for m in at.markdown)


def test_an_override_entered_on_the_page_covers_the_whole_chosen_day(open_page, session, team, monkeypatch):
    make_project(session, "P08.1", "Flight ready", actor=Actor("eve"))
    level_moves.record_start(session=session, actor=Actor("eve"), code="P08.1", level=8, at=day("2025-06-02"))
    risks.add_requirement(session=session, actor=Actor("eve"), code="P08.1", number="1", statement="Serve.",
                          p_failure=0.2, value=5, validation_status="in progress")
    review = reviews.open_review(session=session, actor=Actor("eve"), code="P08.1", panel=["ada"])
    # A present moment whose UTC day is no server's local "today": the page must take its day from
    # mltrl.domain.days, not from date.today().
    monkeypatch.setattr(days, "now", lambda: datetime(2031, 5, 17, 23, 30, tzinfo=UTC))
    at = _review_page(open_page, review.id, signed_in="ada")
    until = at.date_input(key="rg_validation_until")
    assert until.min == date(2031, 5, 17) != date.today()
    through = date(2031, 6, 30)
    until.set_value(through)
    at.text_input(key="rg_validation_why").input("Validated in the field trial")
    next(b for b in at.button if b.label == "Override").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "Gate overridden: Every requirement has passed validation."
    session.expire_all()
    row = session.exec(select(GateOverride)).one()
    assert days.as_utc(row.expires_at) == days.day_end(through)  # not 23:59: the day's last minute counts
    assert any(f"valid through {through.isoformat()}" in c.value for c in at.caption)
    project = projects.get_project(session, "P08.1")

    def state(now):
        return next(g for g in reviews.gates_of(session, project, 8, now) if g.key == "validation").state.value

    assert state(days.last_instant(through)) == "overridden"
    assert state(days.day_end(through)) == "override expired"


def test_a_link_to_no_review_number_opens_the_newest_review(open_page, session):
    _setup(session)
    review = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    for asked in ("99999999999999999999999", "²", "١٢", "-1", "abc", "9" * 5000, " ", "0"):
        at = _review_page(open_page, asked)
        assert at.selectbox(key="review_pick").value == review.id, asked
        assert f"Review {review.id} · R02.1" in " ".join(m.value for m in at.markdown)


def test_a_criterion_scored_from_evidence_shows_its_record_and_is_not_in_the_hand_grid(open_page, session):
    """Level 4's applied metrics are scored from evidence: the hand grid leaves them out, each hand
    criterion shows its latest evidence, and a table says which record scored what, with the
    team's own score kept apart."""
    _setup(session)
    reviews.score_criterion(session=session, actor=ANA, code="R02.1", level=4, key="applied-metrics", percent=60)
    reviews.add_evidence(session=session, actor=Actor("alice", via="token ci"), code="R02.1", level=4,
                         criterion="applied-metrics", kind="test-report", status="fail", source="GitHub Actions",
                         title="Evaluation: 39 passed, 1 failed", url="https://ci.example.org/runs/4907")
    reviews.add_evidence(session=session, actor=ANA, code="R02.1", level=4, criterion="real-data", kind="document",
                         status="info", title="Data sheet of the plant data")
    at = open_page(PAGE, code="R02.1")
    at.session_state["reviews_tab"] = "Checklist"
    at.run()
    grid = next(e for e in at.data_editor if e.key.startswith("self_checklist:"))
    assert "applied-metrics" not in list(grid.value["key"])
    latest = dict(zip(grid.value["key"], grid.value["latest"]))
    assert latest["real-data"].startswith("info · Data sheet of the plant data · ")
    assert latest["go-decision"] == "—"
    table = next(d.value for d in at.dataframe if "own" in d.value.columns)  # the scores from evidence
    row = table.iloc[0]
    assert (row["percent"], row["status"], row["record"], row["source"], row["own"]) == (
        0, "fail", "Evaluation: 39 passed, 1 failed", "GitHub Actions", 60)
    assert "Scored from evidence" in " ".join(m.value for m in at.markdown)
    assert "0 of 7 scored" not in _text(at) and "1 of 7 scored." in _text(at)  # the 0% from evidence counts


def test_a_decided_review_says_which_scores_came_from_evidence(open_page, session):
    _setup(session)
    review = reviews.open_review(session=session, actor=ANA, code="R02.1", panel=["alice"])
    reviews.add_evidence(session=session, actor=ANA, code="R02.1", level=4, criterion="applied-metrics",
                         kind="test-report", status="pass", title="Evaluation passed", source="GitLab CI")
    reviews.score_criterion(session=session, actor=ANA, code="R02.1", level=4, key="applied-metrics", percent=30)
    reviews.decide(session=session, actor=ANA, review_id=review.id, expected_version=review.version, decision="hold",
                   tasks=[{"task": "More data", "owner": "alice"}])
    at = _review_page(open_page, review.id)
    table = next(d.value for d in at.dataframe if "source" in d.value.columns)  # the decided scores
    assert dict(zip(table["criterion"].str[:7], table["source"]))["Results"] == "evidence"
    assert "**applied-metrics**: 100% from pass evidence “Evaluation passed” (GitLab CI, " in _text(at)
    assert "the team's own score was 30%" in _text(at)
