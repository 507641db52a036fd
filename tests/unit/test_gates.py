"""The pure rules of gated reviews: readiness, gates, overrides, switchback kinds, and the shipped
criteria and ethics template."""

from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain import gates, levels
from mltrl.domain.criteria_default import DEFAULT_CRITERIA
from mltrl.domain.errors import InvalidInput
from mltrl.domain.ethics_default import DEFAULT_ETHICS_TEMPLATE

NOW = datetime(2026, 11, 23, tzinfo=UTC)
CRITERIA = gates.criteria_of([["a", "A.", ""], ["b", "B.", ""], ["c", "C.", ""], ["d", "D.", ""]])


@given(st.dictionaries(st.sampled_from("abcd"), st.integers(0, 100)), st.integers(1, 100))
def test_readiness_is_the_average_with_unscored_as_zero(scored, threshold):
    scores = {k: gates.Score(k, p) for k, p in scored.items()}
    result = gates.readiness(CRITERIA, scores, threshold)
    expected = sum(scored.get(k, 0) for k in "abcd") / 4
    assert result.average == round(expected, 1) and result.ready == (round(expected, 1) >= threshold)
    assert [c.key for c, _ in result.unmet] == [k for k in "abcd" if scored.get(k, 0) < 100]
    assert result.scored == len(scored) and result.total == 4


def test_no_criteria_is_never_ready():
    assert not gates.readiness((), {}, 1).ready


@pytest.mark.parametrize(("raw", "value"), [("80", 80), ("80%", 80), (0, 0), (100, 100), (" 55 % ", 55)])
def test_percent_is_read(raw, value):
    assert gates.parse_percent(raw) == value


@pytest.mark.parametrize("raw", ["101", -1, "12.5", "half", None, True, "nan", "inf", "-inf", "1e400",
                                 float("nan"), float("inf"), "50\x00", [50], b"50"])
def test_bad_percent_names_the_field(raw):
    with pytest.raises(InvalidInput) as refusal:
        gates.parse_percent(raw)
    assert refusal.value.field == "percent" and "0 to 100" in refusal.value.message


@given(st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                 st.integers(0, 100).map(lambda n: f" {n} % ")))
def test_a_percent_is_a_whole_number_0_to_100_or_a_named_refusal(raw):
    try:
        value = gates.parse_percent(raw)
    except InvalidInput as refusal:
        assert refusal.field == "percent" and "0 to 100" in refusal.message
    else:
        assert isinstance(value, int) and 0 <= value <= 100
        assert value == float(str(raw).strip().rstrip("%"))


def R(number, kind, vs="passed", va="passed"):
    return gates.RequirementFacts(number, kind, vs, va)


def test_level_5_gates():
    assert [(g.key, g.refuses) for g in gates.gates_for(5, [])] == [("research-vv", True),
                                                                     ("product-requirements", True)]
    assert all("register is empty" in g.blockers[0] for g in gates.gates_for(5, []))
    only_research = gates.gates_for(5, [R("1", "research"), R("2", "research", va="failed")])
    assert only_research[0].blockers == ("research requirement 2: verification passed, validation failed",)
    assert "no product requirement" in only_research[1].blockers[0]
    only_product = gates.gates_for(5, [R("1", "product", "not started", "not started")])
    assert "no research requirement" in only_product[0].blockers[0] and not only_product[1].refuses
    ok = gates.gates_for(5, [R("1", "research"), R("2", "product", "not started", "not started")])
    assert [g.state for g in ok] == [gates.GateState.PASSED, gates.GateState.PASSED]


def test_level_8_gate_and_the_levels_without_gates():
    (gate,) = gates.gates_for(8, [R("1", "product"), R("2", "product", va="in progress")])
    assert gate.blockers == ("requirement 2: validation in progress",) and gate.refuses
    assert not gates.gates_for(8, [R("1", "product")])[0].refuses
    assert gates.gates_for(8, [])[0].refuses
    assert all(gates.gates_for(level, []) == [] for level in (0, 1, 2, 3, 4, 6, 7, 9))


