"""The demo lives in the present: loaded for any day, it tells the same stories relative to that
day (``mltrl.services.demo``). For a load day drawn from 2026-2030 (and the awkward ones: a
quarter's first and last day, a leap day), as a user would see it on that day:

* the current quarter's review has key results achieved, on track with a probability, at risk and
  achieved then lost, and forecasts where the data allows;
* a few active technologies are stalled (Analytics), not most;
* a few deployed technologies are overdue for their level 9 review, not all;
* most TRL cards are fresh, a few stale;
* nothing is dated after the load day began, and every level event sits where the demo file puts
  it, moved by the load day's distance from the file's anchor (the one marked
  ``not_before_quarter`` no earlier than the quarter's first day).

Loading costs a few seconds, so the property runs on SQLite with few examples; one fixed day runs on
both backends (``db_url``).
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from mltrl import db
from mltrl.domain import analytics, days, okr
from mltrl.domain.analytics import KeyResultStatus
from mltrl.models import LevelEvent, Project
from mltrl.services import Actor, demo, okr_report, portfolio
from mltrl.services import analytics as reads
from mltrl.services import policy as org_policy
from mltrl.services.reviews import deployed_reviews

# Dates that may lie after the load day: when an acceptance ends, when a gate override expires.
FUTURE_BY_DESIGN = {("risk", "accepted_until"), ("gateoverride", "expires_at")}


def demo_file(name: str) -> dict:
    return json.loads((demo.DEMO_PATH.parent / name).read_text(encoding="utf-8"))


def placed_events(as_of: date) -> dict[str, list[datetime]]:
    """Each technology's level events as the demo file places them for ``as_of``: moved by
    ``as_of - anchor``, an event marked ``not_before_quarter`` no earlier than the quarter's start."""
    data = demo_file("demo_portfolio.json")
    shift = as_of - date.fromisoformat(data["anchor"])
    start = days.day_start(okr.quarter_of(as_of).start)
    out = {}
    for tech in data["technologies"]:
        moments = []
        for step in tech["history"]:
            at = days.day_start(date.fromisoformat(step["at"]) + shift)
            moments.append(max(at, start) if step.get("not_before_quarter") else at)
        out[tech["code"]] = moments
    return out


def check_the_picture(session: Session, as_of: date) -> None:
    """What a user sees on ``as_of`` after loading the demo for it (see the module docstring)."""
    began = days.day_start(as_of)
    # Nothing after the load day began: every date-time column of every table, audit rows included.
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            try:
                is_moment = column.type.python_type is datetime
            except NotImplementedError:
                is_moment = False
            if not is_moment or (table.name, column.name) in FUTURE_BY_DESIGN:
                continue
            latest = session.execute(select(column).where(column.is_not(None)).order_by(column.desc()).limit(1)).scalar()
            assert latest is None or days.as_utc(latest) <= began, (table.name, column.name, latest)
    # Every level event where the file puts it (the engine added one: R18.1's graduation at its review).
    codes = dict(session.execute(select(Project.id, Project.code)).all())
    stored: dict[str, list[datetime]] = {}
    for pid, at, review in session.execute(select(LevelEvent.project_id, LevelEvent.at, LevelEvent.review_id)
                                           .order_by(LevelEvent.project_id, LevelEvent.at)).all():
        if review is None:
            stored.setdefault(codes[pid], []).append(days.as_utc(at))
    assert stored == {code: moments for code, moments in placed_events(as_of).items() if moments}

    # The quarterly review of the load day's quarter, judged when the day begins and when it ends.
    quarter = okr.quarter_of(as_of)
    for moment in (began, days.last_instant(as_of)):
        report = okr_report.quarter_report(session, str(quarter), as_of=moment, samples=2_000)
        statuses = [line.state.status for line in report.lines]
        on_track = [line for line in report.lines if line.state.status is KeyResultStatus.ON_TRACK
                    and line.forecast is not None and line.forecast.probability is not None]
        assert KeyResultStatus.ACHIEVED in statuses, (as_of, moment, statuses)
        assert on_track, (as_of, moment, statuses)
        assert KeyResultStatus.AT_RISK in statuses, (as_of, moment, statuses)
        assert KeyResultStatus.LOST in statuses, (as_of, moment, statuses)
        assert any(line.forecast is not None and line.forecast.expected_days is not None
                   for line in report.lines if line.state.status not in (KeyResultStatus.ACHIEVED,))
        assert all(line.due >= quarter.end for line in report.lines)

    # Analytics' stalled technologies (active ones, as the page lists them), as of the day's end.
    end = days.last_instant(as_of)
    events = reads.event_table(session)
    techs = reads.technologies(session)
    every = analytics.level_intervals(events.loc[events["at"] < pd.Timestamp(end)], as_of=end)
    active = set(techs.loc[techs["status"] == "active", "project_id"])
    stuck = analytics.stalled(every.loc[every["project_id"].isin(active)], analytics.level_time_stats(every))
    assert 1 <= len(stuck) <= 4 and len(stuck) < len(active) / 3, stuck

    # Level 9 reviews: a few overdue, not all.
    due = deployed_reviews(session, org_policy.current_policy(session), now=end)
    overdue = [d.code for d in due if d.overdue]
    assert 1 <= len(overdue) <= len(due) // 2, [(d.code, d.due) for d in due]

    # TRL cards: most fresh, a few stale.
    states = portfolio.portfolio_frame(session, as_of=end)["card"].value_counts()
    assert 1 <= states.get("stale", 0) < states.get("fresh", 0), states.to_dict()


