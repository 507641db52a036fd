"""Synthetic gated reviews for the benchmark portfolio (issue 7), as bulk-insert row dicts.

``review_rows(rng, rows, now, ids)`` builds, for one chunk of ``generate._rows`` (projects,
owners and level events as column dicts), the rows of ``review``, ``reviewvote``,
``ethicsanswer``, ``criterionscore`` and ``gateoverride``, and sets ``review_id`` on the level
events a review decided (``None`` on the others: recorded without a review). Those ids are
provisional: ``renumber`` gives the whole portfolio's reviews their ids in opening order once
every chunk is built (the app's autoincrement order, which its "newest first" lists rely on).
The rows keep the invariants of ``mltrl.services.reviews`` and ``mltrl.models``:

* **decided at a review**: about half (``REVIEWED_SHARE``) of the graduations and of the
  switchbacks of kind ``review`` name a review: a decided review of the event's technology at the
  event's ``from_level`` (the level it held while the review was open: opened after the event
  before, decided at the event's ``at``), ``decision`` graduate or switch back (then
  ``target_level`` = the event's ``to_level``, ``switchback_kind`` = ``review``), ``decided_by`` =
  the event's ``recorded_by`` and ``decision_note`` = its note, as ``reviews.decide`` records them;
  every such review has exactly that one event. Discovery and embedded switchbacks and starts
  never name a review;
* **hold** reviews (``HOLD_SHARE`` of the intervals at a level, before the review that ended it)
  with 1-3 tasks, each with an owner and mostly a due date; at level 9, the cadence reviews of a
  deployed technology (holds about every 90 days since it reached 9, some of them stopping so
  that the technology is overdue); **pause** reviews at the current level of some paused
  technologies at level 4 or above;
* **open** reviews on ``OPEN_SHARE`` of the technologies with a level that are not retired, at
  their current level, opened after their last event and after any review decided at that level
  (one open review per technology at most); ``REVIEW_CODE`` = ``T00042`` always has one, with
  ``REVIEWER`` on its panel and no vote from them (so "waiting for my vote" is never empty), and so
  does the evidence-heavy technology (``bench/evidencegen.py``, passed as ``also_open``);
* each review: a panel of 2-4 people from the owner pool, 1-4 votes from panel members (a member
  voting twice is a changed vote; both are kept) between its opening and its decision (or now),
  ``criteria`` = the default criteria of its level (with the fourth part "evidence" on the criteria
  the built-in set scores from evidence) and ``ethics`` = the default ethics template in
  ``reviews.open_review``'s shape, ``criteria_version`` = ``ethics_version`` = 1; a decided one
  keeps the scores and gates that stood at the decision (gates only at levels 5 and 8: a
  graduation passed them or went through an override live at that moment); ``version`` 1 when
  open, 2 once decided (the decision is one more write); review ids follow opening order (within
  a technology, ``review_view`` finds "the previous review" by id);
* ethics answers (``"part:key"`` of the template's before/after questions) on about
  ``ETHICS_SHARE`` of the reviews, during the review;
* criterion scores of every technology's current level (keys from ``DEFAULT_CRITERIA``; about 75%
  of them scored, all of ``REVIEW_CODE``'s), after it reached that level;
* gate overrides at levels 5 and 8: on some technologies now at 5 or 8 (live, expired, or without
  expiry) and before some graduations out of 5 or 8 (live at the decision; most expired since).

No audit rows are written for them (as for the level events and registers): the data version is
already set by the projects' audit rows. ``verify(path)`` checks all of the above on the file.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from mltrl.domain import gates as gate_rules
from mltrl.domain.criteria_default import DEFAULT_CRITERIA, SCORED_FROM_EVIDENCE
from mltrl.domain.ethics_default import DEFAULT_ETHICS_TEMPLATE

REVIEW_CODE = "T00042"
REVIEWER = "Ada Okafor"  # generate.OWNERS[0]: the acting user of the Reviews page's benchmark runs
REVIEWED_SHARE = 0.5  # of graduations and review-kind switchbacks
OPEN_SHARE = 0.10  # of technologies with a level, not retired
HOLD_SHARE = 0.06  # of the intervals spent at a level (at least 10 days long)
ETHICS_SHARE = 0.30  # of reviews
SCORED_SHARE = 0.75  # of the current level's criteria
CADENCE_DAYS = 90  # Policy().deployed_review_days
ETHICS_PARTS = ("before", "after")
DECISIONS = {d.value for d in gate_rules.Decision}
VOTES = {v.value for v in gate_rules.Vote}

# open_review's shape: [key, text, guidance], plus "evidence" for a criterion scored from evidence
CRITERIA = {level: [[*c, *(["evidence"] if c[0] in SCORED_FROM_EVIDENCE.get(level, ()) else [])] for c in items]
            for level, items in DEFAULT_CRITERIA.items()}
ETHICS = {part: [list(q) for q in DEFAULT_ETHICS_TEMPLATE[part]] for part in (*ETHICS_PARTS, "positions")}
ETHICS_KEYS = [f"{part}:{q[0]}" for part in ETHICS_PARTS for q in DEFAULT_ETHICS_TEMPLATE[part]]
GATES_AT = {lv: [(k, title) for k, (gl, title) in gate_rules.GATE_TITLES.items() if gl == lv] for lv in (5, 8)}

VOTE_WEIGHTS = {  # graduate, not yet, switch back: a member's last vote, by the review's outcome
    "graduate": [8, 2, 0], "switch back": [1, 2, 7], "hold": [2, 7, 1], "pause": [1, 6, 3], None: [4, 4, 2]}
VOTE_COMMENTS = ["", "", "Evidence is convincing.", "The ablations answer my earlier question.",
                 "Not until the held-out results are in.", "Data rights for the second source are unclear.",
                 "Latency numbers are from the old hardware.", "Agree with the panel.",
                 "The claims in the card go beyond what the experiments show.", "Good to go from my side."]
TASKS = ["Rerun the evaluation on the frozen test split", "Document the data lineage of the second source",
         "Get the privacy review signed off", "Add the drift monitor and its alert",
         "Write the failure-mode analysis into the card", "Load test at four times today's traffic",
         "Close the open research requirements' validation", "Agree the handoff plan with the product team"]
ANSWERS = ["Yes: covered by the data agreement of last year, reviewed by legal.",
           "Partly: the second source's licence is being renegotiated; we use only the first meanwhile.",
           "No personal data is collected; inputs are aggregated upstream.",
           "Consent is collected in the app's onboarding; opt-out removes the user's rows within 30 days.",
           "Error rates differ by region by at most two points on the held-out set; monitored monthly.",
           "A kill switch returns the rule-based baseline within five minutes; tested last quarter.",
           "Affected users can appeal through the support desk; a human reviews every appeal.",
           "Changes are announced in the release notes and to the partner teams a week ahead."]
JUSTIFICATIONS = ["The product requirements are agreed in the partner's own tracker; copied next sprint.",
                  "Validation of the remaining requirements is scheduled in the pilot; risk accepted by the board.",
                  "Research V&V reviewed at the steering committee; the register lags behind.",
                  "Regulatory deadline: the validation walkthrough completes during the staged rollout."]
NOTES = {"hold": "Not yet: the tasks below first.", "pause": "Paused: funding moves to the sister project."}


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max((end - start).total_seconds(), 0.0)
    return start + timedelta(seconds=int(rng.uniform(0, span)))


def _frac(start: datetime, end: datetime, share: float) -> datetime:
    return start + timedelta(seconds=int((end - start).total_seconds() * share))


class _Builder:
    """The rows of one chunk; ids continue from ``ids``."""

    def __init__(self, rng: random.Random, now: datetime, ids: dict[str, int]) -> None:
        self.rng, self.now, self.ids = rng, now, ids
        self.out: dict[str, list[dict]] = {"review": [], "reviewvote": [], "ethicsanswer": [], "criterionscore": [],
                                           "gateoverride": []}

    def _id(self, key: str) -> int:
        self.ids[key] += 1
        return self.ids[key]

    def override(self, pid: int, level: int, gate: str, at: datetime, expires_at: datetime | None) -> dict:
        row = dict(id=self._id("gateoverride"), project_id=pid, level=level, gate=gate,
                   justification=self.rng.choice(JUSTIFICATIONS), expires_at=expires_at,
                   by=self.rng.choice(["Grace Moreau", "Hiro Tanaka"]), at=at)
        self.out["gateoverride"].append(row)
        return row

    def review(self, pid: int, level: int, owners: list[str], opened: datetime, *, decision: str | None = None,
               decided: datetime | None = None, decided_by: str | None = None, note: str = "",
               target_level: int | None = None, gates: list | None = None, forced_reviewer: bool = False) -> dict:
        rng = self.rng
        panel = rng.sample(POOL, rng.randint(2, 4))
        if forced_reviewer and REVIEWER not in panel:
            panel[0] = REVIEWER
        voters = [p for p in panel if not (forced_reviewer and p == REVIEWER)]
        rid = self._id("review")
        end = decided or self.now - timedelta(minutes=1)
        tasks: list[dict] = []
        if decision == "hold":
            n_tasks = rng.randint(1, 3) if level < 9 or rng.random() < 0.5 else 0
            for k in range(1, n_tasks + 1):
                due = (end + timedelta(days=rng.randint(14, 90))).date().isoformat() if rng.random() < 0.8 else None
                tasks.append({"number": k, "task": rng.choice(TASKS), "owner": rng.choice(owners + panel),
                              "due": due})
        scores: dict[str, dict] = {}
        if decision is not None:
            low = 70 if decision == "graduate" else 0
            for key, *_ in CRITERIA[level]:
                if rng.random() < 0.8:
                    scores[key] = {"percent": rng.choice(range(low, 101, 5)),
                                   "evidence": f"https://wiki.example.org/reviews/{rid}/{key}" if rng.random() < 0.4
                                   else "", "comment": ""}
        row = dict(
            id=rid, project_id=pid, level=level, status="open" if decision is None else "decided",
            opened_at=opened, opened_by=rng.choice(owners), panel=panel, criteria_version=1, criteria=CRITERIA[level],
            ethics_version=1, ethics=ETHICS, decision=decision, decided_at=decided,
            decided_by=(decided_by or rng.choice(panel)) if decision else None,
            decision_note=note if decision else "",
            target_level=target_level, switchback_kind="review" if decision == "switch back" else None,
            tasks=tasks, scores=scores, version=1 if decision is None else 2,
            gates=(gates if gates is not None else self.gate_records(pid, level, decision, opened, opened, decided))
            if decision else [],
        )
        self.out["review"].append(row)
        # 1-4 votes by panel members, in time order; the last of each member leans to the outcome.
        n_votes = rng.randint(1, 4)
        chosen = [rng.choice(voters) for _ in range(n_votes)]
        times = sorted(_between(rng, opened + timedelta(minutes=1), end - timedelta(minutes=1)) for _ in chosen)
        for i, (voter, at) in enumerate(zip(chosen, times)):
            final = voter not in chosen[i + 1:]
            weights = VOTE_WEIGHTS[decision] if final else [1, 1, 1]
            vote = rng.choices([v.value for v in gate_rules.Vote], weights=weights)[0]
            self.out["reviewvote"].append(dict(id=self._id("reviewvote"), review_id=rid, voter=voter, vote=vote,
                                               comment=rng.choice(VOTE_COMMENTS), at=at))
        if rng.random() < ETHICS_SHARE:
            for key in sorted(rng.sample(ETHICS_KEYS, rng.randint(4, len(ETHICS_KEYS)))):
                self.out["ethicsanswer"].append(dict(
                    id=self._id("ethicsanswer"), review_id=rid, key=key, answer=rng.choice(ANSWERS),
                    answered_by=rng.choice(owners), answered_at=_between(rng, opened, end), version=1))
        return row

    def gate_records(self, pid: int, level: int, decision: str, interval_start: datetime, opened: datetime,
                     decided: datetime) -> list[dict]:
        """What stood at the decision for the gates on leaving ``level`` (only 5 and 8 have gates)."""
        rng = self.rng
        records = []
        for key, title in GATES_AT.get(level, []):
            if decision == "graduate" and rng.random() < 0.15 and opened > interval_start:
                at = _between(rng, interval_start, opened)
                expires = None if rng.random() < 0.3 else decided + timedelta(days=rng.randint(1, 400))
                o = self.override(pid, level, key, at, expires)
                records.append({"key": key, "title": title, "state": "overridden",
                                "blockers": ["a requirement's validation was in progress"],
                                "override": {"by": o["by"], "justification": o["justification"],
                                             "expires_at": expires.isoformat() if expires else None}})
            elif decision == "graduate" or rng.random() < 0.5:
                records.append({"key": key, "title": title, "state": "passed", "blockers": []})
            else:
                records.append({"key": key, "title": title, "state": "blocked",
                                "blockers": ["a requirement's validation was in progress"]})
        return records


POOL: list[str] = []  # the owner pool, set by ``review_rows``


def review_rows(rng: random.Random, rows: dict[str, list[dict]], now: datetime, ids: dict[str, int],
                people: list[str], also_open: frozenset[str] = frozenset()) -> dict[str, list[dict]]:
    """The review rows of one chunk (see the module's docstring); sets ``review_id`` on its events.
    The technologies of ``also_open`` (not retired, nor paused, at their level for three days or
    more: the evidence-heavy one) always get an open review, as ``REVIEW_CODE`` does."""
    POOL[:] = people
    b = _Builder(rng, now, ids)
    events: dict[int, list[dict]] = defaultdict(list)
    for e in rows["event"]:
        e["review_id"] = None
        events[e["project_id"]].append(e)
    owners: dict[int, list[str]] = defaultdict(list)
    for o in rows["owner"]:
        owners[o["project_id"]].append(o["name"])
    for p in rows["project"]:
        pid, history = p["id"], events.get(p["id"], [])
        if not history:
            continue
        mine = owners[pid]
        # Each interval spent at a level but the current one: maybe a hold, then maybe the review
        # that decided the move ending it.
        for before, after in pairwise(history):
            start, end, level = before["at"], after["at"], before["to_level"]
            gap = end - start
            if rng.random() < HOLD_SHARE and gap >= timedelta(days=10):
                b.review(pid, level, mine, _frac(start, end, rng.uniform(0.05, 0.2)), decision="hold",
                         decided=_frac(start, end, rng.uniform(0.25, 0.45)), note=NOTES["hold"])
            eligible = after["kind"] == "graduation" or (after["kind"] == "switchback"
                                                         and after["switchback_kind"] == "review")
            if eligible and rng.random() < REVIEWED_SHARE:
                decision = "graduate" if after["kind"] == "graduation" else "switch back"
                opened = _frac(start, end, rng.uniform(0.55, 0.9))
                row = b.review(pid, level, mine, opened, decision=decision, decided=end,
                               decided_by=after["recorded_by"], note=after["note"],
                               target_level=after["to_level"] if decision == "switch back" else None,
                               gates=b.gate_records(pid, level, decision, start, opened, end))
                after["review_id"] = row["id"]
        # The current level: cadence reviews at 9, then a pause or an open review.
        last = history[-1]
        level, since = last["to_level"], last["at"]
        free = since
        if level == 9:
            due = since + timedelta(days=CADENCE_DAYS * rng.uniform(0.8, 1.1))
            while due + timedelta(days=5) < now and rng.random() < 0.85:
                opened = max(due - timedelta(days=rng.randint(3, 14)), free + timedelta(hours=1))
                b.review(pid, level, mine, opened, decision="hold", decided=due, note="Keeps running.")
                free = due
                due = due + timedelta(days=CADENCE_DAYS * rng.uniform(0.8, 1.2))
        if level in GATES_AT and rng.random() < 0.25:  # overrides on gates of the level it is at now
            for key, _ in rng.sample(GATES_AT[level], rng.randint(1, len(GATES_AT[level]))):
                at = _between(rng, since, now - timedelta(minutes=5))
                kind = rng.choice(["none", "live", "expired"])
                expires = {"none": None, "live": now + timedelta(days=rng.randint(30, 365)),
                           "expired": _between(rng, at + timedelta(minutes=1), now - timedelta(minutes=1))}[kind]
                b.override(pid, level, key, at, expires)
        recent = max(free, now - timedelta(days=120))
        if since > now - timedelta(days=3):
            pass  # too recent to have reviewed it since
        elif p["status"] == "paused" and level >= 4 and p["code"] != REVIEW_CODE and rng.random() < 0.4:
            opened = _between(rng, max(free, now - timedelta(days=400)) + timedelta(hours=1), now - timedelta(days=2))
            b.review(pid, level, mine, opened, decision="pause", decided=_between(rng, opened + timedelta(hours=1),
                                                                                  now - timedelta(days=1)),
                     note=NOTES["pause"])
        elif p["code"] == REVIEW_CODE or p["code"] in also_open or (p["status"] != "retired"
                                                                    and rng.random() < OPEN_SHARE):
            opened = _between(rng, recent + timedelta(minutes=5), now - timedelta(hours=2))
            b.review(pid, level, mine, opened, forced_reviewer=p["code"] == REVIEW_CODE)
        # The team's self-assessment of the current level's exit criteria.
        for key, *_ in CRITERIA[level]:
            if p["code"] == REVIEW_CODE or rng.random() < SCORED_SHARE:
                b.out["criterionscore"].append(dict(
                    id=b._id("criterionscore"), project_id=pid, level=level, key=key,
                    percent=rng.choice([0, 20, 40, 50, 60, 70, 80, 80, 90, 90, 100, 100, 100]),
                    evidence=f"https://wiki.example.org/{p['code']}/{key}" if rng.random() < 0.4 else "",
                    comment=rng.choice(["", "", "Draft in review.", "Done for the main dataset."]),
                    updated_at=_between(rng, since, now - timedelta(minutes=1)), updated_by=rng.choice(mine),
                    version=1))
    return b.out


def renumber(reviews: list[dict], votes: list[dict], answers: list[dict], links: list[tuple[int, int]]
             ) -> list[dict]:
    """Give every review (and vote) of the whole portfolio its id in opening (voting) order, as the
    app's autoincrement would: the Reviews page lists "newest first" by id. ``links`` are
    (event id, provisional review id); returns the events' ``{"eid", "rid"}`` with the final ids.
    The rows are changed in place (and sorted)."""
    reviews.sort(key=lambda r: (r["opened_at"], r["id"]))
    new_id = {r["id"]: n for n, r in enumerate(reviews, start=1)}
    for r in reviews:
        r["id"] = new_id[r["id"]]
    votes.sort(key=lambda v: (v["at"], v["id"]))
    for n, v in enumerate(votes, start=1):
        v["id"], v["review_id"] = n, new_id[v["review_id"]]
    for a in answers:
        a["review_id"] = new_id[a["review_id"]]
    answers.sort(key=lambda a: (a["review_id"], a["id"]))
    for n, a in enumerate(answers, start=1):
        a["id"] = n
    return [{"eid": eid, "rid": new_id[rid]} for eid, rid in links]


# --- checks -------------------------------------------------------------------------------------


def _aware(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def verify(path: str) -> dict[str, int]:
    """Check the reviews of the SQLite file at ``path`` against the invariants above (raises
    ``AssertionError``); returns a few counts. Run once after generating."""
    import sqlite3
    from bisect import bisect_right

    from mltrl.services.reviews import checklists as service

    con = sqlite3.connect(path)
    try:
        q = lambda sql: con.execute(sql).fetchall()
        projects = {pid: (code, level, _aware(since), status) for pid, code, level, since, status in q(
            "SELECT id, code, level, level_since, status FROM project")}
        history: dict[int, list[tuple]] = defaultdict(list)  # project -> [(at, id, from, to, kind, sb kind, ...)]
        for row in q("SELECT project_id, at, id, from_level, to_level, kind, switchback_kind, review_id, note, "
                     "recorded_by FROM levelevent ORDER BY project_id, at, id"):
            history[row[0]].append((_aware(row[1]), *row[2:]))
        by_review: dict[int, list[tuple]] = defaultdict(list)
        for pid, evs in history.items():
            for e in evs:
                if e[6] is not None:
                    by_review[e[6]].append((pid, e))
        criteria = {int(k): v for k, v in service._default_criteria_content().items()}
        ethics = service._default_ethics_content()
        answers_known = set(service.ethics_keys(ethics))
        votes: dict[int, list[tuple]] = defaultdict(list)
        for rid, voter, vote, at in q("SELECT review_id, voter, vote, at FROM reviewvote ORDER BY review_id, at, id"):
            votes[rid].append((voter, vote, _aware(at)))
        answers: dict[int, list[tuple]] = defaultdict(list)
        for rid, key, at in q("SELECT review_id, key, answered_at FROM ethicsanswer"):
            answers[rid].append((key, _aware(at)))
        overrides: dict[tuple[int, int, str], list[tuple]] = defaultdict(list)
        for pid, level, gate, why, at, expires in q(
                "SELECT project_id, level, gate, justification, at, expires_at FROM gateoverride"):
            assert level in GATES_AT and gate in dict(GATES_AT[level]) and why, (pid, level, gate)
            assert pid in projects, pid
            overrides[(pid, level, gate)].append((_aware(at), _aware(expires)))
            assert expires is None or _aware(expires) > _aware(at), (pid, at, expires)

        open_per_project: dict[int, int] = defaultdict(int)
        last_opened: dict[int, tuple] = {}
        n = {"reviews": 0, "open": 0, "decided": 0, "with_event": 0}
        for (rid, pid, level, status, opened, panel, cv, crit, ev, eth, decision, decided, decided_by, note, target,
             sb_kind, tasks, scores, gates, version) in q(
                "SELECT id, project_id, level, status, opened_at, panel, criteria_version, criteria, ethics_version, "
                "ethics, decision, decided_at, decided_by, decision_note, target_level, switchback_kind, tasks, "
                "scores, gates, version FROM review ORDER BY project_id, id"):
            n["reviews"] += 1
            opened, decided = _aware(opened), _aware(decided)
            panel, tasks, scores, gates = json.loads(panel), json.loads(tasks), json.loads(scores), json.loads(gates)
            assert cv == ev == 1 and json.loads(crit) == criteria[level] and json.loads(eth) == ethics, rid
            assert 2 <= len(panel) <= 4 and len({p.lower() for p in panel}) == len(panel), (rid, panel)
            # Ids follow opening order within a technology, and reviews do not overlap in time.
            if pid in last_opened:
                prev_opened, prev_end = last_opened[pid]
                assert opened > prev_opened and (prev_end is None or opened >= prev_end), (rid, opened, prev_end)
            last_opened[pid] = (opened, decided)
            # The technology was at ``level`` from the opening to the decision (or now).
            evs = history[pid]
            times = [e[0] for e in evs]
            k = bisect_right(times, opened) - 1
            assert k >= 0 and evs[k][3] == level, (rid, level, evs[k] if k >= 0 else None)
            end = decided
            later = [e for e in evs[k + 1:] if end is None or e[0] <= end]
            linked = by_review.get(rid, [])
            if status == "open":
                n["open"] += 1
                open_per_project[pid] += 1
                _, current, since, _ = projects[pid]
                assert decision is None and decided is None and decided_by is None and version == 1, rid
                assert current == level and opened > since and not later and not linked, (rid, later, linked)
                assert not tasks and not scores and not gates, rid
            else:
                n["decided"] += 1
                assert status == "decided" and decision in DECISIONS and version == 2, (rid, status)
                assert opened < decided and decided_by, rid
                if decision in ("graduate", "switch back"):
                    assert len(linked) == 1, (rid, linked)
                    n["with_event"] += 1
                    (epid, (at, eid, frm, to, kind, sbk, _, enote, recorded_by)) = linked[0]
                    assert epid == pid and frm == level and at == decided and later == [linked[0][1]], (rid, eid)
                    assert enote == note and recorded_by == decided_by, (rid, eid)
                    if decision == "graduate":
                        assert kind == "graduation" and to == level + 1 and target is None and sb_kind is None, rid
                    else:
                        assert kind == "switchback" and sbk == "review" and to == target < level, (rid, eid)
                        assert sb_kind == "review", rid
                else:
                    assert not linked and not later and target is None and sb_kind is None, (rid, later)
                    if decision == "hold":
                        assert tasks or level == 9, rid
                    else:
                        assert projects[pid][3] == "paused" and projects[pid][1] == level, rid
                for t in tasks:
                    assert set(t) == {"number", "task", "owner", "due"} and t["task"] and t["owner"], (rid, t)
                assert set(scores) <= {c[0] for c in criteria[level]}, rid
                assert all(0 <= s["percent"] <= 100 for s in scores.values()), rid
                assert [g["key"] for g in gates] == [k for k, _ in GATES_AT.get(level, [])], (rid, gates)
                for g in gates:
                    if decision == "graduate":
                        assert g["state"] in ("passed", "overridden"), (rid, g)
                    if g["state"] == "overridden":
                        live = [o for o in overrides[(pid, level, g["key"])]
                                if o[0] <= decided and (o[1] is None or o[1] > decided)]
                        assert live, (rid, g)
            vs = votes.get(rid, [])
            assert 1 <= len(vs) <= 4, (rid, len(vs))
            members = {p.lower() for p in panel}
            for voter, vote, at in vs:
                assert voter.lower() in members and vote in VOTES, (rid, voter, vote)
                assert opened < at and (decided is None or at < decided), (rid, at)
            keys = [k for k, _ in answers.get(rid, [])]
            assert len(keys) == len(set(keys)) and set(keys) <= answers_known, rid
            assert all(opened <= a and (decided is None or a <= decided) for _, a in answers.get(rid, [])), rid
        assert all(c == 1 for c in open_per_project.values()), "more than one open review of a technology"
        opened_order = [_aware(at) for (at,) in q("SELECT opened_at FROM review ORDER BY id")]
        assert opened_order == sorted(opened_order), "review ids do not follow opening order"
        assert set(by_review) <= {r for (r,) in q("SELECT id FROM review")}, "an event names no review"
        # Only graduations and review-kind switchbacks name a review.
        assert not q("SELECT id FROM levelevent WHERE review_id IS NOT NULL AND NOT (kind = 'graduation' OR "
                     "(kind = 'switchback' AND switchback_kind = 'review'))"), "a review on another kind of move"
        code_of = {pid: v[0] for pid, v in projects.items()}
        t42 = [pid for pid, code in code_of.items() if code == REVIEW_CODE]
        assert t42 and open_per_project.get(t42[0]) == 1, f"{REVIEW_CODE} has no open review"
        waiting = q(f"SELECT r.id FROM review r WHERE r.project_id = {t42[0]} AND r.status = 'open' AND NOT EXISTS "
                    f"(SELECT 1 FROM reviewvote v WHERE v.review_id = r.id AND v.voter = '{REVIEWER}')")
        assert waiting and REVIEWER in json.loads(q(f"SELECT panel FROM review WHERE id = {waiting[0][0]}")[0][0])
        # Criterion scores: the current level's criteria only, once each.
        for pid, level, key, percent, evidence, at in q(
                "SELECT project_id, level, key, percent, evidence, updated_at FROM criterionscore"):
            _, current, since, _ = projects[pid]
            assert level == current and key in {c[0] for c in criteria[level]}, (pid, level, key)
            assert 0 <= percent <= 100 and (not evidence or evidence.startswith("https://")), (pid, key)
            assert _aware(at) >= since, (pid, key)
        assert not q("SELECT 1 FROM criterionscore GROUP BY project_id, level, key HAVING count(*) > 1")
        assert not q("SELECT 1 FROM ethicsanswer GROUP BY review_id, key HAVING count(*) > 1")
        n["votes"] = sum(map(len, votes.values()))
        n["ethics_answers"] = sum(map(len, answers.values()))
        n["overrides"] = sum(map(len, overrides.values()))
        n["events_eligible"] = q("SELECT count(*) FROM levelevent WHERE kind = 'graduation' OR "
                                 "(kind = 'switchback' AND switchback_kind = 'review')")[0][0]
        return n
    finally:
        con.close()
