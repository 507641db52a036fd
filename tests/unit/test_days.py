"""mltrl.domain.days: the one home of day ends, instants and what a person may type as a date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltrl.domain import days
from mltrl.domain.errors import InvalidInput

kept_days = st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31))


@given(kept_days)
def test_a_day_runs_from_its_start_to_the_next_days_start(day):
    start, end, last = days.day_start(day), days.day_end(day), days.last_instant(day)
    assert start.tzinfo is UTC and start.date() == day and start.hour == start.minute == 0
    assert end - start == timedelta(days=1) and end.date() == day + timedelta(days=1)
    assert last.date() == day and last < end and end - last == timedelta(microseconds=1)


@given(kept_days, st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30)))
def test_as_of_a_day_is_its_end_or_the_present_whichever_is_first(day, present):
    moment = present.replace(tzinfo=UTC)
    assert days.as_of_instant(day, moment=moment) == min(days.last_instant(day), moment)


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30)),
       st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_as_utc_keeps_the_instant(naive, offset_minutes):
    aware = naive.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    assert days.as_utc(aware) == aware and days.as_utc(aware).tzinfo is UTC
    assert days.as_utc(naive) == naive.replace(tzinfo=UTC)  # naive means UTC


@pytest.mark.parametrize("text", ["0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00", "1899-12-31", "2200-01-01",
                                  "0001-01-01", "9999-12-31"])
def test_instants_outside_the_window_are_refused_by_name(text):
    """Regression for issue 14: these ended in OverflowError or pandas' OutOfBoundsDatetime."""
    with pytest.raises(InvalidInput, match=r"^as of: .*outside the dates this tool keeps \(between 1900-01-01"):
        days.parse_when(text, field="as of")


@given(st.one_of(st.text(max_size=40), st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2)))
def test_anything_typed_is_an_instant_in_the_window_or_a_named_refusal(value):
    try:
        result = days.parse_when(value, field="at")
    except InvalidInput as exc:
        assert exc.field == "at"
    else:
        assert result.tzinfo is UTC and days.EARLIEST <= result <= days.LATEST


@given(st.one_of(st.text(max_size=20), st.none(), st.integers()))
def test_a_typed_day_is_a_day_in_the_window_or_a_named_refusal(value):
    try:
        result = days.parse_day(value, field="due")
    except InvalidInput as exc:
        assert exc.field == "due"
    else:
        assert date(1900, 1, 1) <= result <= date(2199, 12, 31)


def test_a_day_refuses_an_hour():
    with pytest.raises(InvalidInput, match="due: '2026-01-01T10:00' is not a date"):
        days.parse_day("2026-01-01T10:00", field="due")


def test_today_is_the_utc_day():
    before = datetime.now(UTC).date()
    assert days.today() in (before, before + timedelta(days=1))


@given(kept_days)
def test_the_last_day_before_a_days_end_is_that_day(day):
    assert days.last_day_before(days.day_end(day)) == day
    assert days.last_day_before(days.day_start(day) + timedelta(hours=1)) == day


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2150, 12, 31)))
def test_a_frozen_day_is_today_for_the_whole_process_until_thawed(day):
    days.freeze_today(day)
    try:
        assert days.today() == day and days.now().tzinfo is not None and days.now().date() == day
        inside = datetime(2001, 2, 3, 4, 5, tzinfo=UTC)
        with days.recorded_at(inside):  # a use case's own present still wins
            assert days.now() == inside
    finally:
        days.freeze_today(None)
    assert days.today() in {datetime.now(UTC).date(), datetime.now(UTC).date() - timedelta(days=1)}  # the clock again


def test_the_server_freezes_the_day_it_is_told(monkeypatch):
    from mltrl import db
    monkeypatch.setenv("MLTRL_TODAY", "2026-03-02")
    assert db.settings().today == date(2026, 3, 2)
    monkeypatch.setenv("MLTRL_TODAY", "March")
    with pytest.raises(ValueError, match="today"):
        db.settings()
