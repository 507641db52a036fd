"""Readiness and gates of a gated review. Pure: no streamlit, no database.

* **Readiness** (a self-assessment, as TRL calculators do): each exit criterion of a level is scored
  as a percentage of completion; the level is ready for review when the scores average at least the
  threshold (80 by default; an admin setting). A criterion nobody scored counts 0.
* **Gates** are blockers with teeth, read from the requirements register:
  - leaving level 5 needs every research requirement's verification *and* validation passed, and at
    least one product requirement;
  - leaving level 8 needs every requirement's validation passed.
  Where the register is empty, the gate says so (and blocks). A blocked gate may be overridden by an
  admin with a justification and an optional expiry; an expired override blocks again. Overrides are
  shown apart from passes everywhere.
* **Votes and decisions** of a review, and the kind of a switchback decided at a review (``review``,
  unless the pair is one of the embedded loops).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from enum import StrEnum

from mltrl.domain import days, levels
from mltrl.domain.evidence import Proof, score_from
from mltrl.domain.errors import InvalidInput

DEFAULT_READY_THRESHOLD = 80


class Vote(StrEnum):
    GRADUATE = "graduate"
    NOT_YET = "not yet"
    SWITCH_BACK = "switch back"


class Decision(StrEnum):
    GRADUATE = "graduate"
    HOLD = "hold"
    SWITCH_BACK = "switch back"
    PAUSE = "pause"


class GateState(StrEnum):
    PASSED = "passed"
    BLOCKED = "blocked"
    OVERRIDDEN = "overridden"
    OVERRIDE_EXPIRED = "override expired"


SCORED_BY = ("hand", "evidence")


@dataclass(frozen=True)
class Criterion:
    """An exit criterion; ``scored_by`` is "hand" (the team scores it) or "evidence" (its score is
    the latest pass or fail evidence sent for it: ``mltrl.domain.evidence``)."""

    key: str
    text: str
    guidance: str
    scored_by: str = "hand"

    @property
    def from_evidence(self) -> bool:
        return self.scored_by == "evidence"


@dataclass(frozen=True)
class Score:
    """A criterion's score. ``source`` says where the percent came from: "hand" (the team's own),
    or "evidence" (then ``proof`` is the record it came from, and ``manual`` the team's own percent,
    kept apart, if they gave one)."""

    key: str
    percent: int
    evidence: str = ""
    comment: str = ""
    source: str = "hand"
    proof: Any = None  # mltrl.domain.evidence.Proof, for a score from evidence
    manual: int | None = None


def with_evidence(criteria: Sequence[Criterion], scores: Mapping[str, Score],
                  proofs: Mapping[str, Any]) -> dict[str, Score]:
    """The scores in force: the team's own for criteria scored by hand; for a criterion scored from
    evidence, its latest pass/fail record's (``proofs``: key -> ``evidence.Proof``; pass 100, fail
    0), with the team's own percent and comment kept apart; unscored while no such record exists."""
    out = {key: score for key, score in scores.items()}
    for c in criteria:
        if not c.from_evidence:
            continue
        own = scores.get(c.key)
        proof = proofs.get(c.key)
        percent = score_from(proof)
        if percent is None:
            out.pop(c.key, None)
            continue
        out[c.key] = Score(c.key, percent, proof.url, own.comment if own else "", source="evidence", proof=proof,
                           manual=own.percent if own else None)
    return out


def score_record(score: Score) -> dict[str, Any]:
    """A score as a decided review keeps it (``Review.scores``' values)."""
    record: dict[str, Any] = {"percent": score.percent, "evidence": score.evidence, "comment": score.comment}
    if score.source == "evidence":
        proof = score.proof
        record |= {"source": "evidence", "manual": score.manual, "evidence_id": proof.id,
                   "evidence_title": proof.title, "evidence_status": proof.status, "evidence_source": proof.source,
                   "evidence_produced_at": proof.produced_at.isoformat(), "evidence_stale": proof.stale}
    return record


