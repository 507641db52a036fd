"""Quarters and the checks of OKR input (``mltrl.domain.okr``): tables of what is read and refused, then
hypothesis over the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrl.domain.errors import InvalidInput
from mltrl.domain.okr import (
    Quarter,
    move_due,
    parse_confidence,
    parse_day,
    parse_quarter,
    parse_target_level,
    quarter_of,
)

quarters = st.builds(Quarter, st.integers(2000, 2100), st.integers(1, 4))
# every day whose quarter is in range
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "year", "number"), [
    ("2027-Q1", 2027, 1), ("2027-q4", 2027, 4), ("  2030-Q2 \n", 2030, 2), ("2000-Q1", 2000, 1),
    ("2100-Q4", 2100, 4),
])
def test_quarters_are_read(text: str, year: int, number: int) -> None:
    quarter = parse_quarter(text)
    assert (quarter.year, quarter.number) == (year, number)
    assert str(quarter) == f"{year}-Q{number}"


@pytest.mark.parametrize("text", [
    "Q1-2027", "2027Q1", "2027-Q5", "2027-Q0", "2027 - Q1", "27-Q1", "2027-1", "2027-Q1x", "", "   ",
    "2027-Ｑ1", "２０２７-Q1", None, 20271,
])
def test_anything_else_is_refused_naming_the_field_and_the_form(text: object) -> None:
    with pytest.raises(InvalidInput) as refusal:
        parse_quarter(text)
    assert refusal.value.field == "quarter"
    assert str(refusal.value) == f"quarter: {text!r} is not a quarter; write it as YYYY-Qn, e.g. 2027-Q1"


def test_the_message_names_the_field_asked_for() -> None:
    with pytest.raises(InvalidInput, match=r"^to: 'Q1-2027' is not a quarter; write it as YYYY-Qn") as refusal:
        parse_quarter("Q1-2027", field="to")
    assert refusal.value.field == "to"


@pytest.mark.parametrize("text", ["1999-Q4", "2101-Q1", "0000-Q1", "9999-Q2"])
def test_years_outside_2000_2100_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="outside the years 2000-2100") as refusal:
        parse_quarter(text)
    assert refusal.value.field == "quarter"


def test_a_quarter_cannot_be_built_out_of_range() -> None:
    for year, number in [(2027, 0), (2027, 5), (1999, 1), (2101, 1), (True, 1), (2027, 1.0)]:
        with pytest.raises(InvalidInput):
            Quarter(year, number)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="2101 is outside"):
        Quarter(2100, 4).next()
    with pytest.raises(InvalidInput, match="1999 is outside"):
        Quarter(2000, 1).previous()


def test_a_quarter_passes_through_parse() -> None:
    quarter = Quarter(2027, 3)
    assert parse_quarter(quarter) is quarter


# --- the calendar -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "start", "end", "length"), [
    ("2027-Q1", date(2027, 1, 1), date(2027, 3, 31), 90),
    ("2028-Q1", date(2028, 1, 1), date(2028, 3, 31), 91),  # leap year
    ("2027-Q2", date(2027, 4, 1), date(2027, 6, 30), 91),
    ("2027-Q3", date(2027, 7, 1), date(2027, 9, 30), 92),
    ("2027-Q4", date(2027, 10, 1), date(2027, 12, 31), 92),
    ("2100-Q1", date(2100, 1, 1), date(2100, 3, 31), 90),  # 2100 is not a leap year
])
def test_first_and_last_days(text: str, start: date, end: date, length: int) -> None:
    quarter = parse_quarter(text)
    assert (quarter.start, quarter.end, quarter.length) == (start, end, length)
    assert quarter.days()[0] == start and quarter.days()[-1] == end and len(quarter.days()) == length


def test_next_and_previous_cross_years() -> None:
    assert str(parse_quarter("2027-Q4").next()) == "2028-Q1"
    assert str(parse_quarter("2028-Q1").previous()) == "2027-Q4"
    assert str(parse_quarter("2027-Q2").next()) == "2027-Q3"


def test_quarter_of_dates_and_date_times() -> None:
    assert quarter_of(date(2027, 3, 31)) == Quarter(2027, 1)
    assert quarter_of(date(2027, 4, 1)) == Quarter(2027, 2)
    # an aware date-time is read in UTC: 1 April 01:00 in Berlin is still 31 March in UTC
    assert quarter_of(datetime(2027, 4, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))) == Quarter(2027, 1)
    assert quarter_of(datetime(2027, 4, 1, 0, 0, tzinfo=UTC)) == Quarter(2027, 2)
    assert date(2027, 2, 14) in Quarter(2027, 1) and date(2027, 4, 1) not in Quarter(2027, 1)


def test_quarters_sort_in_time_and_so_do_their_strings() -> None:
    texts = ["2028-Q1", "2027-Q4", "2027-Q1", "2100-Q2", "2000-Q3"]
    assert [str(q) for q in sorted(parse_quarter(t) for t in texts)] == sorted(texts)


# --- moving a due date into another quarter ----------------------------------------------------


@pytest.mark.parametrize(("due", "source", "target", "moved"), [
    (date(2027, 3, 31), "2027-Q1", "2027-Q2", date(2027, 6, 30)),  # the last day stays the last day
    (date(2027, 6, 30), "2027-Q2", "2027-Q3", date(2027, 9, 30)),  # not 29 September
    (date(2027, 2, 15), "2027-Q1", "2027-Q2", date(2027, 5, 16)),  # 45 days after the first day
    (date(2027, 1, 1), "2027-Q1", "2027-Q2", date(2027, 4, 1)),
    (date(2027, 9, 29), "2027-Q3", "2027-Q4", date(2027, 12, 30)),
    (date(2027, 12, 30), "2027-Q4", "2028-Q1", date(2028, 3, 31)),  # day 91 of 92, clamped into a 91-day quarter
    (date(2027, 12, 30), "2027-Q4", "2029-Q1", date(2029, 3, 31)),  # and into a 90-day one
    (date(2027, 5, 10), "2027-Q1", "2027-Q2", date(2027, 6, 30)),  # a due after its quarter: clamped
    (date(2026, 12, 1), "2027-Q1", "2027-Q2", date(2027, 4, 1)),  # a due before its quarter: clamped
    (date(2027, 5, 16), "2027-Q2", "2027-Q1", date(2027, 2, 15)),  # copying backwards works the same way
])
def test_move_due(due: date, source: str, target: str, moved: date) -> None:
    assert move_due(due, parse_quarter(source), parse_quarter(target)) == moved


# --- numbers people type ------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "value"), [(0, 0), (10, 10), ("7", 7), (" 3 ", 3), (5.0, 5), ("4.0", 4)])
def test_confidence_is_a_whole_number_0_to_10(raw: object, value: int) -> None:
    assert parse_confidence(raw) == value


@pytest.mark.parametrize(("raw", "says"), [
    (11, "11 is outside 0-10"), (-1, "-1 is outside 0-10"), (7.5, "7.5 is not a whole number"),
    ("high", "'high' is not a confidence"), ("", "is not a confidence"), (None, "None is not a confidence"),
    (True, "True is not a confidence"), (float("nan"), "nan is not a whole number"),
])
def test_other_confidences_are_refused(raw: object, says: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        parse_confidence(raw)
    assert refusal.value.field == "confidence" and says in str(refusal.value)
    assert "a whole number from 0 to 10" in str(refusal.value)


@pytest.mark.parametrize(("raw", "says"), [(10, "10 is outside 0-9"), (-1, "-1 is outside 0-9"),
                                           ("five", "'five' is not a level"), (4.5, "not a whole number")])
def test_target_levels_are_0_to_9(raw: object, says: str) -> None:
    assert parse_target_level("9") == 9 and parse_target_level(0) == 0
    with pytest.raises(InvalidInput) as refusal:
        parse_target_level(raw)
    assert refusal.value.field == "target_level" and says in str(refusal.value)


def test_days_from_dates_date_times_and_text() -> None:
    assert parse_day(date(2027, 3, 31)) == date(2027, 3, 31)
    assert parse_day(datetime(2027, 3, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))) == date(2027, 4, 1)
    assert parse_day(" 2027-03-31 ") == date(2027, 3, 31)
    for raw in ("31/03/2027", "next week", 20270331, None):
        with pytest.raises(InvalidInput, match="is not a date") as refusal:
            parse_day(raw, field="by")
        assert refusal.value.field == "by"


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=300)
@given(quarters, st.sampled_from(["{y}-Q{n}", "{y}-q{n}", " {y}-Q{n} ", "\t{y}-q{n}\n"]))
def test_str_and_parse_round_trip(quarter: Quarter, form: str) -> None:
    assert parse_quarter(str(quarter)) == quarter
    assert parse_quarter(form.format(y=quarter.year, n=quarter.number)) == quarter


@given(quarters)
def test_next_then_previous_is_the_identity(quarter: Quarter) -> None:
    if quarter != Quarter(2100, 4):
        assert quarter.next().previous() == quarter
        assert quarter.next() > quarter
    if quarter != Quarter(2000, 1):
        assert quarter.previous().next() == quarter


@settings(max_examples=500)
@given(days)
def test_start_and_end_bound_every_day_of_the_quarter(day: date) -> None:
    quarter = quarter_of(day)
    assert quarter.start <= day <= quarter.end
    assert day in quarter
    assert quarter_of(quarter.start) == quarter == quarter_of(quarter.end)


@given(quarters)
def test_consecutive_quarters_tile_the_calendar(quarter: Quarter) -> None:
    """Each quarter ends the day before the next starts; its days are exactly the days between."""
    span = quarter.days()
    assert span == [quarter.start + timedelta(days=n) for n in range(len(span))]
    assert 90 <= len(span) <= 92
    assert all(quarter_of(d) == quarter for d in span)
    if quarter != Quarter(2100, 4):
        assert quarter.end + timedelta(days=1) == quarter.next().start
    if quarter != Quarter(2000, 1):
        assert quarter_of(quarter.start - timedelta(days=1)) == quarter.previous()


@given(days, quarters, quarters)
def test_a_moved_due_lands_in_the_target_quarter(due: date, source: Quarter, target: Quarter) -> None:
    moved = move_due(due, source, target)
    assert moved in target
    if due in source and due != source.end and (due - source.start).days < target.length:
            assert (moved - target.start).days == (due - source.start).days
    if due == source.end:
        assert moved == target.end


@given(quarters, st.integers(0, 89))
def test_moving_into_the_same_quarter_keeps_the_due(quarter: Quarter, offset: int) -> None:
    due = quarter.start + timedelta(days=offset)
    assert move_due(due, quarter, quarter) == due
