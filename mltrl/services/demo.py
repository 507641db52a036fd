"""The demo portfolio: the paper's worked examples and a plausible organisation around them.

Loaded through the same use cases as any user's input (so every rule and the audit trail apply),
all in one transaction: either the whole portfolio loads or nothing does.

**The demo lives in the present.** It is loaded *for a day* (``as_of``, default today, UTC) and
every date in it is placed relative to that day, so its stories look the same whenever it is
loaded: the same ongoing stays, the same stale cards and overdue reviews, the same key results'
statuses.

* Each demo file (``data/demo_*.json``) writes its dates as ISO days and names, in ``anchor``, the
  day they were written for. Loaded for day D, every date moves by ``D - anchor`` whole days, so
  the stories keep their shape exactly (every stay, gap and order is unchanged). A file without an
  ``anchor`` is placed as written.
* Every step is recorded *as of its own date* (``mltrl.domain.days.recorded_at``): a level event's
  ``recorded_at``, a risk's history, a review's opening, votes and decision, a check-in, the audit
  rows, all say when the story has them happen; what has no date of its own (the open reviews,
  the objectives of the coming quarter) is recorded at the load day's first instant. Nothing is
  dated after that instant: a demo loaded for D is the portfolio as it stood when D began.
* OKRs belong to quarters, which days cannot shift: an objective names its quarter by
  ``quarter_offset`` from the load day's quarter (0: the current one, -1: the previous one), and a
  key result is due on its quarter's last day unless it says ``due_not_before`` (a shifted day: due
  on the quarter's last day or on that day, whichever is later; a forecast needs weeks ahead of it,
  which the last days of a quarter do not have). A level event marked ``not_before_quarter`` is
  placed no earlier than the load day's quarter's first day (the one story that must happen
  *within* the current quarter: a key result achieved, then lost). What the quarterly review shows
  on any day follows: see ``data/README.md``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from mltrl.domain import cards as card_rules
from mltrl.domain import days, okr
from mltrl.domain.errors import InvalidInput
from mltrl.domain.permissions import Permission
from mltrl.models import Project
from mltrl.services import cards, level_moves, okrs, projects, reviews, risks
from mltrl.services._core import Actor, within, write_service

DEMO_PATH = Path(__file__).resolve().parents[2] / "data" / "demo_portfolio.json"
DEMO_CARDS = DEMO_PATH.parent / "demo_cards"
DEMO_REGISTERS = DEMO_PATH.parent / "demo_registers.json"
DEMO_REVIEWS = DEMO_PATH.parent / "demo_reviews.json"
DEMO_OKRS = DEMO_PATH.parent / "demo_okrs.json"
DEMO_FORMAT = 1
# The load days the demo can be placed on: its stories reach about six years back, and its quarters
# (the previous, current and next) must lie within the years OKRs know (``mltrl.domain.okr``).
FIRST_DAY = date(okr.YEAR_MIN + 1, 1, 1)
LAST_DAY = date(okr.YEAR_MAX - 1, 12, 31)


def project_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Project)).scalar_one()


def check_as_of(value: object) -> date:
    """The day the demo is loaded for: a date (or ``YYYY-MM-DD``) from ``FIRST_DAY`` to
    ``LAST_DAY``; anything else refused, naming ``as_of``."""
    if isinstance(value, str):
        value = days.parse_day(value, field="as_of")
    if isinstance(value, datetime):
        value = days.as_utc(value, field="as_of").date()
    if not isinstance(value, date):
        raise InvalidInput("as_of", f"expected a day such as 2027-03-31, got {type(value).__name__}")
    if not FIRST_DAY <= value <= LAST_DAY:
        raise InvalidInput("as_of", f"{value.isoformat()} is outside the days the demo can be placed on "
                                    f"({FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})")
    return value


class _Placing:
    """Where one demo file's dates land for the load day (see the module docstring)."""

    def __init__(self, data: dict, as_of: date, name: str) -> None:
        self.as_of = as_of
        self.present = days.day_start(as_of)
        self.quarter = okr.quarter_of(as_of)
        self.name = name
        anchor = data.get("anchor")
        self.shift = timedelta(0) if anchor is None else as_of - days.parse_day(anchor, field=f"{name}: anchor")

    def day(self, text: object, what: str) -> date:
        """A day of the file, moved to the load day."""
        return days.parse_day(text, field=f"{self.name}: {what}") + self.shift

    def at(self, text: object, what: str) -> datetime:
        """A moment of the story (a day's first instant, or a date-time), moved; never after the
        load day began."""
        moment = days.parse_when(text, field=f"{self.name}: {what}") + self.shift
        if moment > self.present:
            raise InvalidInput(f"{self.name}: {what}", f"{text} lands on {moment.date().isoformat()}, after the "
                                                       f"day the demo is loaded for ({self.as_of.isoformat()})")
        return moment