def decided_scores(stored: Mapping[str, Any] | None) -> dict[str, Score]:
    """The scores a decided review kept (``Review.scores``: key -> {percent, evidence, comment} and,
    for a score from evidence, the record it came from), read in one way wherever they are shown;
    a missing percent reads as 0."""
    out = {}
    for key, value in (stored or {}).items():
        proof, source = None, "hand"
        if value.get("source") == "evidence" and value.get("evidence_id") is not None:
            source = "evidence"
            produced = value.get("evidence_produced_at")
            proof = Proof(int(value["evidence_id"]), str(value.get("evidence_status") or ""),
                          str(value.get("evidence_title") or ""), str(value.get("evidence") or ""),
                          str(value.get("evidence_source") or ""),
                          datetime.fromisoformat(produced) if produced else days.EARLIEST,
                          value.get("evidence_stale"))
        manual = value.get("manual")
        out[key] = Score(key, int(value.get("percent") or 0), str(value.get("evidence") or ""),
                         str(value.get("comment") or ""), source=source, proof=proof,
                         manual=int(manual) if isinstance(manual, int) else None)
    return out


@dataclass(frozen=True)
class Readiness:
    """A level's self-assessment: the average score and the criteria below 100%."""

    average: float
    threshold: int
    scored: int
    total: int
    unmet: tuple[tuple[Criterion, int], ...]  # (criterion, its score) for every score under 100

    @property
    def ready(self) -> bool:
        return self.total > 0 and self.average >= self.threshold


def criteria_of(raw: Sequence[Sequence[str]]) -> tuple[Criterion, ...]:
    """Criteria from stored ``[key, text, guidance]`` items, with a fourth part "evidence" for a
    criterion scored from evidence."""
    return tuple(Criterion(*item[:3], scored_by="evidence" if len(item) > 3 and item[3] == "evidence" else "hand")
                 for item in raw)


def criteria_items(criteria: Sequence[Criterion]) -> list[list[str]]:
    """Criteria as stored: ``[key, text, guidance]``, plus "evidence" for one scored from evidence."""
    return [[c.key, c.text, c.guidance, *(["evidence"] if c.from_evidence else [])] for c in criteria]


def readiness(criteria: Sequence[Criterion], scores: Mapping[str, Score], threshold: int = DEFAULT_READY_THRESHOLD
              ) -> Readiness:
    """The average completion over ``criteria`` (unscored counts 0) and the unmet ones."""
    percents = [scores[c.key].percent if c.key in scores else 0 for c in criteria]
    average = sum(percents) / len(percents) if percents else 0.0
    return Readiness(
        average=round(average, 1), threshold=threshold, scored=sum(1 for c in criteria if c.key in scores),
        total=len(criteria), unmet=tuple((c, p) for c, p in zip(criteria, percents) if p < 100),
    )


def parse_percent(raw: object, *, field: str = "percent") -> int:
    """A completion percentage, a whole number 0-100 (``"80%"`` is read too)."""
    text = str(raw).strip().rstrip("%").strip() if raw is not None else ""
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = float(text)
    except ValueError:
        raise InvalidInput(field, f"{raw!r} is not a percentage: a whole number from 0 to 100") from None
    if not 0 <= value <= 100 or value != int(value):  # NaN and infinities fail the range first
        raise InvalidInput(field, f"{raw!r} is outside 0-100: give a whole number from 0 to 100")
    return int(value)


# --- gates --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequirementFacts:
    number: str
    kind: str  # research / product
    verification_status: str
    validation_status: str


@dataclass(frozen=True)
class Override:
    gate: str
    justification: str
    by: str
    at: datetime
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class Gate:
    """One gate on leaving ``level``: what it checks, what blocks it now and what to do."""

    key: str
    level: int
    title: str
    blockers: tuple[str, ...]
    advice: str
    state: GateState = GateState.PASSED
    override: Override | None = None
    details: tuple[str, ...] = field(default=())

    @property
    def refuses(self) -> bool:
        return self.state in (GateState.BLOCKED, GateState.OVERRIDE_EXPIRED)


GATE_TITLES = {
    "research-vv": (5, "Every research requirement has passed verification and validation"),
    "product-requirements": (5, "Product requirements are drafted"),
    "validation": (8, "Every requirement has passed validation"),
}


def _gate(key: str, blockers: list[str], advice: str) -> Gate:
    level, title = GATE_TITLES[key]
    return Gate(key=key, level=level, title=title, blockers=tuple(blockers), advice=advice,
                state=GateState.BLOCKED if blockers else GateState.PASSED)