def load_into_fresh_sqlite(as_of: date) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = db.get_engine(f"sqlite:///{Path(folder) / 'demo.db'}")
        try:
            with db.session_scope(engine) as session:
                assert demo.load_demo(session=session, actor=Actor("demo"), as_of=as_of) == 25
            with db.session_scope(engine) as session:
                check_the_picture(session, as_of)
        finally:
            db.dispose_engines()


@settings(max_examples=8)
@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)))
@example(date(2027, 1, 1))    # a quarter's first day: the switchback of "achieved then lost" is that morning
@example(date(2027, 3, 31))   # a quarter's last day: "on track" needs its due date after the quarter's end
@example(date(2028, 2, 29))   # a leap day
def test_the_demo_tells_its_stories_on_any_load_day(as_of: date) -> None:
    load_into_fresh_sqlite(as_of)


def test_the_demo_on_both_backends(session: Session) -> None:
    as_of = date(2027, 7, 1)
    assert demo.load_demo(session=session, actor=Actor("demo"), as_of=as_of) == 25
    session.commit()
    check_the_picture(session, as_of)


def test_by_default_the_demo_is_placed_for_today(session: Session) -> None:
    demo.load_demo(session=session, actor=Actor("demo"))
    events = placed_events(days.today())
    first = session.execute(select(LevelEvent.at).order_by(LevelEvent.at).limit(1)).scalar_one()
    assert days.as_utc(first) == min(min(m) for m in events.values() if m)


@pytest.mark.parametrize("bad", [date(2000, 12, 31), date(2100, 1, 1), "2027-02-30", "tomorrow", 20270101])
def test_a_load_day_outside_the_demos_range_is_refused_and_nothing_written(session: Session, bad) -> None:
    from mltrl.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        demo.load_demo(session=session, actor=Actor("demo"), as_of=bad)
    assert refused.value.field == "as_of"
    assert demo.project_count(session) == 0


def test_a_demo_file_dated_after_its_load_day_is_refused(session: Session, tmp_path: Path) -> None:
    """A story step that would land after the load day (the file's anchor is the day it was
    written for) is refused by name: the demo never places anything in the future."""
    bad = tmp_path / "demo.json"
    bad.write_text(json.dumps({"format": 1, "anchor": "2026-01-01", "technologies": [
        {"code": "A1", "name": "Ahead", "history": [{"kind": "start", "to": 3, "at": "2026-01-02"}]}]}),
        encoding="utf-8")
    from mltrl.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        demo.load_demo(session=session, actor=Actor("demo"), path=bad, as_of=date(2027, 1, 1))
    assert "after the day the demo is loaded for" in str(refused.value)
    assert demo.project_count(session) == 0


def test_the_stories_keep_their_shape() -> None:
    """Two load days a week apart, well inside one quarter: every event is a week later. Early in
    a quarter, the one marked ``not_before_quarter`` waits for the quarter's first day."""
    early, late = placed_events(date(2027, 5, 10)), placed_events(date(2027, 5, 17))
    for code in early:
        assert [b - a for a, b in zip(early[code], late[code])] == [timedelta(days=7)] * len(early[code])
    bound = [step for tech in demo_file("demo_portfolio.json")["technologies"] for step in tech["history"]
             if step.get("not_before_quarter")]
    assert len(bound) == 1
    assert days.day_start(date(2027, 4, 1)) in placed_events(date(2027, 4, 2))["P15.1"]


def test_cli_demo_load_as_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from mltrl.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MLTRL_DATABASE_URL", url)
    runner = CliRunner()
    bad = runner.invoke(app, ["demo", "load", "--as-of", "2027-02-30"])
    assert bad.exit_code == 2 and "--as-of" in bad.output
    assert not (tmp_path / "cli.db").exists()  # nothing written, not even the file
    far = runner.invoke(app, ["demo", "load", "--as-of", "1999-06-01"])
    assert far.exit_code == 2 and "--as-of" in far.output and "2001-01-01" in far.output
    done = runner.invoke(app, ["demo", "load", "--as-of", "2027-02-10"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("loaded the demo portfolio: 25 technologies, placed for 2027-02-10")
    try:
        with db.session_scope(db.get_engine(url)) as session:
            first = session.execute(select(LevelEvent.at).order_by(LevelEvent.at).limit(1)).scalar_one()
            assert days.as_utc(first) == min(min(m) for m in placed_events(date(2027, 2, 10)).values() if m)
    finally:
        db.dispose_engines()
