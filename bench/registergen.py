"""Synthetic requirements and risk registers for the benchmark portfolio (issue 6).

``allocate(rng, n)`` decides how many requirements and risks each technology gets: on average
``REQUIREMENTS_PER_TECHNOLOGY`` and ``RISKS_PER_TECHNOLOGY`` (exact totals: 50,000 and 100,000 at
L), spread unevenly (a gamma-distributed weight per technology; about 10% have neither register,
a few have only one of them), with ``REGISTER_CODE`` (``T00042``, the long card's technology) given
the rich register ``REGISTER_REQUIREMENTS`` / ``REGISTER_RISKS`` at every size.

``register_rows(rng, system, components, owners, ...)`` builds the column dicts (ids included) of
one technology's registers, kept on the system project. The rows keep the invariants of
``mltrl.services.risks`` and ``mltrl.domain.risk``:

* requirement numbers ``n``, ``n.m``, ``n.m.k``, unique per project (some subsets run past 9, so
  1.10 sorts after 1.9 only by ``sort_key = rules.number_sort_key(number)``), inserted out of order;
  ``level`` at or below the project's level, ``kind = rules.default_kind(level)``;
  verification/validation statuses from ``rules.VVStatus``; p(failure) in [0, 1] rounded to 3
  places (about 8% exactly on a band edge 0, 0.2, ..., 1.0); value an integer 1-10;
* risk titles unique per project (case-insensitively, as CSV import keys them), category from
  ``rules.Category``, status from ``rules.RiskStatus`` (about 15% closed, 3% accepted with
  ``accepted_by``/``accepted_reason``/``accepted_until``), an optional component of the same
  technology and an optional requirement of the same project; ``last_reviewed_at`` spread over the
  200 days before ``now`` (so some risks are overdue for review);
* 1-3 ``RiskEvent`` rows per risk: ``create`` (status open or mitigating), then ``update`` (or
  ``accept``) events at increasing times, each changing p(failure), value or status; the last one
  is at ``last_reviewed_at`` and carries the risk's current p, value and status; ``version`` counts
  the writes (one per event), ``updated_at`` is the last event's time;
* dates are aware UTC datetimes, after the project's creation and before ``now``.

No audit rows are written for them (as for the level events): the data version is already set by
the projects' audit rows.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from mltrl.domain import risk as rules

REGISTER_CODE = "T00042"  # = cardgen.LONG_CARD_CODE: the technology every size measures in depth
REGISTER_REQUIREMENTS = 200
REGISTER_RISKS = 400
REQUIREMENTS_PER_TECHNOLOGY = 10
RISKS_PER_TECHNOLOGY = 20
REVIEW_WINDOW_DAYS = 200
P_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)

SUBJECTS = ["The model", "The data pipeline", "The serving API", "The evaluation harness", "The feature store",
            "The monitoring", "The retraining job", "The labelling tool", "The simulator", "The fallback rules"]
SHALL = [
    "shall keep {metric} at or above {x} on {dataset}",
    "shall answer 95% of requests within {ms} ms at {k}x today's traffic",
    "shall flag inputs outside the training distribution before scoring them",
    "shall be retrained from a versioned snapshot of {dataset}",
    "shall log every prediction with its model version and input hash",
    "shall degrade to the rule-based baseline when {metric} drops below {x}",
    "shall report {metric} per segment, with confidence intervals",
    "shall not use personal data beyond the fields listed in the data contract",
    "shall reproduce a released result from its commit and seed",
    "shall alert the owner within {k} hours of a schema change upstream",
]
METRICS = ["AUROC", "F1", "recall at 1% FPR", "precision", "MAPE", "calibration error", "NDCG@10", "coverage"]
DATASETS = ["GRID-LOAD v3.2", "RETAIL-TX 2024Q4", "CLIN-NOTES v1.7", "SAT-TILES v5", "PAY-EVENTS v9",
            "LINE-SENSORS v4.3", "CROP-YIELD v2", "TRANSIT-GTFS 2025"]
VERIFICATION = ["unit tests", "integration test suite", "offline evaluation on the frozen test split",
                "load test", "code review", "static analysis", "data validation checks"]
VALIDATION = ["user study", "shadow deployment", "A/B test", "review with the domain experts",
              "pilot with two sites", "comparison against the incumbent process"]
RISK_TITLES = {
    "science": ["Effect does not replicate", "Baseline is as good", "Hypothesis rests on a proxy metric",
                "Gain is within noise", "Method does not scale past the pilot"],
    "technical": ["Latency over budget", "Memory blow-up at peak", "Dependency end of life",
                  "Numerical instability in training", "Serving and training features diverge"],
    "data": ["Label noise", "Upstream schema change", "Seasonal drift", "Class imbalance worsens",
             "Data source discontinued", "Leakage between splits"],
    "ethics": ["Unequal error rates by region", "Automation bias of operators", "Opaque decisions for appeals",
               "Harm from false positives"],
    "security & privacy": ["Re-identification from outputs", "Model extraction through the API",
                           "Poisoned training data", "Personal data in logs"],
    "sim-to-real": ["Simulator misses sensor noise", "Synthetic data too clean", "Field conditions outside the sim",
                    "Actuator lag not modelled"],
    "project/business": ["Key engineer leaves", "Partner team deprioritises", "Budget cut at the next review",
                         "Regulatory approval delayed", "No owner for operations"],
}
CATEGORY_WEIGHTS = {"science": 10, "technical": 25, "data": 25, "ethics": 8, "security & privacy": 10,
                    "sim-to-real": 7, "project/business": 15}
MITIGATIONS = ["Add a monitor and an alert with an owner", "Keep the baseline as a fallback",
               "Second annotator pass on the disputed labels", "Agree a data contract with the source team",
               "Load test at four times the traffic before the release", "Quarterly fairness audit by region",
               "Document the limits in the card and the user guide", "Budget a retraining every month"]
ACCEPT_REASONS = ["Cost of mitigation exceeds the expected loss", "Covered by the partner's own controls",
                  "Only affects the pilot, which ends before it matters", "Agreed at the level review"]


def allocate(rng: random.Random, n_technologies: int) -> tuple[list[int], list[int]]:
    """Requirements and risks per technology (index 0 is T00001); totals are exactly
    ``REQUIREMENTS_PER_TECHNOLOGY`` and ``RISKS_PER_TECHNOLOGY`` times ``n_technologies``."""
    rich = int(REGISTER_CODE[1:]) - 1
    w_req, w_risk = [], []
    for i in range(n_technologies):
        if i == rich:
            w_req.append(0.0)
            w_risk.append(0.0)
            continue
        r = rng.random()
        w = rng.gammavariate(0.7, 1.0)
        w_req.append(0.0 if r < 0.10 or 0.14 <= r < 0.17 else w)  # 10% neither, 4% only risks,
        w_risk.append(0.0 if r < 0.14 else w * rng.uniform(0.5, 1.5))  # 3% only requirements
    reqs = _spread(REQUIREMENTS_PER_TECHNOLOGY * n_technologies, w_req, rich, REGISTER_REQUIREMENTS)
    risks = _spread(RISKS_PER_TECHNOLOGY * n_technologies, w_risk, rich, REGISTER_RISKS)
    return reqs, risks


def _spread(total: int, weights: list[float], fixed_at: int, fixed: int) -> list[int]:
    """``total`` split over ``weights`` (largest remainder), with ``fixed`` at index ``fixed_at``."""
    counts = [0] * len(weights)
    if 0 <= fixed_at < len(weights):
        fixed = min(fixed, total)
        counts[fixed_at] = fixed
        total -= fixed
    s = sum(weights)
    if not s:
        return counts
    raw = [total * w / s for w in weights]
    floors = [int(x) for x in raw]
    left = total - sum(floors)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - floors[i], reverse=True)[:left]:
        floors[i] += 1
    return [c + f for c, f in zip(counts, floors)]


def _p(rng: random.Random) -> float:
    if rng.random() < 0.08:
        return rng.choice(P_EDGES)
    return round(rng.betavariate(2.0, 3.0), 3)


def _numbers(rng: random.Random, k: int) -> list[str]:
    """``k`` distinct requirement numbers as a register grows: 1, 1.1, 1.1.1, ..., some past 9."""
    out: list[str] = []
    top = 0
    while len(out) < k:
        top += 1
        out.append(str(top))
        for m in range(1, rng.choice([0, 0, 1, 2, 3, 4, 11]) + 1):
            out.append(f"{top}.{m}")
            for c in range(1, rng.choice([0, 0, 0, 1, 2, 3]) + 1):
                out.append(f"{top}.{m}.{c}")
    return out[:k]


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max((end - start).total_seconds(), 0.0)
    return start + timedelta(seconds=int(rng.uniform(0, span)))


def _statement(rng: random.Random) -> str:
    text = rng.choice(SHALL).format(metric=rng.choice(METRICS), x=round(rng.uniform(0.6, 0.95), 2),
                                    dataset=rng.choice(DATASETS), ms=rng.choice([50, 100, 200, 500]),
                                    k=rng.choice([2, 4, 12, 24]))
    return f"{rng.choice(SUBJECTS)} {text}."


def _vv(rng: random.Random, lag: int) -> str:
    weights = [[15, 30, 45, 10], [35, 30, 28, 7]][lag]  # validation lags verification
    return rng.choices([s.value for s in rules.VVStatus], weights=weights)[0]


def register_rows(rng: random.Random, system: dict, components: list[dict], owners: list[str],
                  people: list[str], n_requirements: int, n_risks: int, now: datetime,
                  ids: dict[str, int]) -> dict[str, list[dict]]:
    """The requirement, risk and risk-event rows of ``system`` (a project row dict)."""
    out: dict[str, list[dict]] = {"requirement": [], "risk": [], "riskevent": []}
    pid, level = system["id"], system["level"]
    born = system["created_at"] + timedelta(days=1)
    latest = now - timedelta(days=1)

    numbers = _numbers(rng, n_requirements)
    rng.shuffle(numbers)  # added over time, not in number order: only sort_key orders them
    req_ids: list[int] = []
    for number in numbers:
        ids["requirement"] += 1
        req_ids.append(ids["requirement"])
        req_level = None if level is None else (level if rng.random() < 0.5 else rng.randint(0, level))
        created = _between(rng, born, latest)
        version = rng.choice([1, 1, 1, 2, 3])
        out["requirement"].append(dict(
            id=ids["requirement"], project_id=pid, number=number, sort_key=rules.number_sort_key(number),
            kind=rules.default_kind(req_level).value, statement=_statement(rng), level=req_level,
            verification_method=rng.choice(VERIFICATION) if rng.random() < 0.8 else "",
            verification_status=_vv(rng, 0),
            validation_method=rng.choice(VALIDATION) if rng.random() < 0.6 else "",
            validation_status=_vv(rng, 1),
            p_failure=_p(rng), value=rng.randint(1, 10),
            created_at=created, created_by=rng.choice(owners),
            updated_at=created if version == 1 else _between(rng, created, latest), version=version,
        ))

    categories, cat_weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    statuses = [s.value for s in rules.RiskStatus]  # open, mitigating, accepted, closed
    titles: set[str] = set()
    review_start = now - timedelta(days=REVIEW_WINDOW_DAYS)
    for _ in range(n_risks):
        ids["risk"] += 1
        rid = ids["risk"]
        category = rng.choices(categories, weights=cat_weights)[0]
        base = rng.choice(RISK_TITLES[category])
        title, k = base, 1
        while title.lower() in titles:
            k += 1
            title = f"{base} ({k})"
        titles.add(title.lower())
        status = rng.choices(statuses, weights=[47, 35, 3, 15])[0]
        p, value = _p(rng), rng.randint(1, 10)
        reviewed = max(_between(rng, review_start, now), born)
        n_events = rng.choice([1, 2, 2, 3]) if status in ("open", "mitigating") else rng.choice([2, 3])
        if n_events == 1:
            times = [reviewed]  # created during the window, not reviewed since
        else:
            first = _between(rng, born, min(reviewed, now - timedelta(days=REVIEW_WINDOW_DAYS // 2)))
            middle = sorted(_between(rng, first, reviewed) for _ in range(n_events - 2))
            times = [first, *middle, reviewed]
            for i in range(1, len(times)):  # strictly increasing
                times[i] = max(times[i], times[i - 1] + timedelta(seconds=1))
            reviewed = times[-1]
        actor = rng.choice(owners)
        # The states before the current one, each differing from the next in p(failure), value or
        # status; a risk is created open or mitigating, and accepting it changes only its status.
        states = [(p, value, status)]
        while len(states) < n_events:
            np_, nv, ns = states[0]
            earlier = rng.choice(["open", "open", "mitigating"])
            if ns != "accepted":
                np_ = round(min(1.0, max(0.0, np_ + rng.choice([-0.2, -0.1, 0.1, 0.2, 0.3]))), 3)
                nv = min(10, max(1, nv + rng.choice([-2, -1, 0, 1, 2])))
            if (np_, nv, earlier) == states[0]:
                np_ = 0.5 if np_ != 0.5 else 0.3
            states.insert(0, (np_, nv, earlier))
        for n, (at, (ep, ev, es)) in enumerate(zip(times, states)):
            ids["riskevent"] += 1
            action = "create" if n == 0 else ("accept" if es == "accepted" else "update")
            out["riskevent"].append(dict(id=ids["riskevent"], risk_id=rid, project_id=pid, at=at,
                                         actor=actor if n == 0 else rng.choice(owners), action=action,
                                         p_failure=ep, value=ev, status=es))
        accepted = status == "accepted"
        out["risk"].append(dict(
            id=rid, project_id=pid, title=title,
            description=f"{title} would hurt the {rng.choice(METRICS)} on {rng.choice(DATASETS)}."
            if rng.random() < 0.8 else "",
            category=category,
            component_id=rng.choice(components)["id"] if components and rng.random() < 0.25 else None,
            requirement_id=rng.choice(req_ids) if req_ids and rng.random() < 0.4 else None,
            p_failure=p, value=value,
            mitigation=rng.choice(MITIGATIONS) if rng.random() < 0.7 else "",
            owner=rng.choice(owners + people[:5]) if rng.random() < 0.9 else "",
            status=status,
            accepted_by=out["riskevent"][-1]["actor"] if accepted else None,
            accepted_reason=rng.choice(ACCEPT_REASONS) if accepted else None,
            accepted_until=(times[-1] + timedelta(days=rng.randint(30, 365))) if accepted else None,
            last_reviewed_at=reviewed, created_at=times[0], created_by=actor, updated_at=times[-1],
            version=n_events,
        ))
    return out


def verify(path: str) -> None:
    """Check the generated registers of the SQLite file at ``path`` against the invariants above
    (raises ``AssertionError``); a few seconds at L, run once after generating."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        q = lambda sql: con.execute(sql).fetchall()
        vv = {s.value for s in rules.VVStatus}
        for number, key, kind, level, ver_status, val_status, p, value in q(
                "SELECT number, sort_key, kind, level, verification_status, validation_status, p_failure, value "
                "FROM requirement"):
            assert rules.parse_number(number) == number and key == rules.number_sort_key(number), number
            assert kind == rules.default_kind(level).value, (number, kind, level)
            assert ver_status in vv and val_status in vv, (ver_status, val_status)
            assert 0 <= p <= 1 and round(p, 3) == p and isinstance(value, int) and 1 <= value <= 10, (p, value)
        assert not q("SELECT 1 FROM requirement GROUP BY project_id, number HAVING count(*) > 1"), "duplicate numbers"
        assert not q("SELECT r.id FROM requirement r JOIN project p ON p.id = r.project_id "
                     "WHERE r.level > p.level OR (p.level IS NULL AND r.level IS NOT NULL)"), "requirement above level"
        assert not q("SELECT 1 FROM risk GROUP BY project_id, lower(title) HAVING count(*) > 1"), "duplicate titles"
        assert not q("SELECT k.id FROM risk k JOIN requirement r ON r.id = k.requirement_id "
                     "WHERE r.project_id != k.project_id"), "a risk linked to another technology's requirement"
        assert not q("SELECT k.id FROM risk k JOIN project c ON c.id = k.component_id "
                     "WHERE c.parent_id IS NOT k.project_id"), "a risk on another technology's component"
        assert not q("SELECT id FROM risk WHERE (status = 'accepted') != (accepted_by IS NOT NULL "
                     "AND accepted_reason IS NOT NULL AND accepted_until IS NOT NULL)"), "acceptance fields"
        events: dict[int, list[tuple]] = {}
        for row in q("SELECT risk_id, project_id, at, action, p_failure, value, status FROM riskevent "
                     "ORDER BY risk_id, at, id"):
            events.setdefault(row[0], []).append(row[1:])
        statuses = {s.value for s in rules.RiskStatus}
        for rid, pid, p, value, status, version, created, updated, reviewed in q(
                "SELECT id, project_id, p_failure, value, status, version, created_at, updated_at, last_reviewed_at "
                "FROM risk"):
            assert status in statuses and 0 <= p <= 1 and round(p, 3) == p and 1 <= value <= 10, rid
            es = events.get(rid, [])
            assert 1 <= len(es) <= 3 and len(es) == version, (rid, es, version)
            assert es[0][2] == "create" and es[0][5] in ("open", "mitigating"), (rid, es[0])
            assert es[-1][3:] == (p, value, status), (rid, es[-1], p, value, status)
            assert all(e[0] == pid for e in es), rid
            times = [e[1] for e in es]
            assert times == sorted(set(times)), (rid, times)
            assert times[0] == created and times[-1] == updated == reviewed, (rid, times, created, updated, reviewed)
            for a, b in zip(es, es[1:]):
                assert a[3:] != b[3:], (rid, a, b)
                assert b[2] != "accept" or (b[5] == "accepted" and a[3:5] == b[3:5]), (rid, a, b)
    finally:
        con.close()