def _read(path: Path, as_of: date) -> tuple[dict, _Placing]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != DEMO_FORMAT:
        raise InvalidInput("format", f"demo file format {data.get('format')!r}, expected {DEMO_FORMAT}")
    return data, _Placing(data, as_of, Path(path).name)


@write_service(Permission.ADMIN)
def load_demo(*, session: Session, actor: Actor, path: Path = DEMO_PATH, if_empty: bool = False,
              as_of: date | str | None = None) -> int:
    """Load the demo portfolio placed for the day ``as_of`` (default today, UTC; see the module
    docstring); returns how many technologies were added (0 when skipped)."""
    day = check_as_of(days.today() if as_of is None else as_of)
    existing = project_count(session)
    if existing:
        if if_empty:
            return 0
        raise InvalidInput(
            "database",
            f"it already holds {existing} technologies; the demo loads only into an empty "
            "database (use --if-empty to skip quietly)",
        )
    data, place = _read(path, day)
    with days.recorded_at(place.present):
        _load_technologies(session, actor, data, place)
        for tech in data["technologies"]:
            if tech.get("card"):
                _load_card(session, actor, tech["code"], tech["card"], Path(path).parent / "demo_cards", place)
        folder = Path(path).parent
        if (folder / DEMO_REGISTERS.name).exists():
            registers, where = _read(folder / DEMO_REGISTERS.name, day)
            for code, register in registers["registers"].items():
                _load_register(session, actor, code, register, where)
        if (folder / DEMO_REVIEWS.name).exists():
            review_data, where = _read(folder / DEMO_REVIEWS.name, day)
            for spec in sorted(review_data["reviews"], key=lambda s: where.at(s["opened"], "opened")):
                _load_review(session, actor, spec, where)
        if (folder / DEMO_OKRS.name).exists():
            okr_data, where = _read(folder / DEMO_OKRS.name, day)
            for spec in okr_data["objectives"]:
                _load_objective(session, actor, spec, where)
    return len(data["technologies"])


def _load_technologies(session: Session, actor: Actor, data: dict, place: _Placing) -> None:
    movers = {
        "start": within(level_moves.record_start),
        "graduation": within(level_moves.graduate),
        "switchback": within(level_moves.switch_back),
    }
    for tech in data["technologies"]:
        history = tech.get("history", [])
        steps = [_event_at(tech["code"], step, place) for step in history]
        with days.recorded_at(steps[0] if steps else place.present):
            within(projects.add_project)(
                session=session, actor=actor, code=tech["code"], name=tech["name"],
                summary=tech.get("summary", ""), parent_code=tech.get("parent"),
                owners=tech.get("owners", []), status=tech.get("status", "active"),
            )
        for step, at in zip(history, steps, strict=True):
            kind = step["kind"]
            args: dict[str, Any] = dict(session=session, actor=actor, code=tech["code"], at=at,
                                        note=step.get("note", ""))
            if kind == "start":
                args["level"] = step["to"]
            elif kind == "switchback":
                args["level"] = step["to"]
                args["kind"] = step.get("switchback_kind")
            elif kind != "graduation":
                raise InvalidInput("kind", f"unknown event kind {kind!r} in {tech['code']}")
            with days.recorded_at(at):
                movers[kind](**args)
    for tech in data["technologies"]:
        if tech.get("forked_from"):  # a fork: its past is the parent's history before its first event
            child = projects.get_project(session, tech["code"])
            child.forked_from_id = projects.get_project(session, tech["forked_from"]).id
            child.forked_at = _event_at(tech["code"], tech["history"][0], place)
            session.add(child)
            session.flush()