def test_overrides_apply_the_latest_and_expire():
    blocked = gates.gates_for(8, [])
    old = gates.Override("validation", "first", "ada", NOW - timedelta(days=9), NOW - timedelta(days=1))
    assert gates.with_overrides(blocked, [old], NOW)[0].state is gates.GateState.OVERRIDE_EXPIRED
    live = gates.Override("validation", "renewed", "ada", NOW - timedelta(days=1), None)
    gate = gates.with_overrides(blocked, [live, old], NOW)[0]
    assert gate.state is gates.GateState.OVERRIDDEN and not gate.refuses and gate.override.justification == "renewed"
    passing = gates.gates_for(8, [R("1", "product")])
    assert gates.with_overrides(passing, [live], NOW)[0].state is gates.GateState.PASSED  # a pass stays a pass


@given(st.integers(0, 9), st.integers(0, 9))
def test_a_review_switchback_is_review_unless_embedded(a, b):
    kind = gates.review_switchback_kind(a, b)
    assert kind == (levels.SwitchbackKind.EMBEDDED if (a, b) in levels.EMBEDDED_SWITCHBACKS
                    else levels.SwitchbackKind.REVIEW)


def test_shipped_criteria_cover_every_level_with_unique_keys():
    assert sorted(DEFAULT_CRITERIA) == list(range(10))
    for level, items in DEFAULT_CRITERIA.items():
        keys = [k for k, _, _ in items]
        assert 4 <= len(items) <= 7 and len(set(keys)) == len(keys), level
        assert all(text.strip() and guidance.strip() for _, text, guidance in items)


def test_shipped_ethics_template_has_its_three_parts():
    before, after, positions = (DEFAULT_ETHICS_TEMPLATE[p] for p in ("before", "after", "positions"))
    assert len(before) >= 8 and len(after) >= 11 and len(positions) >= 5
    for part in (before, after):
        keys = [k for k, _, _ in part]
        assert len(set(keys)) == len(keys) and all(q.endswith("?") for _, q, _ in part)


def test_decision_cautions_name_missing_voters_dissent_and_low_readiness():
    low = gates.readiness(CRITERIA, {"a": gates.Score("a", 100), "b": gates.Score("b", 40)}, 80)
    assert gates.decision_cautions("graduate", ["ana", "bo"], {}, low) == [
        "Nobody on the panel has voted yet.",
        "The exit criteria average 35%, under the 80% readiness threshold."]
    assert gates.decision_cautions("graduate", ["ana", "bo"], {"ana": "graduate", "bo": "not yet"}, None) == [
        "1 of 2 votes cast are not “graduate” (bo)."]
    assert gates.decision_cautions("switch back", ["ana", "bo"], {"ana": "graduate"}, low) == [
        "Not voted yet: bo.", "1 of 1 vote cast is not “switch back” (ana)."]
    assert gates.decision_cautions("graduate", ["ana"], {"ana": "graduate"}, gates.readiness((), {}, 80)) == [
        "This level has no exit criteria to score."]
    ready = gates.readiness(CRITERIA, {k: gates.Score(k, 90) for k in "abcd"}, 80)
    assert gates.decision_cautions("graduate", ["ana"], {"ana": "graduate"}, ready) == []
    assert gates.decision_cautions("hold", ["ana"], {"ana": "graduate"}, low) == []  # a hold goes against nobody


@given(st.lists(st.sampled_from(["ana", "bo", "cy", "di"]), unique=True, min_size=1),
       st.dictionaries(st.sampled_from(["ana", "bo", "cy", "di"]), st.sampled_from([v.value for v in gates.Vote])),
       st.sampled_from([d.value for d in gates.Decision]))
def test_a_unanimous_full_panel_on_a_ready_level_raises_no_caution_and_dissent_always_does(panel, votes, decision):
    ready = gates.readiness(CRITERIA, {k: gates.Score(k, 100) for k in "abcd"}, 80)
    cautions = gates.decision_cautions(decision, panel, votes, ready)
    missing = [p for p in panel if p not in votes]
    assert bool(missing) == any("voted yet" in c for c in cautions)
    wanted = {"graduate": "graduate", "switch back": "switch back"}.get(decision)
    dissent = wanted is not None and any(v != wanted for v in votes.values())
    assert dissent == any("cast is not" in c or "cast are not" in c for c in cautions)
    assert len(cautions) == bool(missing) + dissent
