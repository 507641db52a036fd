"""Risk rules (mltrl.domain.risk): bands, grades, inputs as people type them, requirement numbers,
review cadence. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain import risk
from mltrl.domain.errors import InvalidInput


@given(st.floats(0, 1))
def test_p_band_is_the_fifth_the_probability_falls_in_edges_going_up(p):
    expected = min(5, 1 + int(round(p * 1_000_000)) // 200_000) if p < 1 else 5
    assert risk.p_band(p) == expected


@pytest.mark.parametrize(("p", "band"), [(0, 1), (0.19999, 1), (0.2, 2), (0.4, 3), (0.6, 4), (0.79, 4), (0.8, 5), (1.0, 5)])
def test_p_band_edges_belong_to_the_higher_band(p, band):
    assert risk.p_band(p) == band


@given(st.integers(1, 10))
def test_value_band_pairs_values(value):
    assert risk.value_band(value) == (value + 1) // 2


@given(st.integers(1, 5), st.integers(1, 5))
def test_grades_grow_with_the_cell_score(pb, vb):
    g = risk.grade(pb, vb)
    assert g.max_score >= pb * vb
    lower = [x for x in risk.GRADES if x.max_score < pb * vb]
    assert all(x.review_days >= g.review_days for x in lower)


@pytest.mark.parametrize(("raw", "p"), [("0.3", 0.3), ("30%", 0.3), (" 45 % ", 0.45), (0.25, 0.25), ("1", 1.0), ("0%", 0.0)])
def test_probability_as_people_write_it(raw, p):
    assert risk.parse_probability(raw) == pytest.approx(p)


@pytest.mark.parametrize("raw", ["1.2", "-0.1", "130%", "abc", "", None, "nan", True])
def test_bad_probabilities_name_the_field_and_the_range(raw):
    with pytest.raises(InvalidInput) as refusal:
        risk.parse_probability(raw)
    assert refusal.value.field == "p_failure" and "between 0 and 1" in refusal.value.message


@pytest.mark.parametrize(("raw", "ok"), [("7", 7), (7, 7), ("10", 10), (3.0, 3)])
def test_values(raw, ok):
    assert risk.parse_value(raw) == ok


@pytest.mark.parametrize("raw", ["0", "11", "3.5", "x", "", None])
def test_bad_values(raw):
    with pytest.raises(InvalidInput, match="integer from 1 to 10") as refusal:
        risk.parse_value(raw)
    assert refusal.value.field == "value"


@given(st.lists(st.integers(1, 999), min_size=1, max_size=3), st.lists(st.integers(1, 999), min_size=1, max_size=3))
def test_number_sort_key_orders_numerically(a, b):
    na, nb = ".".join(map(str, a)), ".".join(map(str, b))
    assert (risk.number_sort_key(na) < risk.number_sort_key(nb)) == (a < b)


@pytest.mark.parametrize("raw", ["0", "1.2.3.4", "a", "1.", ".1", "1..2", ""])
def test_malformed_numbers(raw):
    with pytest.raises(InvalidInput, match="n.subset.component"):
        risk.parse_number(raw)


def test_numbers_are_normalised():
    assert risk.parse_number(" 2.010 ") == "2.10"
    assert risk.is_top_level("3") and not risk.is_top_level("3.1")


def test_sql_bands_follow_the_same_edges():
    assert risk.p_band_sql("p") == "CASE WHEN p >= 0.8 THEN 5 WHEN p >= 0.6 THEN 4 WHEN p >= 0.4 THEN 3 WHEN p >= 0.2 THEN 2 ELSE 1 END"
    assert risk.value_band_sql("v").startswith("CASE WHEN v >= 9 THEN 5")


def test_review_cadence_and_overdue():
    last = datetime(2026, 1, 1, tzinfo=UTC)
    assert risk.next_review(last, 0.9, 10) == last + timedelta(days=14)  # critical
    assert risk.next_review(last, 0.1, 1) == last + timedelta(days=90)  # low
    assert risk.next_review(last, 0.9, 10, {"critical": 7}) == last + timedelta(days=7)
    assert risk.overdue(last, 0.9, 10, last + timedelta(days=15))
    assert not risk.overdue(last, 0.1, 1, last + timedelta(days=15))


def test_matrix_cells_are_all_25():
    cells = risk.matrix_cells({(3, 4): 2})
    assert len(cells) == 25 and {"p_band": 3, "value_band": 4, "count": 2} in cells
    assert sum(c["count"] for c in cells) == 2


@given(st.floats(0, 1), st.integers(1, 10))
def test_cell_score_sql_matches_the_rule(p, value):
    import sqlite3

    with sqlite3.connect(":memory:") as conn:
        got = conn.execute(f"SELECT {risk.cell_score_sql('?1', '?2')}", (p, value)).fetchone()[0]
    assert got == risk.cell_score(risk.p_band(p), risk.value_band(value))


def test_grade_score_ranges_cover_every_score_once():
    covered = [s for _, lo, hi in risk.grade_score_ranges() for s in range(lo, hi + 1)]
    assert covered == list(range(1, 26))
    assert all(risk.grade_score_ranges()[k][0] is g for k, g in enumerate(risk.GRADES))


def test_an_acceptance_ending_first_brings_the_review_forward():
    last = datetime(2026, 1, 1, tzinfo=UTC)
    cadence_due = risk.next_review(last, 0.9, 10)  # critical: 14 days
    assert cadence_due == last + timedelta(days=14)
    assert risk.next_review(last, 0.9, 10, accepted_until=last + timedelta(days=3)) == last + timedelta(days=3)
    assert risk.next_review(last, 0.9, 10, accepted_until=last + timedelta(days=60)) == cadence_due
    assert risk.next_review(last, 0.9, 10, {"critical": 5}) == last + timedelta(days=5)
    assert risk.overdue(last, 0.9, 10, last + timedelta(days=4), accepted_until=last + timedelta(days=3))


# --- issue 14: odd numbers are refusals, review states, acceptance ends in files ----------------

ODD = ["inf", "-inf", "Infinity", "1e309", "-1e309", "nan", "NaN", "0x10", "1_0", "1e", "--1", "١", "½", "0.1.2",
       "9" * 5000, "1" * 41, 10**5000, float("inf"), [1], {"p": 1}, b"1"]


@pytest.mark.parametrize("raw", ODD, ids=lambda r: risk.shown(r, 20))
def test_odd_numbers_are_refused_by_name_never_an_overflow(raw):
    for parse, field in ((risk.parse_probability, "p_failure"), (risk.parse_value, "value"),
                         (risk.parse_level, "level")):
        with pytest.raises(InvalidInput) as refusal:
            parse(raw)
        assert refusal.value.field == field and len(refusal.value.message) < 300


def test_minus_zero_is_zero_and_a_level_may_be_empty():
    assert str(risk.parse_probability("-0")) == "0.0" and str(risk.parse_probability(-0.0)) == "0.0"
    assert risk.parse_level("") is None and risk.parse_level(float("nan")) is None and risk.parse_level(4.0) == 4


@given(st.one_of(st.text(max_size=60), st.floats(), st.integers(), st.none(), st.booleans()))
def test_number_parsers_give_a_number_in_range_or_a_refusal(raw):
    for parse, ok in ((risk.parse_probability, lambda p: 0 <= p <= 1), (risk.parse_value, lambda v: 1 <= v <= 10)):
        try:
            got = parse(raw)
        except InvalidInput:
            continue
        assert ok(got)


NOW = datetime(2026, 6, 1, tzinfo=UTC)


@given(st.floats(0, 1), st.integers(1, 10), st.sampled_from(list(risk.RiskStatus)),
       st.integers(-400, 400), st.one_of(st.none(), st.integers(-400, 400)))
def test_review_state_is_the_sql_rule(p, value, status, last_days, until_days):
    """Overdue as the services' SQL says it: not closed, and last review < now - the grade's
    cadence, or (accepted) acceptance end < now."""
    last = NOW + timedelta(days=last_days)
    until = None if until_days is None else NOW + timedelta(days=until_days)
    state = risk.review_state(last_review=last, p=p, value=value, status=status, now=NOW, accepted_until=until)
    cadence = risk.grade_of(p, value).review_days
    sql = status != "closed" and (last < NOW - timedelta(days=cadence)
                                  or (status == "accepted" and until is not None and until < NOW))
    assert state.overdue == sql
    assert state.cadence_days == cadence and state.grade == risk.grade_of(p, value)
    assert (state.next_review is None) == (status == "closed")


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30), timezones=st.just(UTC)))
def test_an_acceptance_end_reads_back_from_its_cell(until):
    assert risk.parse_until(risk.until_cell(until)) == until
    day = until.date()
    assert risk.until_cell(risk.parse_until(day.isoformat())) == day.isoformat()


def test_accepted_until_a_day_means_to_its_end():
    assert risk.parse_until("2027-03-31") == datetime(2027, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    for bad in ["31/03/2027", "2027-02-30", "9999-01-01", "", "\x00"]:
        with pytest.raises(InvalidInput) as refusal:
            risk.parse_until(bad)
        assert refusal.value.field == "accepted_until"