def _event_at(code: str, step: dict, place: _Placing) -> datetime:
    at = place.at(step["at"], f"{code}'s event of {step['at']}")
    if step.get("not_before_quarter"):
        at = max(at, days.day_start(place.quarter.start))
    return at


def _load_objective(session: Session, actor: Actor, spec: dict, place: _Placing) -> None:
    """A demo objective in the quarter ``quarter_offset`` quarters from the load day's, its key
    results (due at the quarter's end, or on ``due_not_before`` when that is later) and their
    check-ins (each recorded by its author at its own date). The objective was set when its quarter
    began (or when its first check-in was written, if earlier; the coming quarter's: on the load day)."""
    quarter = place.quarter
    for _ in range(abs(spec.get("quarter_offset", 0))):
        quarter = quarter.next() if spec["quarter_offset"] > 0 else quarter.previous()
    check_ins = [(kr, check, place.at(check["at"], f"check-in of {kr['code']}"))
                 for kr in spec.get("key_results", []) for check in kr.get("check_ins", [])]
    set_at = min([days.day_start(quarter.start), place.present] + [at for _, _, at in check_ins])
    with days.recorded_at(set_at):
        objective = within(okrs.add_objective)(session=session, actor=actor, quarter=str(quarter),
                                               title=spec["title"], owner=spec.get("owner", ""))
        rows = {}
        for kr in spec.get("key_results", []):
            due = quarter.end
            if "due_not_before" in kr:
                due = max(due, place.day(kr["due_not_before"], f"due date of {kr['code']}"))
            rows[id(kr)] = within(okrs.add_key_result)(session=session, actor=actor, objective_id=objective.id,
                                                       code=kr["code"], target_level=kr["level"], due=due,
                                                       owner=kr.get("owner", ""), note=kr.get("note", ""))
    for kr, check, at in sorted(check_ins, key=lambda c: c[2]):
        with days.recorded_at(at):
            within(okrs.check_in)(session=session, actor=Actor(check["author"]), key_result_id=rows[id(kr)].id,
                                  comment=check["comment"], confidence=check["confidence"])


def _load_review(session: Session, actor: Actor, spec: dict, place: _Placing) -> None:
    """A demo review through the review use cases: its evidence sent on each record's ``at`` (by a
    CI token), its checklist scored and the review opened on ``opened``, each vote cast by the panel member named on its ``at`` (default: the opening day),
    and a decided one decided on ``decided`` (so a level 9 review can be overdue)."""
    code = spec["code"]
    level = projects.get_project(session, code).level
    opened = place.at(spec["opened"], f"{code}'s review opened")
    for item in spec.get("evidence", []):
        at = place.at(item["at"], f"{code}'s evidence")
        with days.recorded_at(at):
            within(reviews.add_evidence)(
                session=session, actor=Actor(item.get("by", "ci-runner"), via=item.get("via", "token nightly")),
                code=code, level=level, produced_at=at,
                **{k: v for k, v in item.items() if k not in ("at", "by", "via")})
    with days.recorded_at(opened):
        within(reviews.score_criteria)(session=session, actor=actor, code=code, level=level,
                                       scores={k: {"percent": v} for k, v in spec.get("scores", {}).items()})
        review = within(reviews.open_review)(session=session, actor=actor, code=code, panel=spec["panel"])
        if spec.get("answers"):
            within(reviews.answer_ethics)(session=session, actor=actor, review_id=review.id,
                                          answers=spec["answers"])
    for vote in spec.get("votes", []):
        with days.recorded_at(place.at(vote["at"], f"{code}'s vote") if "at" in vote else opened):
            within(reviews.cast_vote)(session=session, actor=Actor(vote["voter"]), review_id=review.id,
                                      vote=vote["vote"], comment=vote.get("comment", ""))
    if "decide" in spec:
        with days.recorded_at(place.at(spec["decided"], f"{code}'s review decided")):
            within(reviews.decide)(session=session, actor=actor, review_id=review.id,
                                   expected_version=review.version, **spec["decide"])


