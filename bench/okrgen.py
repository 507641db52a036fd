"""Synthetic OKRs for the benchmark portfolio (issue 8), as bulk-insert row dicts.

``okr_rows(rng, projects, now, ids, owners)`` builds objectives in the current quarter
(``BENCH_QUARTER``) and the one before: ``n_technologies // 50`` objectives per quarter (at least
two), each with 3-5 key results "technology X reaches level >= L by the quarter's last day" on
distinct technologies (L one or two above the technology's level now, or at or below it for some,
so every status occurs), and 0-3 check-ins per key result dated in the quarter before ``now``.
``REVIEW_CODE`` = ``T00042`` is always a key result of the first objective. The rows keep the
models' rules (a level 0-9, confidence 0-10, one key result per objective, technology and level).
No audit rows (as for the other generated rows). ``verify(path)`` checks them on the file.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, time, timedelta

from mltrl.domain import okr

REVIEW_CODE = "T00042"
TITLES = ("Ship", "Harden", "Validate", "Integrate", "Pilot", "Scale", "Retire the debt of")
COMMENTS = ("On plan.", "Blocked on data access.", "Review booked.", "Slipping: the panel asked for more tests.",
            "Ahead: the pilot went well.")


def bench_quarter(now: datetime) -> okr.Quarter:
    return okr.quarter_of(now.date())


def okr_rows(rng: random.Random, projects: list[tuple[int, str, int | None]], now: datetime, ids: dict[str, int],
             owners: list[str]) -> dict[str, list[dict]]:
    """``projects``: (id, code, level now) of every project. Returns objective, keyresult and
    checkin rows (ids continue from ``ids``)."""
    out: dict[str, list[dict]] = {"objective": [], "keyresult": [], "checkin": []}
    current = bench_quarter(now)
    per_quarter = max(2, len(projects) // 125)  # technologies are about 40% of projects
    started = [p for p in projects if p[2] is not None]
    special = next(p for p in projects if p[1] == REVIEW_CODE)
    for quarter in (current.previous(), current):
        start = datetime.combine(quarter.start, time(), tzinfo=UTC)
        horizon = min(now, datetime.combine(quarter.end, time(), tzinfo=UTC) + timedelta(days=1))
        for k in range(per_quarter):
            ids["objective"] += 1
            oid = ids["objective"]
            owner = rng.choice(owners)
            out["objective"].append(dict(id=oid, quarter=str(quarter), title=f"{rng.choice(TITLES)} line {k + 1}",
                                         owner=owner, created_at=start, created_by=owner, copied_from_id=None,
                                         version=1))
            chosen = rng.sample(started, rng.randint(3, 5))
            if k == 0 and quarter == current and special not in chosen:
                chosen[0] = special
            for position, (pid, _code, level) in enumerate(chosen):
                target = min(9, max(0, level + rng.choice([-1, 0, 1, 1, 2, 2])))
                ids["keyresult"] += 1
                kid = ids["keyresult"]
                out["keyresult"].append(dict(id=kid, objective_id=oid, project_id=pid, target_level=target,
                                             due=quarter.end, owner=rng.choice(owners), note="", position=position,
                                             version=1))
                span = max(1, int((horizon - start).total_seconds()))
                for _ in range(rng.randint(0, 3)):
                    ids["checkin"] += 1
                    out["checkin"].append(dict(id=ids["checkin"], key_result_id=kid,
                                               at=start + timedelta(seconds=rng.randint(0, span - 1)),
                                               author=rng.choice(owners), comment=rng.choice(COMMENTS),
                                               confidence=rng.randint(0, 10)))
    return out


def verify(path: str) -> dict[str, int]:
    """Check the generated OKRs on the file: every key result's technology exists and its level,
    due date and quarter agree; check-ins' confidences are 0-10; T00042 is in the current quarter."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT k.target_level, k.due, o.quarter FROM keyresult k "
                           "JOIN objective o ON o.id = k.objective_id JOIN project p ON p.id = k.project_id").fetchall()
        assert rows, "no key results"
        for level, due, quarter in rows:
            assert 0 <= level <= 9 and str(okr.quarter_of(datetime.fromisoformat(str(due)).date())) == quarter
        bad = con.execute("SELECT count(*) FROM checkin WHERE confidence NOT BETWEEN 0 AND 10").fetchone()[0]
        assert bad == 0, bad
        special = con.execute("SELECT count(*) FROM keyresult k JOIN project p ON p.id = k.project_id "
                              "WHERE p.code = ?", (REVIEW_CODE,)).fetchone()[0]
        assert special >= 1
        return {"objectives": con.execute("SELECT count(*) FROM objective").fetchone()[0], "key_results": len(rows),
                "check_ins": con.execute("SELECT count(*) FROM checkin").fetchone()[0]}
    finally:
        con.close()