def gates_for(level: int, requirements: Iterable[RequirementFacts]) -> list[Gate]:
    """The gates on graduating out of ``level``, checked against the register (no overrides)."""
    reqs = list(requirements)
    register = "the requirements register is empty: add the requirements (Requirements & risks page)"
    if level == 5:
        research = [r for r in reqs if r.kind == "research"]
        missing = [f"research requirement {r.number}: verification {r.verification_status}, "
                   f"validation {r.validation_status}" for r in research
                   if r.verification_status != "passed" or r.validation_status != "passed"]
        if not reqs:
            missing = [register]
        elif not research:
            missing = ["no research requirement is recorded: the research phase's requirements belong in the register"]
        product = [] if any(r.kind == "product" for r in reqs) else [
            register if not reqs else "no product requirement yet: draft them before the handoff to product work"]
        return [
            _gate("research-vv", missing, "Finish the verification and validation of each research requirement "
                                          "and record them as passed, or revise the requirement."),
            _gate("product-requirements", product, "Write the product requirements with the product owners, "
                                                   "each with its verification and validation method."),
        ]
    if level == 8:
        missing = [f"requirement {r.number}: validation {r.validation_status}" for r in reqs
                   if r.validation_status != "passed"]
        if not reqs:
            missing = [register]
        return [_gate("validation", missing, "Walk through every requirement with its validation and record "
                                             "the outcome; a failed one is fixed or the requirement revised.")]
    return []


def with_overrides(gates: Iterable[Gate], overrides: Iterable[Override], now: datetime) -> list[Gate]:
    """Gates with the latest override of each applied: a blocked gate with a live override shows as
    overridden, with an expired one as such (and still refuses); a passing gate stays passed."""
    latest: dict[str, Override] = {}
    for o in sorted(overrides, key=lambda o: o.at):
        latest[o.gate] = o
    out = []
    for g in gates:
        o = latest.get(g.key)
        if g.state is GateState.BLOCKED and o is not None:
            state = GateState.OVERRIDE_EXPIRED if o.expired(now) else GateState.OVERRIDDEN
            g = Gate(key=g.key, level=g.level, title=g.title, blockers=g.blockers, advice=g.advice, state=state,
                     override=o)
        out.append(g)
    return out


def review_switchback_kind(from_level: int, to_level: int) -> levels.SwitchbackKind:
    """A switchback decided at a review is of kind ``review``, unless the pair is an embedded loop."""
    if levels.is_embedded(from_level, to_level):
        return levels.SwitchbackKind.EMBEDDED
    return levels.SwitchbackKind.REVIEW


def decision_cautions(decision: str, panel: Sequence[str], votes: Mapping[str, str],
                      ready: Readiness | None) -> list[str]:
    """What a decider should weigh before deciding (advice, never a refusal: the gates refuse).

    ``votes`` maps each voter to their current vote. Any decision taken while panel members have
    not voted says who; a decision that goes against votes cast says how many; graduating below
    the readiness threshold says the average and the threshold.
    """
    cautions: list[str] = []
    missing = [p for p in panel if p not in votes]
    if missing and len(missing) == len(panel):
        cautions.append("Nobody on the panel has voted yet.")
    elif missing:
        cautions.append(f"Not voted yet: {', '.join(missing)}.")
    wanted = {Decision.GRADUATE.value: Vote.GRADUATE.value, Decision.SWITCH_BACK.value: Vote.SWITCH_BACK.value}
    if decision in wanted:
        against = sorted(v for v, cast in votes.items() if cast != wanted[decision])
        if against:
            verb = "vote cast is" if len(votes) == 1 else "votes cast are"
            cautions.append(f"{len(against)} of {len(votes)} {verb} not “{wanted[decision]}” "
                            f"({', '.join(against)}).")
    if decision == Decision.GRADUATE.value and ready is not None and not ready.ready:
        if ready.total == 0:
            cautions.append("This level has no exit criteria to score.")
        else:
            cautions.append(f"The exit criteria average {ready.average:.0f}%, under the {ready.threshold}% "
                            "readiness threshold.")
    return cautions
