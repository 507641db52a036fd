"""The level engine (``mltrl.domain.levels``): the ten levels, the move rules, system levels.

Every rule in the module docstring has a table of refused moves (checked by the rule name the
user sees) and a table of accepted ones; hypothesis then throws random histories at the engine.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, UTC

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrl.domain import levels
from mltrl.domain.errors import MltrlError, RuleViolation
from mltrl.domain.levels import (
    EMBEDDED_SWITCHBACKS,
    LEVELS,
    PHASE_LEVELS,
    EventKind,
    LevelState,
    Move,
    Phase,
    SwitchbackKind,
    Transition,
    advance,
    check_move,
    replay,
    state_from_levels,
    system_level,
    system_levels,
)

START, GRAD, SWB = EventKind.START, EventKind.GRADUATION, EventKind.SWITCHBACK
DISC, REV, EMB = SwitchbackKind.DISCOVERY, SwitchbackKind.REVIEW, SwitchbackKind.EMBEDDED

RULES = {
    "level-range", "start-first", "single-start", "same-level", "one-step-up", "top-level",
    "switchback-goes-down", "embedded-pairs", "switchback-kind-required", "chronological",
}

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def state(*visited: int, last: datetime | None = None) -> LevelState:
    """The state of a technology that went through ``visited`` (last one is current)."""
    return state_from_levels(list(visited), last)


# --- refusals, one table per rule ---------------------------------------------------------------

ILLEGAL = [
    # level-range
    pytest.param(state(), Move(START, -1), "level-range", id="start-below-0"),
    pytest.param(state(), Move(START, 10), "level-range", id="start-above-9"),
    pytest.param(state(), Move(START, None), "level-range", id="start-without-level"),
    pytest.param(state(), Move(START, True), "level-range", id="start-at-bool"),
    pytest.param(state(), Move(START, 2.0), "level-range", id="start-at-float"),  # type: ignore[arg-type]
    pytest.param(state(), Move(START, "3"), "level-range", id="start-at-str"),  # type: ignore[arg-type]
    pytest.param(state(5), Move(SWB, -1, DISC), "level-range", id="switchback-below-0"),
    pytest.param(state(5), Move(SWB, None, DISC), "level-range", id="switchback-without-level"),
    pytest.param(state(5), Move(SWB, 11, DISC), "level-range", id="switchback-above-9"),
    pytest.param(state(5), Move(GRAD, 12), "level-range", id="graduate-to-12"),
    # start-first
    pytest.param(state(), Move(GRAD), "start-first", id="graduate-before-start"),
    pytest.param(state(), Move(GRAD, 1), "start-first", id="graduate-to-1-before-start"),
    pytest.param(state(), Move(SWB, 0, DISC), "start-first", id="switchback-before-start"),
    pytest.param(state(), Move(SWB, 2), "start-first", id="embedded-before-start"),
    # single-start
    pytest.param(state(3), Move(START, 3), "single-start", id="restart-same-level"),
    pytest.param(state(3), Move(START, 0), "single-start", id="restart-lower"),
    pytest.param(state(0, 1, 2), Move(START, 7), "single-start", id="restart-higher"),
    # same-level
    pytest.param(state(4), Move(GRAD, 4), "same-level", id="graduate-to-same"),
    pytest.param(state(4), Move(SWB, 4, DISC), "same-level", id="switchback-to-same"),
    pytest.param(state(9), Move(SWB, 9, REV), "same-level", id="switchback-to-same-9"),
    pytest.param(state(0), Move(SWB, 0), "same-level", id="switchback-to-same-0-no-kind"),
    # one-step-up
    pytest.param(state(2), Move(GRAD, 4), "one-step-up", id="graduate-skips-a-level"),
    pytest.param(state(0), Move(GRAD, 9), "one-step-up", id="graduate-0-to-9"),
    pytest.param(state(5), Move(GRAD, 3), "one-step-up", id="graduate-downward"),
    # top-level
    pytest.param(state(9), Move(GRAD), "top-level", id="graduate-from-9"),
    pytest.param(state(8, 9), Move(GRAD), "top-level", id="graduate-from-9-after-8"),
    # switchback-goes-down
    pytest.param(state(3), Move(SWB, 4, DISC), "switchback-goes-down", id="switchback-one-up"),
    pytest.param(state(3), Move(SWB, 8, REV), "switchback-goes-down", id="switchback-far-up"),
    pytest.param(state(2), Move(SWB, 4, EMB), "switchback-goes-down", id="reverse-embedded-2-4"),
    pytest.param(state(0), Move(SWB, 9), "switchback-goes-down", id="switchback-up-no-kind"),
    # embedded-pairs
    pytest.param(state(5), Move(SWB, 2, EMB), "embedded-pairs", id="embedded-5-2"),
    pytest.param(state(9), Move(SWB, 8, EMB), "embedded-pairs", id="embedded-9-8"),
    pytest.param(state(8), Move(SWB, 7, EMB), "embedded-pairs", id="embedded-8-7"),
    pytest.param(state(4), Move(SWB, 1, EMB), "embedded-pairs", id="embedded-4-1"),
    pytest.param(state(4), Move(SWB, 3, EMB), "embedded-pairs", id="embedded-4-3"),
    pytest.param(state(3), Move(GRAD, None, DISC), "embedded-pairs", id="graduation-with-kind"),
    pytest.param(state(), Move(START, 2, REV), "embedded-pairs", id="start-with-kind"),
    # switchback-kind-required
    pytest.param(state(5), Move(SWB, 4), "switchback-kind-required", id="no-kind-5-4"),
    pytest.param(state(9), Move(SWB, 8), "switchback-kind-required", id="no-kind-9-8"),
    pytest.param(state(9), Move(SWB, 0), "switchback-kind-required", id="no-kind-9-0"),
    pytest.param(state(4), Move(SWB, 3), "switchback-kind-required", id="no-kind-4-3"),
    pytest.param(state(8), Move(SWB, 7), "switchback-kind-required", id="no-kind-8-7"),
    pytest.param(state(1), Move(SWB, 0), "switchback-kind-required", id="no-kind-1-0"),
    # chronological
    pytest.param(state(3, last=at(10)), Move(GRAD, at=at(9)), "chronological", id="graduate-a-day-early"),
    pytest.param(state(9, last=at(10)), Move(SWB, 7, at=at(-400)), "chronological", id="embedded-dated-early"),
    pytest.param(state(3, last=at(10)), Move(SWB, 1, DISC, at(10) - timedelta(seconds=1)),
                 "chronological", id="switchback-a-second-early"),
]


@pytest.mark.parametrize(("before", "move", "rule"), ILLEGAL)
def test_an_illegal_move_is_refused_naming_its_rule(before: LevelState, move: Move, rule: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_move(before, move)
    assert refused.value.rule == rule
    assert f"[rule: {rule}]" in str(refused.value)
    assert isinstance(refused.value, MltrlError)


def test_every_rule_in_the_docstring_has_a_refusal_in_the_table() -> None:
    documented = {rule for rule in RULES if f"``{rule}``" in (levels.__doc__ or "")}
    assert documented == RULES
    tested = {p.values[2] for p in ILLEGAL}
    assert tested == RULES


def test_chronological_is_checked_before_any_other_rule() -> None:
    """An out-of-order date is reported as such even if the move is also wrong in other ways."""
    with pytest.raises(RuleViolation) as refused:
        check_move(state(3, last=at(5)), Move(START, 3, at=at(1)))
    assert refused.value.rule == "chronological"


def test_the_refusal_message_names_the_bad_level() -> None:
    with pytest.raises(RuleViolation, match="12"):
        check_move(state(), Move(START, 12))
    with pytest.raises(RuleViolation, match="the next is 3, not 5"):
        check_move(state(2), Move(GRAD, 5))


# --- accepted moves -----------------------------------------------------------------------------

LEGAL = [
    # starts: at any level, once
    *[pytest.param(state(), Move(START, n), Transition(START, None, n, None, None), id=f"start-{n}")
      for n in range(10)],
    # graduations: +1, implied or explicit
    *[pytest.param(state(n), Move(GRAD), Transition(GRAD, n, n + 1, None, None), id=f"graduate-{n}")
      for n in range(9)],
    pytest.param(state(3), Move(GRAD, 4), Transition(GRAD, 3, 4, None, None), id="graduate-explicit-4"),
    pytest.param(state(8), Move(GRAD, 9), Transition(GRAD, 8, 9, None, None), id="graduate-explicit-9"),
    # discovery / review switchbacks to any lower level
    pytest.param(state(3, 4, 5), Move(SWB, 4, DISC), Transition(SWB, 5, 4, DISC, None), id="discovery-5-4"),
    pytest.param(state(0, 1, 2, 3), Move(SWB, 0, REV), Transition(SWB, 3, 0, REV, None), id="review-3-0"),
    pytest.param(state(1), Move(SWB, 0, DISC), Transition(SWB, 1, 0, DISC, None, (
        "The technology never held level 0 before: this switchback takes it to a level it skipped "
        "by starting higher.",)), id="discovery-1-0-never-held"),
    pytest.param(state(7, 8, 9), Move(SWB, 8, REV), Transition(SWB, 9, 8, REV, None), id="review-9-8"),
    # embedded pairs: implied when no kind is given
    pytest.param(state(2, 3, 4), Move(SWB, 2), Transition(SWB, 4, 2, EMB, None), id="implied-4-2"),
    pytest.param(state(4, 5, 6, 7, 8, 9), Move(SWB, 4), Transition(SWB, 9, 4, EMB, None), id="implied-9-4"),
    pytest.param(state(7, 8, 9), Move(SWB, 7), Transition(SWB, 9, 7, EMB, None), id="implied-9-7"),
    # embedded pairs: explicit embedded, or explicit discovery / review
    pytest.param(state(2, 3, 4), Move(SWB, 2, EMB), Transition(SWB, 4, 2, EMB, None), id="explicit-embedded-4-2"),
    pytest.param(state(7, 8, 9), Move(SWB, 7, EMB), Transition(SWB, 9, 7, EMB, None), id="explicit-embedded-9-7"),
    pytest.param(state(2, 3, 4), Move(SWB, 2, DISC), Transition(SWB, 4, 2, DISC, None), id="discovery-on-4-2"),
    pytest.param(state(2, 3, 4), Move(SWB, 2, REV), Transition(SWB, 4, 2, REV, None), id="review-on-4-2"),
    pytest.param(state(4, 5, 6, 7, 8, 9), Move(SWB, 4, DISC), Transition(SWB, 9, 4, DISC, None), id="discovery-on-9-4"),
    pytest.param(state(4, 5, 6, 7, 8, 9), Move(SWB, 4, REV), Transition(SWB, 9, 4, REV, None), id="review-on-9-4"),
    pytest.param(state(7, 8, 9), Move(SWB, 7, DISC), Transition(SWB, 9, 7, DISC, None), id="discovery-on-9-7"),
    pytest.param(state(7, 8, 9), Move(SWB, 7, REV), Transition(SWB, 9, 7, REV, None), id="review-on-9-7"),
    # dates: same instant as the last event is fine, later too
    pytest.param(state(3, last=at(10)), Move(GRAD, at=at(10)), Transition(GRAD, 3, 4, None, at(10)), id="same-instant"),
    pytest.param(state(3, last=at(10)), Move(GRAD, at=at(11)), Transition(GRAD, 3, 4, None, at(11)), id="a-day-later"),
    pytest.param(state(3, last=at(10)), Move(GRAD), Transition(GRAD, 3, 4, None, None), id="undated"),
]


@pytest.mark.parametrize(("before", "move", "expected"), LEGAL)
def test_a_legal_move_gives_the_right_transition(before: LevelState, move: Move, expected: Transition) -> None:
    assert check_move(before, move) == expected


@pytest.mark.parametrize(("from_level", "to_level"), sorted(EMBEDDED_SWITCHBACKS))
def test_the_three_embedded_pairs_are_implied_without_a_kind(from_level: int, to_level: int) -> None:
    transition = check_move(state(*range(to_level, from_level + 1)), Move(SWB, to_level))
    assert transition.switchback_kind is SwitchbackKind.EMBEDDED
    assert (transition.from_level, transition.to_level) == (from_level, to_level)
    assert transition.warnings == ()


def test_embedded_pairs_are_exactly_4_2_9_4_9_7() -> None:
    assert EMBEDDED_SWITCHBACKS == {(4, 2), (9, 4), (9, 7)}
    assert [(a, b) for a in range(10) for b in range(10) if levels.is_embedded(a, b)] == [(4, 2), (9, 4), (9, 7)]


def test_a_switchback_to_a_level_never_held_warns_but_is_allowed() -> None:
    started_at_9 = state(9)
    transition = check_move(started_at_9, Move(SWB, 7))
    assert transition.to_level == 7
    assert transition.switchback_kind is EMB
    assert len(transition.warnings) == 1
    assert "never held level 7" in transition.warnings[0]


def test_a_switchback_to_a_level_once_held_does_not_warn() -> None:
    assert check_move(state(6, 7, 8), Move(SWB, 6, REV)).warnings == ()


def test_a_future_date_warns_only_when_now_is_given() -> None:
    now = at(100)
    future = check_move(state(3, last=at(1)), Move(GRAD, at=at(101)), now=now)
    assert future.to_level == 4
    assert len(future.warnings) == 1 and "future" in future.warnings[0]
    assert "2024-04-11" in future.warnings[0]
    assert check_move(state(3, last=at(1)), Move(GRAD, at=at(101))).warnings == ()
    assert check_move(state(3, last=at(1)), Move(GRAD, at=at(100)), now=now).warnings == ()
    start = check_move(state(), Move(START, 0, at=at(200)), now=now)
    assert len(start.warnings) == 1


def test_future_and_never_held_warnings_add_up() -> None:
    transition = check_move(state(5, last=at(1)), Move(SWB, 3, DISC, at(50)), now=at(10))
    assert len(transition.warnings) == 2


def test_advance_records_the_new_level_held_levels_and_last_date() -> None:
    s = advance(LevelState(), check_move(LevelState(), Move(START, 3, at=at(1))))
    assert (s.current, s.held, s.last_at, s.started) == (3, frozenset({3}), at(1), True)
    s = advance(s, check_move(s, Move(GRAD)))  # undated: last date kept
    assert (s.current, s.held, s.last_at) == (4, frozenset({3, 4}), at(1))
    s = advance(s, check_move(s, Move(SWB, 2, at=at(5))))
    assert (s.current, s.held, s.last_at) == (2, frozenset({2, 3, 4}), at(5))


def test_replay_runs_a_whole_history_and_stops_at_the_first_illegal_move() -> None:
    final, transitions = replay([
        Move(START, 2, at=at(0)), Move(GRAD, at=at(1)), Move(GRAD, at=at(2)), Move(SWB, 2, at=at(3)),
    ])
    assert final.current == 2
    assert [t.kind for t in transitions] == [START, GRAD, GRAD, SWB]
    assert transitions[-1].switchback_kind is EMB
    with pytest.raises(RuleViolation) as refused:
        replay([Move(START, 2), Move(GRAD, 4)])
    assert refused.value.rule == "one-step-up"


def test_state_from_levels() -> None:
    assert state_from_levels([]) == LevelState()
    assert not state_from_levels([]).started
    assert state_from_levels([0, 1, 0], at(3)) == LevelState(0, frozenset({0, 1}), at(3))


# --- the ten levels -----------------------------------------------------------------------------

EXPECTED_PHASES = {
    **dict.fromkeys((0, 1, 2), Phase.RESEARCH),
    **dict.fromkeys((3, 4, 5), Phase.PROTOTYPING),
    **dict.fromkeys((6, 7), Phase.PRODUCTIZATION),
    **dict.fromkeys((8, 9), Phase.DEPLOYMENT),
}


def test_there_are_ten_levels_numbered_0_to_9_in_order() -> None:
    assert [lv.number for lv in LEVELS] == list(range(10))
    assert [levels.level(n) for n in range(10)] == list(LEVELS)


@pytest.mark.parametrize("number", range(10))
def test_each_level_has_its_phase_and_non_empty_texts(number: int) -> None:
    lv = LEVELS[number]
    assert lv.phase is EXPECTED_PHASES[number]
    assert levels.phase_of(number) is EXPECTED_PHASES[number]
    for text in (lv.name, lv.summary, lv.data, lv.review):
        assert isinstance(text, str) and text.strip()
    assert lv.panel and all(p.strip() for p in lv.panel)
    for optional in (lv.decision, lv.code_quality):
        assert optional is None or optional.strip()
    assert lv.label == f"{number} · {lv.name}"


def test_the_level_names_follow_the_framework() -> None:
    assert [lv.name for lv in LEVELS] == [
        "First principles", "Goal-oriented research", "Proof of principle", "System development",
        "Proof of concept", "ML capability", "Application development", "Integrations",
        "Flight-ready", "Deployment",
    ]


def test_phase_levels() -> None:
    assert PHASE_LEVELS == {
        Phase.RESEARCH: (0, 1, 2), Phase.PROTOTYPING: (3, 4, 5),
        Phase.PRODUCTIZATION: (6, 7), Phase.DEPLOYMENT: (8, 9),
    }


@pytest.mark.parametrize("number", [2, 4, 8])
def test_the_decision_levels_state_their_decision(number: int) -> None:
    assert LEVELS[number].decision and LEVELS[number].decision.strip()


@pytest.mark.parametrize("number", [1, 3, 6])
def test_code_quality_is_described_where_it_changes(number: int) -> None:
    assert LEVELS[number].code_quality and LEVELS[number].code_quality.strip()


def test_code_quality_names_research_prototype_and_product_caliber() -> None:
    assert "Research" in LEVELS[1].code_quality
    assert "Prototype" in LEVELS[3].code_quality
    assert "Product" in LEVELS[6].code_quality


@pytest.mark.parametrize("number", [-1, 10, None, "3", 1.0, False])
def test_looking_up_a_level_outside_0_9_is_refused(number: object) -> None:
    with pytest.raises(RuleViolation) as refused:
        levels.level(number)  # type: ignore[arg-type]
    assert refused.value.rule == "level-range"


def test_every_switchback_kind_has_help_text() -> None:
    assert set(levels.SWITCHBACK_KIND_HELP) == set(SwitchbackKind)
    assert all(text.strip() for text in levels.SWITCHBACK_KIND_HELP.values())


# --- system levels ------------------------------------------------------------------------------


def test_system_level_is_the_minimum_over_the_component_tree() -> None:
    parents = {"car": None, "vision": "car", "camera": "vision", "planner": "car", "radio": None}
    lv = {"car": 9, "vision": 6, "camera": 4, "planner": 7, "radio": 2}
    assert system_levels(parents, lv) == {"car": 4, "vision": 4, "camera": 4, "planner": 7, "radio": 2}
    assert system_level("car", parents, lv) == 4
    assert system_level("planner", parents, lv) == 7


def test_a_system_is_never_above_its_own_level() -> None:
    parents = {"s": None, "c": "s"}
    assert system_levels(parents, {"s": 3, "c": 8}) == {"s": 3, "c": 8}


def test_nodes_without_a_level_are_ignored() -> None:
    parents = {"s": None, "a": "s", "b": "s", "a1": "a"}
    assert system_levels(parents, {"a": 5, "a1": None, "b": 7}) == {"s": 5, "a": 5, "b": 7, "a1": None}


def test_no_level_anywhere_in_the_subtree_gives_none() -> None:
    parents = {"s": None, "a": "s", "b": "a"}
    assert system_levels(parents, {}) == {"s": None, "a": None, "b": None}
    assert system_level("s", parents, {"s": None}) is None


def test_a_deep_chain_takes_the_deepest_minimum() -> None:
    n = 5_000  # deeper than Python's recursion limit
    parents = {i: (i - 1 if i else None) for i in range(n)}
    lv = {i: 9 for i in range(n)}
    lv[n - 1] = 1
    result = system_levels(parents, lv)
    assert all(result[i] == 1 for i in range(n))


def test_node_order_in_the_mapping_does_not_matter() -> None:
    parents = {"leaf": "mid", "mid": "root", "root": None}
    assert system_levels(parents, {"leaf": 2, "mid": 6, "root": 8}) == {"leaf": 2, "mid": 2, "root": 2}


def test_an_unknown_parent_makes_a_root() -> None:
    assert system_levels({"a": "ghost"}, {"a": 4}) == {"a": 4}


@pytest.mark.parametrize("parents", [
    {"a": "a"},
    {"a": "b", "b": "a"},
    {"root": None, "x": "root", "a": "c", "b": "a", "c": "b"},
    {"a": "b", "b": "c", "c": "a", "d": "a"},
])
def test_a_parent_loop_raises_value_error(parents: dict) -> None:
    with pytest.raises(ValueError, match="loop"):
        system_levels(parents, {k: 3 for k in parents})


# --- properties ---------------------------------------------------------------------------------

# Weighted so that plenty of moves are accepted, while every rule still gets hit.
KINDS = st.sampled_from([START] + [GRAD] * 4 + [SWB] * 3)
FIRST_KINDS = st.sampled_from([START] * 4 + [GRAD, SWB])
SB_KINDS = st.sampled_from([None, None, DISC, REV, EMB])
TO_LEVELS = st.one_of(st.integers(min_value=0, max_value=9), st.integers(min_value=-2, max_value=11), st.none())


@st.composite
def proposed_moves(draw: st.DrawFn) -> list[Move]:
    """Random moves, many illegal; dates mostly move forward, sometimes back, sometimes missing."""
    n = draw(st.integers(min_value=1, max_value=40))
    when = T0
    moves = []
    for i in range(n):
        kind = draw(FIRST_KINDS if i == 0 else KINDS)
        if kind is GRAD and draw(st.integers(0, 3)):
            to = None  # the usual graduation: to the next level
        elif kind is START and draw(st.integers(0, 3)):
            to = draw(st.integers(min_value=0, max_value=9))
        else:
            to = draw(TO_LEVELS)
        sb = draw(SB_KINDS) if kind is SWB or not draw(st.integers(0, 9)) else None
        if draw(st.integers(0, 9)):
            step = timedelta(days=draw(st.integers(min_value=0, max_value=400)))  # forward or same instant
        else:
            step = -timedelta(hours=draw(st.integers(min_value=1, max_value=24 * 30)))  # backwards
        when = when + step
        dated = draw(st.integers(min_value=0, max_value=9)) > 0
        moves.append(Move(kind, to, sb, when if dated else None))
    return moves


def oracle_accepts(s: LevelState, m: Move) -> bool:
    """The rules, written again from the docstring, as plainly as possible."""
    def is_level(v: object) -> bool:
        return type(v) is int and 0 <= v <= 9

    if m.at is not None and s.last_at is not None and m.at < s.last_at:
        return False
    if m.kind is START:
        return s.current is None and is_level(m.to_level) and m.switchback_kind is None
    if s.current is None:
        return False
    if m.kind is GRAD:
        to = s.current + 1 if m.to_level is None else m.to_level
        return m.switchback_kind is None and to == s.current + 1 and to <= 9
    if not is_level(m.to_level) or m.to_level >= s.current:
        return False
    pair = (s.current, m.to_level)
    if m.switchback_kind in (None, EMB):
        return pair in EMBEDDED_SWITCHBACKS
    return True


def check_history(history: list[Transition]) -> None:
    assert history, "the first accepted move exists"
    assert history[0].kind is START and history[0].from_level is None
    assert sum(t.kind is START for t in history) == 1
    for prev, t in zip(history, history[1:]):
        assert t.from_level == prev.to_level
        if t.kind is GRAD:
            assert t.to_level == t.from_level + 1 and t.switchback_kind is None
        else:
            assert t.kind is SWB
            assert t.to_level < t.from_level
            assert t.switchback_kind is not None
            if t.switchback_kind is EMB:
                assert (t.from_level, t.to_level) in EMBEDDED_SWITCHBACKS
    for t in history:
        assert 0 <= t.to_level <= 9
    dates = [t.at for t in history if t.at is not None]
    assert dates == sorted(dates)


@settings(max_examples=200)
@given(proposed_moves())
def test_any_sequence_of_moves_leaves_a_lawful_history(moves: list[Move]) -> None:
    s = LevelState()
    accepted_moves: list[Move] = []
    history: list[Transition] = []
    for move in moves:
        before = s
        try:
            transition = check_move(s, move)
        except RuleViolation as refused:
            assert refused.rule in RULES
            assert not oracle_accepts(s, move), f"refused a legal move {move} from {s}"
            assert s == before  # a refusal changes nothing
            continue
        assert oracle_accepts(s, move), f"accepted an illegal move {move} from {s}"
        never_held = transition.kind is SWB and transition.to_level not in s.held
        assert bool(transition.warnings) == never_held
        s = advance(s, transition)
        accepted_moves.append(move)
        history.append(transition)
    if history:
        check_history(history)
    final, replayed = replay(accepted_moves)
    assert final == s
    assert final.current == (history[-1].to_level if history else None)
    assert replayed == history
    assert s.held == frozenset(t.to_level for t in history)


@st.composite
def forests(draw: st.DrawFn) -> tuple[dict[int, int | None], dict[int, int | None]]:
    """A random forest (node i's parent is an earlier node, or none) in shuffled order, with levels
    that are set, None, or missing from the mapping."""
    n = draw(st.integers(min_value=1, max_value=40))
    raw = draw(st.lists(st.integers(min_value=0, max_value=10_000), min_size=n, max_size=n))
    drawn_levels = draw(st.lists(st.integers(min_value=-2, max_value=9), min_size=n, max_size=n))
    order = draw(st.permutations(list(range(n))))
    parents = {i: (None if i == 0 or raw[i] % 4 == 0 else raw[i] % i) for i in order}
    lv: dict[int, int | None] = {}
    for i, v in enumerate(drawn_levels):
        if v != -2:  # -2: missing from the mapping altogether
            lv[i] = None if v == -1 else v
    return parents, lv


def brute_force(parents: dict, lv: dict) -> dict:
    def ancestors_or_self(node):
        chain = [node]
        while parents.get(chain[-1]) is not None:
            chain.append(parents[chain[-1]])
        return chain

    result = {}
    for node in parents:
        found = [lv.get(d) for d in parents if node in ancestors_or_self(d)]
        found = [v for v in found if v is not None]
        result[node] = min(found) if found else None
    return result


@settings(max_examples=200)
@given(forests())
def test_system_levels_equal_the_minimum_over_descendants(forest) -> None:
    parents, lv = forest
    assert system_levels(parents, lv) == brute_force(parents, lv)


@settings(max_examples=200)
@given(forests(), st.randoms(use_true_random=False))
def test_system_levels_refuse_any_parent_loop(forest, rnd: random.Random) -> None:
    parents, lv = forest
    node = rnd.choice(list(parents))
    descendants = [d for d in parents if _is_ancestor_or_self(node, d, parents)]
    parents = dict(parents)
    parents[node] = rnd.choice(descendants)  # itself, or one of its own components
    with pytest.raises(ValueError):
        system_levels(parents, lv)


def _is_ancestor_or_self(a, d, parents) -> bool:
    while d is not None:
        if d == a:
            return True
        d = parents.get(d)
    return False
