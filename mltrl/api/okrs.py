"""``/api/v1/okrs`` and ``/api/v1/analytics``: objectives of a quarter with their key results
("technology X reaches level >= L by date D"), the owners' check-ins, copies into another quarter,
the quarterly readiness review, and the days each technology spent at each level.

The records are the CLI's (``mltrl okr list --json``, ``mltrl okr report --format json``,
``mltrl analytics time-per-level --json``). Objectives and key results carry ``version`` (their
``ETag``); an edit or a delete takes ``If-Match``. Every write needs an editor.

The report and time per level are computed with pandas and numpy; what they give is made plain
JSON here (``plain``): numbers as numbers, a missing value (NaN, NA, NaT) as ``null``, instants
and days as ISO 8601 text.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Response
from pydantic import Field
from sqlmodel import Session

from mltrl import reports
from mltrl.api.http import Body, ActorDep, IfMatch, SessionDep, expected_version, tagged
from mltrl.domain import days
from mltrl.services import analytics, okr_report, okrs

router = APIRouter(tags=["okrs"])

SAMPLES_MAX = 100_000  # the CLI allows more; a request to the server is kept to a few seconds
SEED_MAX = 2**32 - 1




class NewObjective(Body):
    quarter: str = Field(description="The quarter, YYYY-Qn (e.g. 2027-Q1).")
    title: str = Field(description="The objective, in a line.")
    owner: str = ""


class ObjectiveChanges(Body):
    title: str | None = None
    owner: str | None = Field(default=None, description='"" clears it.')
    version: int | None = Field(default=None, description="The version read (or send If-Match).")


class CopyBody(Body):
    quarter: str | None = Field(default=None, description="The quarter to copy into (default: the next one).")


class NewKeyResult(Body):
    code: str = Field(description="Project ID of the technology.")
    target_level: int = Field(description="The level 0-9 it is to reach (or pass).")
    due: str | None = Field(default=None, description="The day it is due, YYYY-MM-DD, inclusive "
                                                      "(default: the quarter's last day).")
    owner: str = ""
    note: str = Field(default="", description="A note for the quarterly review.")


class KeyResultChanges(Body):
    target_level: int | None = None
    due: str | None = Field(default=None, description="YYYY-MM-DD.")
    owner: str | None = None
    note: str | None = None
    version: int | None = Field(default=None, description="The version read (or send If-Match).")


class NewCheckIn(Body):
    comment: str = Field(description="Where things stand, in a sentence or two.")
    confidence: int = Field(description="Confidence 0-10 that the key result will be met.")
    at: str | None = Field(default=None, description="When: ISO 8601 date or date-time in the past (default: now).")


# --- plain JSON ----------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """``value`` as plain JSON data: numpy and pandas scalars as Python numbers, NaN/NA/NaT and
    infinities as ``None``, instants and days as ISO 8601 text, frames as lists of records."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [plain(r) for r in value.to_dict("records")]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime(warn=False)
    if isinstance(value, datetime):
        return days.as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _iso(value: Any) -> str | None:
    value = days.as_utc(value)
    return None if value is None else value.isoformat()


# --- records -------------------------------------------------------------------------------------


def check_in_json(c) -> dict[str, Any]:
    return {"id": c.id, "key_result_id": c.key_result_id, "at": _iso(c.at), "author": c.author,
            "confidence": c.confidence, "comment": c.comment}


def key_result_json(k: okrs.KeyResultView) -> dict[str, Any]:
    kr = k.key_result
    return {"id": kr.id, "objective_id": kr.objective_id, "code": k.code, "technology": k.name, "level": k.level,
            "target_level": kr.target_level, "due": kr.due.isoformat(), "owner": kr.owner, "note": kr.note,
            "position": kr.position, "version": kr.version, "check_ins": [check_in_json(c) for c in k.check_ins]}


def objective_json(view: okrs.ObjectiveView) -> dict[str, Any]:
    o = view.objective
    return {"id": o.id, "quarter": o.quarter, "title": o.title, "owner": o.owner, "created_at": _iso(o.created_at),
            "created_by": o.created_by, "copied_from": o.copied_from_id, "version": o.version,
            "key_results": [key_result_json(k) for k in view.key_results]}


