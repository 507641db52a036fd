"""The organisation settings' rules: ranges, names in refusals, and shorter cadences for higher risk."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain import policy
from mltrl.domain import risk as rules
from mltrl.domain.errors import InvalidInput


def test_defaults_round_trip_through_a_policy():
    values = policy.defaults(45)
    assert policy.check(values, 45) == values
    assert policy.Policy.from_values(values).values() == values
    assert policy.Policy.from_values(values).card_stale_days == 45
    assert [s.key for s in policy.specs()] == [f"risk_review_days.{g.name}" for g in rules.GRADES] + [
        "card_stale_days", "review_ready_threshold", "deployed_review_days", "evidence_stale_days",
        "session_idle_hours", "session_lifetime_days"]


@given(st.integers(1, 720), st.integers(1, 365))
def test_the_idle_timeout_is_accepted_exactly_when_it_fits_in_the_sign_in_lifetime(idle_hours, lifetime_days):
    values = policy.defaults() | {"session_idle_hours": idle_hours, "session_lifetime_days": lifetime_days}
    if idle_hours <= lifetime_days * 24:
        assert policy.check(values)["session_idle_hours"] == idle_hours
    else:
        with pytest.raises(InvalidInput, match="longer than the sign-in lifetime") as refused:
            policy.check(values)
        assert refused.value.field == "session_idle_hours"


@given(st.lists(st.integers(1, 730), min_size=len(rules.GRADES), max_size=len(rules.GRADES)))
def test_cadences_are_accepted_exactly_when_higher_grades_are_reviewed_at_least_as_often(days):
    values = policy.defaults() | {f"risk_review_days.{g.name}": d for g, d in zip(rules.GRADES, days)}
    ordered = all(a >= b for a, b in zip(days, days[1:]))
    if ordered:
        assert policy.check(values) == values
    else:
        with pytest.raises(InvalidInput, match="a higher risk is reviewed at least as often"):
            policy.check(values)


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"card_stale_days": 0}, "card_stale_days", "outside 1-3650 days"),
    ({"card_stale_days": "2.5"}, "card_stale_days", "not a whole number"),
    ({"card_stale_days": True}, "card_stale_days", "not a whole number"),
    ({"risk_review_days.low": 731}, "risk_review_days.low", "outside 1-730"),
    ({"risk_review_days.critical": 61}, "risk_review_days.critical", "longer than the high cadence"),
    ({"nonsense": 1}, "nonsense", "not a setting"),
    ({"session_idle_hours": 0}, "session_idle_hours", "outside 1-720 hours"),
    ({"session_lifetime_days": 366}, "session_lifetime_days", "outside 1-365 days"),
])
def test_refusals_name_the_setting(changes, field, words):
    with pytest.raises(InvalidInput) as refusal:
        policy.check(policy.defaults() | changes)
    assert refusal.value.field == field and words in refusal.value.message


def test_numbers_typed_as_text_are_read():
    assert policy.check(policy.defaults() | {"card_stale_days": " 30 "})["card_stale_days"] == 30
