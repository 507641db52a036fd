"""The demo as its files place it for a load day: what tests expect, worked out from
``data/demo_*.json`` and the day (``mltrl.services.demo`` documents the rule: every date moves by
``load day - anchor``; an event marked ``not_before_quarter`` is placed no earlier than the load
day's quarter's first day). Read-only helpers; the loader is not used, so tests check it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from mltrl.domain import days, okr

DATA = Path(__file__).resolve().parent.parent / "data"


def load(name: str) -> dict:
    """A demo file (``demo_portfolio.json``, ``demo_reviews.json``, ...) as written."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def shift(name: str = "demo_portfolio.json", as_of: date | None = None) -> timedelta:
    """How far the dates of the file ``name`` move when the demo is loaded for ``as_of`` (default today)."""
    anchor = load(name).get("anchor")
    return timedelta(0) if anchor is None else (as_of or days.today()) - date.fromisoformat(anchor)


def placed(day: str, name: str = "demo_portfolio.json", as_of: date | None = None) -> date:
    """The day ``day`` of the file ``name`` lands on when the demo is loaded for ``as_of``."""
    return date.fromisoformat(day[:10]) + shift(name, as_of)


def events(code: str, as_of: date | None = None) -> list[tuple[datetime, dict]]:
    """(moment, step) of each level event of ``code`` in the portfolio file, placed for ``as_of``."""
    as_of = as_of or days.today()
    start = days.day_start(okr.quarter_of(as_of).start)
    tech = next(t for t in load("demo_portfolio.json")["technologies"] if t["code"] == code)
    out = []
    for step in tech["history"]:
        at = days.day_start(placed(step["at"], as_of=as_of))
        out.append((max(at, start) if step.get("not_before_quarter") else at, step))
    return out