def _load_register(session: Session, actor: Actor, code: str, spec: dict, place: _Placing) -> None:
    """A technology's requirements and risks, through the register use cases, each step recorded
    on its date: the requirements when the first risk was added, each risk on ``added``, its
    ``changes`` on theirs, and its last review on ``reviewed`` (an acceptance, when it has one)."""
    steps: list[tuple[datetime, int, dict, str, Any]] = []
    for n, item in enumerate(spec.get("risks", [])):
        steps.append((place.at(item["added"], f"{code}'s risk added"), n, item, "add", None))
        for change in item.get("changes", []):
            steps.append((place.at(change["at"], f"{code}'s risk changed"), n, item, "change", change))
        if "reviewed" in item:
            steps.append((place.at(item["reviewed"], f"{code}'s risk reviewed"), n, item, "review", None))
    first = min((at for at, *_ in steps), default=place.present)
    with days.recorded_at(first):
        for fields in spec.get("requirements", []):
            within(risks.add_requirement)(session=session, actor=actor, code=code, **fields)
    rows: dict[int, Any] = {}
    for at, n, item, step, change in sorted(steps, key=lambda s: (s[0], s[1])):
        with days.recorded_at(at):
            if step == "add":
                fields = {k: v for k, v in item.items() if k not in ("added", "changes", "reviewed", "accept")}
                rows[n] = within(risks.add_risk)(session=session, actor=actor, code=code, **fields)
            elif step == "change":
                rows[n] = within(risks.update_risk)(session=session, actor=actor, code=code, risk_id=rows[n].id,
                                                    expected_version=rows[n].version,
                                                    changes={k: v for k, v in change.items() if k != "at"})
            elif "accept" in item:
                rows[n] = within(risks.accept_risk)(
                    session=session, actor=actor, code=code, risk_id=rows[n].id, expected_version=rows[n].version,
                    reason=item["accept"]["reason"],
                    until=days.last_instant(place.day(item["accept"]["until"], f"{code}'s acceptance")))
            else:
                rows[n] = within(risks.review_risk)(session=session, actor=actor, code=code, risk_id=rows[n].id,
                                                    expected_version=rows[n].version)


def _load_card(session: Session, actor: Actor, code: str, spec: dict, folder: Path, place: _Placing) -> None:
    """Two revisions of a demo card: a thinner first draft saved during the previous level (so
    the technology has a prior level card) and the full card after its last level change, saved
    on ``saved`` when given, else ten days after that change."""
    parsed = card_rules.parse_markdown((folder / spec["file"]).read_text(encoding="utf-8"))
    events = level_moves.history(session, code)
    save = within(cards.save_card)
    base = 0
    if len(events) >= 2:
        draft = replace(parsed.card, caveats="", **{key: "" for key, _ in card_rules.DEBRIEF})
        at = min(days.as_utc(events[-2].at) + timedelta(days=10), days.as_utc(events[-1].at) - timedelta(days=1))
        with days.recorded_at(at):
            save(session=session, actor=actor, code=code, card=draft, base_revision=0, summary="Card started", at=at)
        base = 1
    if "saved" in spec:
        at = place.at(spec["saved"], f"{code}'s card saved")
    else:
        at = min((days.as_utc(events[-1].at) if events else place.present - timedelta(days=400))
                 + timedelta(days=10), place.present)
    with days.recorded_at(at):
        save(session=session, actor=actor, code=code, card=parsed.card, base_revision=base,
             summary="Debrief and caveats after the last level change", at=at)