def _objective(session: Session, response: Response, objective_id: int) -> dict[str, Any]:
    record = objective_json(okrs.objective(session, objective_id))
    tagged(response, record["version"])
    return record


def _key_result(session: Session, response: Response, key_result_id: int) -> dict[str, Any]:
    record = key_result_json(okrs.key_result(session, key_result_id))
    tagged(response, record["version"])
    return record


def report_json(report: okr_report.QuarterReport) -> dict[str, Any]:
    """The quarterly review: what ``mltrl okr report --format json`` prints, plus each key result's
    version, forecast, phase and note, the roll-up, the quarter's report card and the burn-up."""
    record = reports.as_json(report)
    lines = {line.id: line for line in report.lines}
    for item in record["key_results"]:
        line = lines[item["id"]]
        f = line.forecast
        item.update({
            "version": line.version, "technology": line.name, "phase": line.phase, "active": line.active,
            "note": line.note,
            "forecast": None if f is None else {"level": f.level, "elapsed_days": f.elapsed_days,
                                                "expected_days": f.expected_days, "probability": f.probability,
                                                "samples": f.samples, "seed": f.seed, "reason": f.reason or None},
        })
    card = report.card
    record.update({
        "start": report.start, "end": report.end, "total": len(report.lines),
        "objectives": [{"id": v.objective.id, "title": v.objective.title, "owner": v.objective.owner,
                        "version": v.objective.version} for v in report.objectives],
        "card": {"levels_gained": card.levels_gained, "levels_lost": card.levels_lost,
                 "switchbacks": dict(card.switchbacks), "improved": card.improved, "dropped": card.dropped,
                 "held": card.held},
        "burnup": report.burnup,
    })
    return plain(record)


# --- objectives ----------------------------------------------------------------------------------


@router.get("/okrs/quarters", summary="The quarters that have objectives, oldest first")
def list_quarters(session: SessionDep, actor: ActorDep) -> list[str]:
    return okrs.quarters(session)


@router.get("/okrs", summary="Objectives with their key results and check-ins, by quarter")
def list_objectives(session: SessionDep, actor: ActorDep,
                    quarter: Annotated[str | None, Query(max_length=20, description="Only this quarter (YYYY-Qn).")]
                    = None) -> list[dict[str, Any]]:
    chosen = [quarter] if quarter is not None else okrs.quarters(session)
    return [objective_json(v) for q in chosen for v in okrs.objectives(session, q)]


