"""Synthetic evidence for the benchmark portfolio (issue 17), as bulk-insert row dicts.

One technology per size, the **evidence-heavy technology**, gets ``EVIDENCE_RECORDS`` = 500
evidence records; no other technology has any (so the rest of the portfolio reads as before).

* **Which one** (``pick``): the first system, in code order, of the first chunk of technologies
  that is active, at level 8 now (else 4, else 3: a level with a criterion scored from evidence in
  the built-in criteria set, ``SCORED_FROM_EVIDENCE``), that held levels 3 and 4 on its way there,
  reached its level more than ``MIN_DAYS_AT_LEVEL`` days ago and is not ``REVIEW_CODE``. The first
  chunk's rows are drawn alike at every size, so it is the same code at S, M and L (``T00014``
  with seed 42). ``bench/reviewgen.py`` always opens a review of it at its current level (its
  checklist then shows the evidence).
* **The records** (``evidence_rows``): spread over the levels it held (about 30% of its current
  level, 15% each of levels 3 and 4, the rest evenly over the others), each produced while the
  technology was at that level (a few of the current level's just before it got there: stale
  because of it; about half of the current level's in the last 80 days, so fresh ones and ones
  stale by age both occur). 85% name an exit criterion of their level (40% of those at levels 3, 4
  and 8 the one scored from evidence), the others the level as a whole or, on a technology with a
  register, one of its requirements. Kinds: test reports, CI runs, MLflow runs, model versions,
  model cards, documents, dashboards; statuses pass, fail and info (a test report or CI run passes
  or fails; documents are info); metrics as each source gives them (a test report's counts as
  ``add_junit_report`` writes them); an ``external_id`` on the records a sync or CI job would send
  once (unique per technology); sent by the CI runner's token (``ci-runner``, ``token nightly``),
  the MLflow webhook (an owner, ``mlflow webhook``) or a person.
* **As the service writes them**: the columns ``services.reviews.add_evidence`` stores (values
  normalised by the same rules: floats for metrics, aware UTC times), ``recorded_at`` a few minutes
  after ``produced_at`` (the moment it was sent), ids in the order they were sent, and one
  ``auditentry`` per record (entity ``evidence``, action ``create``, ``after`` the row's snapshot
  with the technology's code, the sender's ``via``), exactly as the service audits it.

``verify(path)`` checks it all on the generated file, the last point by replaying every record
through ``add_evidence`` itself (its body, in one transaction on a throwaway copy, with
``days.recorded_at``) and comparing the rows and audit entries it writes with the generated ones.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from mltrl.domain import evidence as rules
from mltrl.domain.criteria_default import DEFAULT_CRITERIA, SCORED_FROM_EVIDENCE

REVIEW_CODE = "T00042"
EVIDENCE_RECORDS = 500
LEVELS_PREFERRED = (8, 4, 3)  # the current level the evidence-heavy technology is picked at
MIN_DAYS_AT_LEVEL = 30
FRESH_DAYS = 80  # under the default evidence_stale_days (90)
CRITERION_SHARE = 0.85
SCORED_SHARE = 0.40  # of the records naming a criterion, at a level with one scored from evidence
CI = ("ci-runner", "token nightly")
SOURCES_CI = ("GitHub Actions", "GitLab CI", "Jenkins")
SUITES = ("unit", "integration", "property", "data-validation", "contract", "load", "smoke", "regression")
METRICS_ML = ("accuracy", "f1", "auc", "precision", "recall", "calibration_error", "latency_ms")
TEXT_KINDS = {"model-card": "Model card", "document": "Design note", "dashboard": "Dashboard", "other": "Note"}


def _held_intervals(events: list[dict], now: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each level the technology was at: the (start, end) of each stay (the last ends ``now``)."""
    out: dict[int, list[tuple[datetime, datetime]]] = {}
    for e, nxt in zip(events, [*events[1:], None]):
        out.setdefault(e["to_level"], []).append((e["at"], nxt["at"] if nxt else now))
    return out


def pick(rows: dict[str, list[dict]], now: datetime) -> dict | None:
    """The evidence-heavy technology among one chunk's rows (a project row), or None."""
    events: dict[int, list[dict]] = {}
    for e in rows["event"]:
        events.setdefault(e["project_id"], []).append(e)
    systems = sorted((p for p in rows["project"] if p["parent_id"] is None), key=lambda p: p["code"])
    for level in LEVELS_PREFERRED:
        for p in systems:
            held = {e["to_level"] for e in events.get(p["id"], [])}
            if (p["status"] == "active" and p["level"] == level and p["code"] != REVIEW_CODE and {3, 4} <= held
                    and p["level_since"] < now - timedelta(days=MIN_DAYS_AT_LEVEL)):
                return p
    return None


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=int(rng.uniform(0, max((end - start).total_seconds(), 0.0))))


