"""The demo portfolio: the paper's worked examples and a plausible organisation around them.

Loaded through the same use cases as any user's input (so every rule and the audit trail apply),
all in one transaction: either the whole portfolio loads or nothing does.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session, col

from mltrl.domain import cards as card_rules
from mltrl.domain import okr
from mltrl.domain.errors import InvalidInput
from mltrl.models import Project, ReviewVote, RiskEvent, utcnow
from mltrl.domain.permissions import Permission
from mltrl.services import cards, level_moves, okrs, projects, reviews, risks
from mltrl.services._core import Actor, parse_when, within, write_service

DEMO_PATH = Path(__file__).resolve().parents[2] / "data" / "demo_portfolio.json"
DEMO_CARDS = DEMO_PATH.parent / "demo_cards"
DEMO_REGISTERS = DEMO_PATH.parent / "demo_registers.json"
DEMO_REVIEWS = DEMO_PATH.parent / "demo_reviews.json"
DEMO_OKRS = DEMO_PATH.parent / "demo_okrs.json"
DEMO_FORMAT = 1


def project_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Project)).scalar_one()


@write_service(Permission.ADMIN)
def load_demo(*, session: Session, actor: Actor, path: Path = DEMO_PATH, if_empty: bool = False) -> int:
    """Load the demo portfolio; returns how many technologies were added (0 when skipped)."""
    existing = project_count(session)
    if existing:
        if if_empty:
            return 0
        raise InvalidInput(
            "database",
            f"it already holds {existing} technologies; the demo loads only into an empty "
            "database (use --if-empty to skip quietly)",
        )
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != DEMO_FORMAT:
        raise InvalidInput("format", f"demo file format {data.get('format')!r}, expected {DEMO_FORMAT}")
    movers = {
        "start": within(level_moves.record_start),
        "graduation": within(level_moves.graduate),
        "switchback": within(level_moves.switch_back),
    }
    for tech in data["technologies"]:
        within(projects.add_project)(
            session=session, actor=actor, code=tech["code"], name=tech["name"],
            summary=tech.get("summary", ""), parent_code=tech.get("parent"),
            owners=tech.get("owners", []), status=tech.get("status", "active"),
        )
        for step in tech.get("history", []):
            kind = step["kind"]
            args = dict(session=session, actor=actor, code=tech["code"],
                        at=parse_when(step["at"]), note=step.get("note", ""))
            if kind == "start":
                args["level"] = step["to"]
            elif kind == "switchback":
                args["level"] = step["to"]
                args["kind"] = step.get("switchback_kind")
            elif kind != "graduation":
                raise InvalidInput("kind", f"unknown event kind {kind!r} in {tech['code']}")
            movers[kind](**args)
    for tech in data["technologies"]:
        if tech.get("forked_from"):  # a fork: its past is the parent's history before its first event
            child = projects.get_project(session, tech["code"])
            child.forked_from_id = projects.get_project(session, tech["forked_from"]).id
            child.forked_at = parse_when(tech["history"][0]["at"])
            session.add(child)
            session.flush()
    for tech in data["technologies"]:
        if tech.get("card"):
            _load_card(session, actor, tech["code"], tech["card"], Path(path).parent / "demo_cards")
    registers = Path(path).parent / DEMO_REGISTERS.name
    if registers.exists():
        for code, register in json.loads(registers.read_text(encoding="utf-8"))["registers"].items():
            _load_register(session, actor, code, register)
    review_file = Path(path).parent / DEMO_REVIEWS.name
    if review_file.exists():
        for spec in json.loads(review_file.read_text(encoding="utf-8"))["reviews"]:
            _load_review(session, actor, spec)
    okr_file = Path(path).parent / DEMO_OKRS.name
    if okr_file.exists():
        for spec in json.loads(okr_file.read_text(encoding="utf-8"))["objectives"]:
            _load_objective(session, actor, spec)
    return len(data["technologies"])


def _load_objective(session: Session, actor: Actor, spec: dict) -> None:
    """A demo objective in the quarter ``quarter_offset`` quarters from today's, its key results
    (due at the quarter's end) and their check-ins, dated ``days_ago`` before loading."""
    quarter = okr.quarter_of(utcnow().date())
    for _ in range(abs(spec.get("quarter_offset", 0))):
        quarter = quarter.next() if spec["quarter_offset"] > 0 else quarter.previous()
    objective = within(okrs.add_objective)(session=session, actor=actor, quarter=str(quarter), title=spec["title"],
                                           owner=spec.get("owner", ""))
    for kr in spec.get("key_results", []):
        row = within(okrs.add_key_result)(session=session, actor=actor, objective_id=objective.id, code=kr["code"],
                                          target_level=kr["level"], owner=kr.get("owner", ""), note=kr.get("note", ""))
        for check in kr.get("check_ins", []):
            within(okrs.check_in)(session=session, actor=Actor(check["author"]), key_result_id=row.id,
                                  comment=check["comment"], confidence=check["confidence"],
                                  at=utcnow() - timedelta(days=check["days_ago"]))


def _load_review(session: Session, actor: Actor, spec: dict) -> None:
    """A demo review through the review use cases (votes cast by the panel members named); a
    decided one is dated back by ``decided_days_ago``, so a level 9 review can be overdue."""
    code = spec["code"]
    level = projects.get_project(session, code).level
    within(reviews.score_criteria)(session=session, actor=actor, code=code, level=level,
                                   scores={k: {"percent": v} for k, v in spec.get("scores", {}).items()})
    review = within(reviews.open_review)(session=session, actor=actor, code=code, panel=spec["panel"])
    for vote in spec.get("votes", []):
        within(reviews.cast_vote)(session=session, actor=Actor(vote["voter"]), review_id=review.id,
                                  vote=vote["vote"], comment=vote.get("comment", ""))
    if spec.get("answers"):
        within(reviews.answer_ethics)(session=session, actor=actor, review_id=review.id, answers=spec["answers"])
    if "decide" in spec:
        when = utcnow() - timedelta(days=spec.get("decided_days_ago", 0))
        outcome = within(reviews.decide)(session=session, actor=actor, review_id=review.id,
                                         expected_version=review.version, at=when, **spec["decide"])
        outcome.review.opened_at = outcome.review.decided_at = when
        session.add(outcome.review)
        for vote in session.scalars(select(ReviewVote).where(ReviewVote.review_id == review.id)).all():
            vote.at = when - timedelta(hours=1)  # cast before the decision, not when the demo was loaded
            session.add(vote)
        session.flush()


def _load_register(session: Session, actor: Actor, code: str, spec: dict) -> None:
    """A technology's requirements and risks, through the register use cases. Each risk's history
    is then dated as the demo file tells it (added, changed, last reviewed): the use cases stamp
    "now", and a demo needs a past for its trend, its overdue reviews and its growth since a
    level change."""
    for fields in spec.get("requirements", []):
        within(risks.add_requirement)(session=session, actor=actor, code=code, **fields)
    for item in spec.get("risks", []):
        fields = {k: v for k, v in item.items() if k not in ("added", "changes", "reviewed_days_ago", "accept")}
        row = within(risks.add_risk)(session=session, actor=actor, code=code, **fields)
        dates = [parse_when(item["added"])]
        for change in item.get("changes", []):
            within(risks.update_risk)(session=session, actor=actor, code=code, risk_id=row.id,
                                      expected_version=row.version,
                                      changes={k: v for k, v in change.items() if k != "at"})
            dates.append(parse_when(change["at"]))
        if "accept" in item:
            within(risks.accept_risk)(session=session, actor=actor, code=code, risk_id=row.id,
                                      expected_version=row.version, reason=item["accept"]["reason"],
                                      until=utcnow() + timedelta(days=item["accept"]["days"]))
            dates.append(utcnow() - timedelta(days=item.get("reviewed_days_ago", 0)))
        events = session.exec(select(RiskEvent).where(RiskEvent.risk_id == row.id).order_by(col(RiskEvent.id))).scalars()
        for event, at in zip(events, dates, strict=True):
            event.at = at
            session.add(event)
        row.created_at = dates[0]
        row.last_reviewed_at = utcnow() - timedelta(days=item.get("reviewed_days_ago", 0))
        session.add(row)
        session.flush()


def _load_card(session: Session, actor: Actor, code: str, spec: dict, folder: Path) -> None:
    """Two revisions of a demo card: a thinner first draft saved during the previous level (so
    the technology has a prior level card) and the full card after its last level change, saved
    ``saved_days_ago`` days ago when given (a fresh card), else ten days after that change (by
    now usually stale)."""
    parsed = card_rules.parse_markdown((folder / spec["file"]).read_text(encoding="utf-8"))
    events = level_moves.history(session, code)
    save = within(cards.save_card)
    base = 0
    if len(events) >= 2:
        draft = replace(parsed.card, caveats="", **{key: "" for key, _ in card_rules.DEBRIEF})
        save(session=session, actor=actor, code=code, card=draft, base_revision=0,
             summary="Card started", at=min(events[-2].at + timedelta(days=10), events[-1].at - timedelta(days=1)))
        base = 1
    if "saved_days_ago" in spec:
        at = utcnow() - timedelta(days=spec["saved_days_ago"])
    else:
        at = (events[-1].at if events else utcnow() - timedelta(days=400)) + timedelta(days=10)
    save(session=session, actor=actor, code=code, card=parsed.card, base_revision=base,
         summary="Debrief and caveats after the last level change", at=at)