@router.post("/okrs/objectives", status_code=201, summary="Add an objective to a quarter")
def add_objective(body: NewObjective, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    row = okrs.add_objective(session=session, actor=actor, quarter=body.quarter, title=body.title, owner=body.owner)
    response.headers["Location"] = f"/api/v1/okrs/objectives/{row.id}"
    return _objective(session, response, row.id)


@router.get("/okrs/objectives/{objective_id}", summary="One objective with its key results")
def get_objective(objective_id: int, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return _objective(session, response, objective_id)


@router.patch("/okrs/objectives/{objective_id}", summary="Edit an objective's title or owner")
def edit_objective(objective_id: int, body: ObjectiveChanges, response: Response, session: SessionDep,
                   actor: ActorDep, if_match: IfMatch = None) -> dict[str, Any]:
    okrs.edit_objective(session=session, actor=actor, objective_id=objective_id,
                        expected_version=expected_version(if_match, body.version), title=body.title,
                        owner=body.owner)
    return _objective(session, response, objective_id)


@router.delete("/okrs/objectives/{objective_id}", status_code=204,
               summary="Delete an objective with its key results and check-ins")
def delete_objective(objective_id: int, session: SessionDep, actor: ActorDep, if_match: IfMatch = None) -> Response:
    okrs.delete_objective(session=session, actor=actor, objective_id=objective_id,
                          expected_version=expected_version(if_match))
    return Response(status_code=204)


@router.post("/okrs/objectives/{objective_id}/copy", status_code=201,
             summary="Copy an objective and its key results into another quarter")
def copy_objective(objective_id: int, body: CopyBody, response: Response, session: SessionDep,
                   actor: ActorDep) -> dict[str, Any]:
    row = okrs.copy_objective(session=session, actor=actor, objective_id=objective_id,
                              quarter=body.quarter)
    response.headers["Location"] = f"/api/v1/okrs/objectives/{row.id}"
    return _objective(session, response, row.id)


# --- key results and check-ins -------------------------------------------------------------------


@router.post("/okrs/objectives/{objective_id}/key-results", status_code=201,
             summary="Add a key result: a technology reaches a level by a date")
def add_key_result(objective_id: int, body: NewKeyResult, response: Response, session: SessionDep,
                   actor: ActorDep) -> dict[str, Any]:
    row = okrs.add_key_result(session=session, actor=actor, objective_id=objective_id,
                              code=body.code, target_level=body.target_level, due=body.due, owner=body.owner,
                              note=body.note)
    response.headers["Location"] = f"/api/v1/okrs/key-results/{row.id}"
    return _key_result(session, response, row.id)


@router.get("/okrs/key-results/{key_result_id}", summary="One key result with its check-ins")
def get_key_result(key_result_id: int, response: Response, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return _key_result(session, response, key_result_id)


@router.patch("/okrs/key-results/{key_result_id}", summary="Edit a key result's level, date, owner or note")
def edit_key_result(key_result_id: int, body: KeyResultChanges, response: Response, session: SessionDep,
                    actor: ActorDep, if_match: IfMatch = None) -> dict[str, Any]:
    okrs.edit_key_result(session=session, actor=actor, key_result_id=key_result_id,
                         expected_version=expected_version(if_match, body.version), target_level=body.target_level,
                         due=body.due, owner=body.owner, note=body.note)
    return _key_result(session, response, key_result_id)


@router.delete("/okrs/key-results/{key_result_id}", status_code=204,
               summary="Delete a key result and its check-ins")
def delete_key_result(key_result_id: int, session: SessionDep, actor: ActorDep, if_match: IfMatch = None) -> Response:
    okrs.delete_key_result(session=session, actor=actor, key_result_id=key_result_id,
                           expected_version=expected_version(if_match))
    return Response(status_code=204)


@router.post("/okrs/key-results/{key_result_id}/check-ins", status_code=201,
             summary="Check in on a key result: a comment and a confidence 0-10")
def check_in(key_result_id: int, body: NewCheckIn, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    row = okrs.check_in(session=session, actor=actor, key_result_id=key_result_id,
                        comment=body.comment, confidence=body.confidence, at=body.at)
    return check_in_json(row)


# --- reports -------------------------------------------------------------------------------------


@router.get("/okrs/report", summary="The quarterly readiness review: status and forecast per key result")
def quarter_report(
    session: SessionDep, actor: ActorDep,
    quarter: Annotated[str, Query(max_length=20, description="The quarter, YYYY-Qn (e.g. 2027-Q1).")],
    as_of: Annotated[str | None, Query(max_length=40, description="Judge as of this moment: ISO 8601 date (its "
                                       "first instant, UTC) or date-time (default: now).")] = None,
    samples: Annotated[int, Query(ge=100, le=SAMPLES_MAX, description="Resampled paths per key result.")]
    = okr_report.DEFAULT_SAMPLES,
    seed: Annotated[int, Query(ge=0, le=SEED_MAX, description="The forecast's seed (same seed, same report).")]
    = okr_report.DEFAULT_SEED,
) -> dict[str, Any]:
    moment = None if as_of is None else days.parse_when(as_of, field="as_of")
    report = okr_report.quarter_report(session, quarter, as_of=moment, samples=samples, seed=seed)
    return report_json(report)


@router.get("/analytics/time-per-level", tags=["analytics"], summary="Days each technology spent at each level")
def time_per_level(
    session: SessionDep, actor: ActorDep,
    as_of: Annotated[str | None, Query(max_length=40, description="As of this moment: ISO 8601 date or date-time "
                                       "(default: now).")] = None,
) -> list[dict[str, Any]]:
    moment = None if as_of is None else days.parse_when(as_of, field="as_of")
    return plain(analytics.time_per_level(session, as_of=moment))