class _Records:
    """The evidence and audit rows of the evidence-heavy technology."""

    def __init__(self, rng: random.Random, project: dict, owners: list[str], requirements: list[str]) -> None:
        self.rng, self.p, self.owners, self.requirements = rng, project, owners, requirements
        self.serial = {"ci": 4000, "run": 0, "version": 0}
        self.slug = project["code"].lower()

    def record(self, level: int, criterion: str | None, produced: datetime) -> dict:
        rng = self.rng
        scored = criterion is not None and criterion in SCORED_FROM_EVIDENCE.get(level, ())
        if scored:
            kind = rng.choices(["test-report", "ci-run", "mlflow-run"], weights=[70, 20, 10 if level == 4 else 0])[0]
        elif criterion is None:
            kind = rng.choices(["model-version", "mlflow-run", "dashboard", "ci-run", "document"],
                               weights=[30, 25, 15, 20, 10])[0]
        else:
            kind = rng.choices(["test-report", "ci-run", "mlflow-run", "model-version", "model-card", "document",
                                "dashboard", "other"], weights=[20, 20, 15, 10, 10, 15, 5, 5])[0]
        requirement = None
        if criterion is None and self.requirements and rng.random() < 0.4:
            requirement = rng.choice(self.requirements)
        what = criterion or (f"requirement {requirement}" if requirement else f"level {level}")
        status, metrics, details, external_id, url, source = "info", {}, {}, None, "", ""
        by, via = rng.choice(self.owners), None
        if kind in ("test-report", "ci-run"):
            self.serial["ci"] += rng.randint(1, 9)
            run = self.serial["ci"]
            status = "fail" if rng.random() < 0.3 else ("info" if scored and rng.random() < 0.05 else "pass")
            source = rng.choice(SOURCES_CI)
            url = f"https://ci.example.org/{self.slug}/runs/{run}"
            external_id = f"ci:{run}"
            by, via = CI
            if kind == "test-report":
                tests = rng.randint(40, 900)
                failed = 0 if status != "fail" else rng.randint(1, max(1, tests // 20))
                errors = 0 if status != "fail" or rng.random() < 0.7 else rng.randint(1, 3)
                skipped = rng.choice([0, 0, 0, rng.randint(1, 12)])
                seconds = round(rng.uniform(20, 1800), 3)
                passed = tests - failed - errors - skipped
                metrics = {"tests": tests, "passed": passed, "failures": failed, "errors": errors,
                           "skipped": skipped, "duration_s": seconds}
                suites = rng.sample(SUITES, rng.randint(1, 4))
                details = {"suites": suites,
                           "failed": [f"{rng.choice(suites)} › test_{what.replace('-', '_').replace(' ', '_')}_{k}"
                                      for k in range(min(failed + errors, 10))]}
                counts = f"{passed} passed, {failed + errors} failed" + (f", {skipped} skipped" if skipped else "")
                title = f"Tests: {counts} ({what}, {source} run {run})"
            else:
                metrics = {"duration_s": round(rng.uniform(60, 3600), 1),
                           "p95_latency_ms": round(rng.uniform(40, 900), 1),
                           "error_rate": round(rng.uniform(0, 0.05), 4)}
                details = {"pipeline": run, "branch": rng.choice(["main", "main", "release"])}
                title = f"Nightly pipeline {run} on {details['branch']}: {what}"
        elif kind == "mlflow-run":
            self.serial["run"] += 1
            run_id = f"{rng.getrandbits(128):032x}"
            status = rng.choices(["pass", "fail", "info"], weights=[50, 20, 30])[0]
            metrics = {name: round(rng.uniform(0.5, 0.99), 4) if name != "latency_ms" else round(rng.uniform(5, 200), 1)
                       for name in rng.sample(METRICS_ML, rng.randint(2, 6))}
            details = {"experiment": f"{self.slug}-{what}", "run_id": run_id}
            external_id, source = f"mlflow-run:{run_id}", "MLflow"
            url = f"https://mlflow.example.org/#/experiments/{level}/runs/{run_id}"
            by, via = rng.choice(self.owners), "mlflow webhook"
            title = f"MLflow run {self.serial['run']} for {what}"
        elif kind == "model-version":
            self.serial["version"] += 1
            version = self.serial["version"]
            status = rng.choices(["pass", "info"], weights=[30, 70])[0]
            metrics = {"version": version, **{m: round(rng.uniform(0.6, 0.99), 4) for m in ("accuracy", "f1")}}
            details = {"model": f"{self.slug}-model", "version": str(version), "aliases": ["champion"] if
                       rng.random() < 0.2 else []}
            external_id, source = f"models:/{self.slug}-model/{version}", "MLflow"
            url = f"https://mlflow.example.org/#/models/{self.slug}-model/versions/{version}"
            by, via = rng.choice(self.owners), "mlflow webhook"
            title = f"Model version {version} registered ({what})"
        else:
            status = "info"
            if kind == "dashboard":
                metrics = {"requests_per_s": round(rng.uniform(1, 500), 1),
                           "p95_latency_ms": round(rng.uniform(20, 800), 1)}
                source = "Grafana"
            else:
                source = rng.choice(["Confluence", "Google Docs", ""])
            url = "" if rng.random() < 0.1 else f"https://docs.example.org/{self.slug}/{kind}/{rng.randint(1, 999)}"
            title = f"{TEXT_KINDS[kind]}: {what} at level {level}"
        return dict(level=level, criterion_key=criterion, requirement=requirement, kind=kind, status=status,
                    title=title[:rules.TITLE_MAX], url=url, metrics={k: float(v) for k, v in metrics.items()},
                    details=details, source=source, external_id=external_id, produced_at=produced,
                    recorded_by=by, recorded_via=via)


def evidence_rows(rng: random.Random, project: dict, events: list[dict], owners: list[str], requirements: list[str],
                  now: datetime, ids: dict[str, int]) -> dict[str, list[dict]]:
    """``EVIDENCE_RECORDS`` evidence rows of ``project`` (a project row of the chunk, ``events`` its
    level events in time order) and their audit rows; ids continue from ``ids``."""
    from mltrl.models import Evidence
    from mltrl.services._core import snapshot

    stays = _held_intervals(events, now - timedelta(hours=1))
    current, since = project["level"], project["level_since"]
    others = sorted(lv for lv in stays if lv != current)
    weight = {lv: (15.0 if lv in SCORED_FROM_EVIDENCE else 40.0 / max(1, len(others))) for lv in others}
    weight[current] = 30.0
    levels = sorted(weight)
    chosen = rng.choices(levels, weights=[weight[lv] for lv in levels], k=EVIDENCE_RECORDS)
    maker = _Records(rng, project, owners, requirements)
    records = []
    for level in chosen:
        keys = [c[0] for c in DEFAULT_CRITERIA[level]]
        criterion = None
        if rng.random() < CRITERION_SHARE:
            scored = SCORED_FROM_EVIDENCE.get(level, ())
            criterion = scored[0] if scored and rng.random() < SCORED_SHARE else rng.choice(keys)
        if level == current:
            roll = rng.random()
            if roll < 0.05 and len(events) > 1:  # sent for the level it was about to reach: stale for it
                produced = _between(rng, since - timedelta(days=20), since - timedelta(minutes=10))
            elif roll < 0.55 and since < now - timedelta(days=FRESH_DAYS):
                produced = _between(rng, now - timedelta(days=FRESH_DAYS), now - timedelta(hours=1))
            else:
                produced = _between(rng, since, now - timedelta(hours=1))
        else:
            spans = stays[level]
            start, end = rng.choices(spans, weights=[max((b - a).total_seconds(), 1.0) for a, b in spans])[0]
            produced = _between(rng, start, end - timedelta(minutes=1))
        records.append(maker.record(level, criterion, produced))
    # Sent a few minutes after they were produced, in that order (ids follow it, as the app's would).
    for r in records:
        r["recorded_at"] = min(r["produced_at"] + timedelta(minutes=rng.randint(1, 30), seconds=rng.randint(0, 59)),
                               now - timedelta(minutes=1))
    records.sort(key=lambda r: (r["recorded_at"], r["produced_at"]))
    out: dict[str, list[dict]] = {"evidence": [], "audit": []}
    for r in records:
        ids["evidence"] += 1
        row = dict(id=ids["evidence"], project_id=project["id"], **r)
        out["evidence"].append(row)
        ids["audit"] += 1
        out["audit"].append(dict(
            id=ids["audit"], at=r["recorded_at"], actor=r["recorded_by"], via=r["recorded_via"], entity="evidence",
            entity_id=str(row["id"]), action="create", before=None,
            after=snapshot(Evidence(**row), code=project["code"])))
    return out


# --- checks -------------------------------------------------------------------------------------


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def verify(path: str) -> dict[str, int]:
    """Check the evidence of the SQLite file at ``path`` (raises ``AssertionError``); returns a few
    counts. Every record is replayed through ``services.reviews.add_evidence`` on a throwaway copy
    (the generated records and their audit rows taken out first): the rows and the audit entries
    the service writes must equal the generated ones, ids included. Run once after generating."""
    import json
    import sqlite3
    import tempfile
    from pathlib import Path

    from sqlalchemy.pool import NullPool
    from sqlmodel import Session, col, select

    from bench.common import copy_db
    from mltrl import db
    from mltrl.domain import days
    from mltrl.models import AuditEntry, Evidence
    from mltrl.services import Actor, reviews
    from mltrl.services._core import within

    con = sqlite3.connect(path)
    try:
        q = lambda sql, *a: con.execute(sql, a).fetchall()
        per = q("SELECT project_id, count(*) FROM evidence GROUP BY project_id")
        assert len(per) == 1 and per[0][1] == EVIDENCE_RECORDS, per
        pid = per[0][0]
        code, level, since, status = q("SELECT code, level, level_since, status FROM project WHERE id = ?", pid)[0]
        assert level in LEVELS_PREFERRED and status == "active" and code != REVIEW_CODE, (code, level, status)
        opened = q("SELECT level, criteria FROM review WHERE project_id = ? AND status = 'open'", pid)
        assert len(opened) == 1 and opened[0][0] == level, (code, opened)
        assert any(len(c) == 4 and c[3] == "evidence" for c in json.loads(opened[0][1])), "no criterion from evidence"
        rows = q("SELECT level, criterion_key, kind, status FROM evidence")
        levels = {r[0] for r in rows}
        held = {lv for (lv,) in q("SELECT DISTINCT to_level FROM levelevent WHERE project_id = ?", pid)}
        assert levels <= held and len(levels) >= 3, (levels, held)
        for lv in levels & set(SCORED_FROM_EVIDENCE):
            key = SCORED_FROM_EVIDENCE[lv][0]
            assert any(r[0] == lv and r[1] == key and r[3] in ("pass", "fail") for r in rows), (lv, key)
        assert {r[3] for r in rows} == set(rules.STATUSES), "not every status"
        assert len({r[2] for r in rows}) >= 6, {r[2] for r in rows}
        assert q("SELECT count(*) FROM auditentry WHERE entity = 'evidence'")[0][0] == EVIDENCE_RECORDS
        counts = {"evidence": EVIDENCE_RECORDS, "evidence_levels": len(levels),
                  "evidence_current_level": sum(r[0] == level for r in rows),
                  "evidence_with_criterion": sum(r[1] is not None for r in rows)}
    finally:
        con.close()

    columns = [c.name for c in Evidence.__table__.columns]
    with tempfile.TemporaryDirectory(prefix="mltrl-bench-evidence-") as tmp:
        copy = copy_db(Path(path), Path(tmp))
        engine = db.make_engine(f"sqlite:///{copy}", poolclass=NullPool)
        try:
            with Session(engine) as s:
                generated = [r.model_dump() for r in s.exec(select(Evidence).order_by(col(Evidence.id))).all()]
                audits = {a.entity_id: a.model_dump() for a in s.exec(
                    select(AuditEntry).where(AuditEntry.entity == "evidence")).all()}
            with engine.begin() as c:
                c.exec_driver_sql("DELETE FROM evidence")
                c.exec_driver_sql("DELETE FROM auditentry WHERE entity = 'evidence'")
            with Session(engine) as s:  # the use case's body (``within``), one commit at the end: the same rows
                for g in generated:
                    with days.recorded_at(_aware(g["recorded_at"])):
                        added = within(reviews.add_evidence)(
                            session=s, actor=Actor(g["recorded_by"], via=g["recorded_via"]), code=code,
                            level=g["level"], kind=g["kind"], status=g["status"], title=g["title"], url=g["url"],
                            criterion=g["criterion_key"], requirement=g["requirement"], metrics=g["metrics"],
                            details=g["details"], source=g["source"], produced_at=_aware(g["produced_at"]),
                            external_id=g["external_id"])
                    assert added.created, g["id"]
                s.commit()
            with Session(engine) as s:
                written = [r.model_dump() for r in s.exec(select(Evidence).order_by(col(Evidence.id))).all()]
                replayed = {a.entity_id: a.model_dump() for a in s.exec(
                    select(AuditEntry).where(AuditEntry.entity == "evidence")).all()}
        finally:
            engine.dispose()
    assert len(written) == len(generated)
    for g, w in zip(generated, written):
        for name in columns:
            a, b = g[name], w[name]
            if isinstance(a, datetime):
                a, b = _aware(a), _aware(b)
            assert a == b, (g["id"], name, a, b)
    assert set(replayed) == set(audits)
    for key, g in audits.items():
        w = replayed[key]
        assert (_aware(g["at"]), g["actor"], g["via"], g["action"], g["before"], g["after"]) == (
            _aware(w["at"]), w["actor"], w["via"], w["action"], w["before"], w["after"]), (key, g, w)
    return counts
