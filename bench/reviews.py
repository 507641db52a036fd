"""The Reviews and Timelines area: the two pages' checks, their independent answers from the raw
rows, and the review and timeline operations.

The Reviews page (``views/reviews.py``, ``bench/reviewgen.py``'s reviews, run as
``reviewgen.REVIEWER``) with each of its tabs open (``reviews_tab``): the Overview, whose metrics
must equal counts made from the raw rows (every open review; the open reviews with the acting
user on the panel and no vote from them; the level 9 technologies overdue for review under the
default policy); the Review tab on ``?review=`` T00042's open review, and on the oldest review
that decided one of T00042's moves (the link its timeline gives), each of which must be the review
shown; the Checklist of T00042, whose average and count of scored criteria must match its raw
scores (a criterion scored from evidence counts only with a pass or fail record: 100 or 0).

The evidence-heavy technology (``bench/evidencegen.py``: 500 evidence records; found as the
technology with the most, ``evidence_counts``): the Review tab on its open review, whose checklist
must show each hand-scored criterion's newest record ("Latest evidence sent") and the "Scored from
evidence" table (the latest pass or fail record's status, title and percent, the team's own score
beside it); and its Project page (``EVIDENCE_PROJECT_PAGE``, listed in ``bench/pages.py``), whose
readiness line, unmet criteria (each naming its evidence) and Evidence timeline (the newest 100
records, in order) must match the raw rows.

The Timelines page (``views/timelines.py``, ``tl_tab``): T00042's timeline (events
counted by kind and by review), the sample system (its level now is the minimum of its tree's,
held down by the ones at it) and the portfolio swimlanes sorted by level and by switchbacks,
unfiltered: at most 20 traces and at most 60 lanes (one page) of at least 20 px each, in the
order worked out from the raw rows.

And the review and timeline services on a throwaway copy: ``standing(T00042)``, ``review_view``
of its open review, ``reviews(status="open")``, ``waiting_for`` the acting user,
``deployed_reviews`` with the default policy, the swimlanes' lane facts (``lane_frame``, grouped
in SQL), the first page of swimlanes built from it (``order_lanes``, ``lane_events`` for the
page's lanes, ``lane_segments``, ``swimlanes_chart``), and ``decide()`` graduating an open review
(one generated open review per call, picked untimed); and the evidence services on the
evidence-heavy technology: ``criterion_evidence`` and ``proofs`` of its current level,
``evidence_of`` its newest 100 and all of its records, and its ``standing``. Each read is checked
once against the raw rows before it is timed. The operations are held to the page time target, without a floor ratio.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import generate, reviewgen
from bench.common import (
    PageSpec,
    aware,
    copy_db,
    median_ms,
    metric_values,
    page_answer,
    profile_call,
    project_id_sql,
    soft_check,
)


# --- the Reviews and Timelines pages: independent answers from the raw rows ---------------------

REVIEW_CODE = reviewgen.REVIEW_CODE  # = REGISTER_CODE: its open review, checklist and timeline
REVIEWER = reviewgen.REVIEWER  # the acting user of the Reviews page runs ("waiting for my vote")
REVIEWS_LISTED = 200  # reviews.reviews' default limit
SWIMLANE_PAGE = 60  # views/timelines.py LANES_PER_PAGE: the bound on lanes drawn at once
SWIMLANE_TRACES = 20  # the bound on the swimlane chart's traces (it draws one per phase and kind)
MIN_LANE_PX = 20  # readable: each lane at least this many pixels high
TL_NO_FILTER = {"tl_text": "", "tl_phase": [], "tl_status": [], "tl_owner": [], "tl_reverse": False,
                "tl_components": True, "tl_page": 1}


def _counted(n: int, noun: str) -> str:  # as views/timelines.py writes counts
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _deployed_overdue(con: sqlite3.Connection, now: datetime) -> int:
    """Level 9 technologies whose next review is overdue at ``now`` under the default policy: due
    ``deployed_review_days`` after the later of reaching level 9 and the last decided level 9
    review. Python over the raw rows."""
    from mltrl.domain.policy import Policy

    days = Policy().deployed_review_days
    last: dict[int, datetime] = {}
    for pid, at in con.execute("SELECT project_id, decided_at FROM review WHERE level = 9 AND status = 'decided'"):
        at = aware(at)
        last[pid] = max(last.get(pid, at), at)
    out = 0
    for pid, since in con.execute("SELECT id, level_since FROM project WHERE level = 9"):
        anchor = max(d for d in (aware(since), last.get(pid)) if d is not None)
        out += (anchor + timedelta(days=days)) < now
    return out


def _lane_codes(con: sqlite3.Connection, by: str) -> list[str]:
    """Every technology's code in the swimlanes' order ``by`` (level: highest first, then code;
    switchbacks: most first, then highest level, then code), those with no level last in code
    order. Python over the raw rows."""
    switchbacks = dict(con.execute(
        "SELECT project_id, count(*) FROM levelevent WHERE kind = 'switchback' GROUP BY project_id"))
    rows = con.execute("SELECT id, code, level FROM project").fetchall()
    started = [r for r in rows if r[2] is not None]
    key = {"level": lambda r: (-r[2], r[1]),
           "switchbacks": lambda r: (-switchbacks.get(r[0], 0), -r[2], r[1])}[by]
    return [r[1] for r in sorted(started, key=key)] + sorted(r[1] for r in rows if r[2] is None)


def _from_evidence(item: list) -> bool:
    return len(item) > 3 and item[3] == "evidence"


def _criteria_items(con: sqlite3.Connection, pid: int, level: int) -> list[list[str]]:
    """The criteria a technology at ``level`` is judged on, as stored ([key, text, guidance] and
    "evidence" for one scored from evidence): its open review's copy when at that level, else the
    built-in set (the benchmark's databases have no edited criteria set)."""
    from mltrl.domain.criteria_default import DEFAULT_CRITERIA, SCORED_FROM_EVIDENCE

    row = con.execute("SELECT criteria FROM review WHERE project_id = ? AND status = 'open' AND level = ? "
                      "ORDER BY id DESC LIMIT 1", (pid, level)).fetchone()
    if row is not None:
        return json.loads(row[0])
    return [[*c, *(["evidence"] if c[0] in SCORED_FROM_EVIDENCE.get(level, ()) else [])]
            for c in DEFAULT_CRITERIA[level]]


def _latest_evidence(con: sqlite3.Connection, pid: int, level: int, key: str, scoring: bool) -> tuple | None:
    """(status, title, produced date, url, source) of the newest record of a criterion (by when it was
    produced, then id), of a pass or fail record when ``scoring``."""
    row = con.execute(
        "SELECT status, title, produced_at, url, source FROM evidence WHERE project_id = ? AND level = ? "
        "AND criterion_key = ? " + ("AND status IN ('pass', 'fail') " if scoring else "") +
        "ORDER BY produced_at DESC, id DESC LIMIT 1", (pid, level, key)).fetchone()
    return None if row is None else (row[0], row[1], aware(row[2]).date().isoformat(), row[3], row[4])


def _scores_in_force(con: sqlite3.Connection, pid: int, level: int, items: list[list[str]]) -> dict[str, int]:
    """Each scored criterion's percent: the team's own, or for one scored from evidence, 100 or 0 by
    its latest pass or fail record (unscored without one)."""
    own = dict(con.execute("SELECT key, percent FROM criterionscore WHERE project_id = ? AND level = ?", (pid, level)))
    out = {}
    for item in items:
        key = item[0]
        if _from_evidence(item):
            proof = _latest_evidence(con, pid, level, key, scoring=True)
            if proof is not None:
                out[key] = 100 if proof[0] == "pass" else 0
        elif key in own:
            out[key] = own[key]
    return out


def review_counts(con: sqlite3.Connection, n: int) -> dict:
    """What the Reviews and Timelines pages and the review operations must show, from the raw rows."""
    q = lambda sql: con.execute(sql).fetchone()[0]
    t42 = q(project_id_sql(REVIEW_CODE))
    out: dict = {
        "reviews": q("SELECT count(*) FROM review"),
        "open_reviews": q("SELECT count(*) FROM review WHERE status = 'open'"),
        "decided_reviews": q("SELECT count(*) FROM review WHERE status = 'decided'"),
        "review_votes": q("SELECT count(*) FROM reviewvote"),
        "level9": q("SELECT count(*) FROM project WHERE level = 9"),
        "open_review_ids": [r for (r,) in con.execute("SELECT id FROM review WHERE status = 'open' ORDER BY id DESC")],
    }
    # T00042's open review (else the newest open review): its votes and answers.
    rid = q(f"SELECT max(id) FROM review WHERE status = 'open' AND project_id = {t42}") or out["open_review_ids"][0]
    out["review_open_id"] = rid
    out["review_open_listed"] = rid in {r for (r,) in con.execute("SELECT id FROM review ORDER BY id DESC LIMIT 500")}
    out["review_open_code"] = q(f"SELECT p.code FROM review r JOIN project p ON p.id = r.project_id WHERE r.id = {rid}")
    out["review_open_level"] = q(f"SELECT level FROM review WHERE id = {rid}")
    out["review_open_votes"] = q(f"SELECT count(*) FROM reviewvote WHERE review_id = {rid}")
    out["review_open_voters"] = q(f"SELECT count(DISTINCT lower(voter)) FROM reviewvote WHERE review_id = {rid}")
    out["review_open_answers"] = q(f"SELECT count(*) FROM ethicsanswer WHERE review_id = {rid}")
    # The oldest review that decided one of T00042's moves (its timeline links to it).
    decided = con.execute(
        "SELECT e.review_id, e.from_level, e.to_level FROM levelevent e JOIN review r ON r.id = e.review_id "
        f"WHERE e.project_id = {t42} ORDER BY e.review_id LIMIT 1").fetchone()
    out["review_decided"] = None if decided is None else dict(zip(("id", "from_level", "to_level"), decided))
    # "Waiting for my vote": open reviews with REVIEWER on the panel and no vote from them.
    voted = {(r, v.lower()) for r, v in con.execute("SELECT review_id, voter FROM reviewvote")}
    out["waiting"] = sum(1 for r, panel in con.execute("SELECT id, panel FROM review WHERE status = 'open'")
                         if REVIEWER.lower() in (p.lower() for p in json.loads(panel))
                         and (r, REVIEWER.lower()) not in voted)
    # T00042's standing: its level's criteria, unscored counting 0 (one scored from evidence without
    # a pass or fail record is unscored, whatever the team's own score).
    level = q(f"SELECT level FROM project WHERE id = {t42}")
    items = _criteria_items(con, t42, level)
    scores = _scores_in_force(con, t42, level, items)
    out["standing"] = {"level": level, "total": len(items), "scored": len(scores),
                       "average": round(sum(scores.values()) / len(items), 1),
                       "from_evidence": sum(_from_evidence(i) for i in items),
                       "open_review": q(f"SELECT max(id) FROM review WHERE status = 'open' AND project_id = {t42}")}
    # T00042's timeline (its own events: the generator forks nothing).
    kinds = con.execute(f"SELECT kind, review_id FROM levelevent WHERE project_id = {t42}").fetchall()
    out["timeline"] = {"events": len(kinds), "graduations": sum(k == "graduation" for k, _ in kinds),
                       "switchbacks": sum(k == "switchback" for k, _ in kinds),
                       "reviewed": sum(r is not None for _, r in kinds)}
    # The sample system: its tree and its level now (the minimum over the started members).
    system = generate.sample_system_code(n)
    tree = {pid: (code, parent, lv) for pid, code, parent, lv in con.execute(
        "SELECT id, code, parent_id, level FROM project")}
    root = next(pid for pid, (code, _, _) in tree.items() if code == system)
    members, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, (_, parent, _) in tree.items() if parent in frontier]
        members += frontier
    levels_now = {tree[m][0]: tree[m][2] for m in members if tree[m][2] is not None}
    low = min(levels_now.values())
    out["system"] = {"code": system, "members": len(members), "level": low,
                     "held_by": ", ".join(sorted(c for c, lv in levels_now.items() if lv == low))}
    return out


# --- the evidence-heavy technology (bench/evidencegen.py): its answers from the raw rows ------------

EVIDENCE_SHOWN = 100  # views/project.py EVIDENCE_SHOWN: the newest records the Evidence timeline shows
UNMET_SHOWN = 6  # views/project.py: the unmet criteria (lowest first) named under "what blocks"
DASH = "—"  # mltrl.ui.tables.DASH: a table's missing value


def evidence_counts(con: sqlite3.Connection) -> dict | None:
    """The evidence-heavy technology (the one with the most evidence records) and what its Project
    page, its open review's checklist and the evidence services must show, from the raw rows: its
    current level's criteria with the percent in force (a criterion scored from evidence: 100 or 0
    by its latest pass or fail record), each criterion's evidence (count, newest record, newest pass
    or fail record), and every record's id newest first. None when no technology has evidence."""
    top = con.execute("SELECT project_id, count(*) FROM evidence GROUP BY project_id ORDER BY 2 DESC, 1 LIMIT 1"
                      ).fetchone()
    if top is None:
        return None
    pid, records = top
    code, level = con.execute("SELECT code, level FROM project WHERE id = ?", (pid,)).fetchone()
    items = _criteria_items(con, pid, level)
    scores = _scores_in_force(con, pid, level, items)
    own = dict(con.execute("SELECT key, percent FROM criterionscore WHERE project_id = ? AND level = ?", (pid, level)))
    found = {key: {"count": count, "latest": _latest_evidence(con, pid, level, key, scoring=False),
                   "scoring": _latest_evidence(con, pid, level, key, scoring=True)}
             for key, count in con.execute(
                 "SELECT criterion_key, count(*) FROM evidence WHERE project_id = ? AND level = ? "
                 "AND criterion_key IS NOT NULL GROUP BY criterion_key", (pid, level))}
    review = con.execute("SELECT max(id) FROM review WHERE status = 'open' AND project_id = ?", (pid,)).fetchone()[0]
    newest = con.execute("SELECT id, title FROM evidence WHERE project_id = ? ORDER BY produced_at DESC, id DESC",
                         (pid,)).fetchall()
    return {
        "code": code, "level": level, "records": records, "review_id": review,
        "review_listed": review in {r for (r,) in con.execute("SELECT id FROM review ORDER BY id DESC LIMIT 500")},
        "criteria": [{"key": i[0], "text": i[1], "from_evidence": _from_evidence(i), "percent": scores.get(i[0], 0),
                      "own": own.get(i[0])} for i in items],
        "scored": len(scores), "average": round(sum(scores.values()) / len(items), 1), "found": found,
        "ids": [r for r, _ in newest], "titles": [t for _, t in newest],
        "level_records": con.execute("SELECT count(*) FROM evidence WHERE project_id = ? AND level = ?",
                                     (pid, level)).fetchone()[0],
    }


def _proof_text(proof: tuple) -> str:
    """The start of ``mltrl.ui.evidence.proof_line``: status, title, the day it was produced (then
    " · stale" and the count may follow)."""
    return f"{proof[0]} · {proof[1]} · {proof[2]}"


def _check_project_evidence(at, n: int, counts: dict) -> None:
    """The evidence-heavy technology's Project page: the readiness line (the average with the scores
    from evidence laid over the team's), the unmet criteria (lowest first, at most six) each naming
    its evidence as the raw rows give it (a criterion scored from evidence: its latest pass or fail
    record; by hand: its newest record and how many), and the Evidence timeline: the newest 100 of
    its records, in order, with the caption counting them all."""
    e = counts["evidence"]
    assert at.header and at.header[0].value.startswith(f"{e['code']} "), [h.value for h in at.header]
    texts = [str(m.value) for m in at.markdown]
    line = f"Level {e['level']}'s exit criteria average **{e['average']:.0f}%**"
    assert any(line in t for t in texts), (line, [t[:120] for t in texts if "average" in t])
    problems, named = [], 0
    unmet = sorted((c for c in e["criteria"] if c["percent"] < 100), key=lambda c: c["percent"])[:UNMET_SHOWN]
    for c in unmet:
        head = f":gray-badge[{c['percent']}%] {c['text']}  \n"
        shown = next((t[len(head):] for t in texts if t.startswith(head)), None)
        if shown is None:
            problems.append(f"unmet criterion {c['key']} ({c['percent']}%) not shown")
            continue
        f = e["found"].get(c["key"])
        if c["from_evidence"]:
            proof = f["scoring"] if f else None
            want = (f"*Scored from evidence:* {_proof_text(proof)}" if proof
                    else "*Scored from evidence:* no pass or fail record yet.")
            more = ""
        elif f:
            want, more = f"*Latest evidence:* {_proof_text(f['latest'])}", (
                f" ({f['count']} records).  \n" if f["count"] > 1 else "")
        else:
            want = more = ""
        if want and not (shown.startswith(want) and more in shown):
            problems.append(f"{c['key']}: {shown[:160]!r}, expected {want!r}...{more.strip()!r}")
        if not want and "evidence:*" in shown:
            problems.append(f"{c['key']} has no evidence, the page names some: {shown[:120]!r}")
        named += bool(want and f)
    if unmet and not named:
        problems.append(f"none of the {len(unmet)} unmet criteria shown names its evidence")
    timelines = [d.value for d in at.dataframe if {"title", "kind", "status", "by"} <= set(d.value.columns)]
    shown_n = min(EVIDENCE_SHOWN, e["records"])
    if len(timelines) != 1:
        problems.append(f"{len(timelines)} evidence timelines")
    elif list(timelines[0]["title"]) != e["titles"][:shown_n]:
        got = list(timelines[0]["title"])
        problems.append(f"the timeline shows {len(got)} records, not the newest {shown_n} of {e['records']} in order "
                        f"(first difference: {next(((a, b) for a, b in zip(got, e['titles']) if a != b), None)})")
    caption = f"the latest {EVIDENCE_SHOWN} of {e['records']}"
    if e["records"] > EVIDENCE_SHOWN and not any(caption in str(c.value) for c in at.caption):
        problems.append(f"no caption {caption!r}")
    assert not problems, "; ".join(problems)


def _check_reviews_evidence(at, n: int, counts: dict) -> None:
    """The evidence-heavy technology's open review: the one asked for is shown; its exit checklist
    has one grid row per criterion scored by hand, each with its newest record ("Latest evidence
    sent": status, title, day, how many) or a dash, and the "Scored from evidence" table one row per
    criterion scored from evidence, with the status, the title and the percent (100 or 0) of its
    latest pass or fail record and the team's own score beside it, all as in the raw rows."""
    import math

    e = counts["evidence"]
    head = f"### Review {e['review_id']} · {e['code']} "
    shown = [m.value for m in at.markdown if str(m.value).startswith("### Review ")]
    assert shown and shown[0].startswith(head), (
        f"?review={e['review_id']} ({e['code']}'s open review) shows {shown[0][:60] if shown else 'no review'!r}")
    assert any("##### Scored from evidence" == str(m.value) for m in at.markdown), "no 'Scored from evidence' table"
    frames = [d.value for d in at.dataframe]
    hand = [c for c in e["criteria"] if not c["from_evidence"]]
    chosen = [c for c in e["criteria"] if c["from_evidence"]]
    problems = []
    grids = [f for f in frames if "latest" in f.columns and len(f) == len(hand)]
    if len(grids) != 1:
        problems.append(f"{len(grids)} checklist grids of {len(hand)} rows with 'Latest evidence sent'")
    else:
        for c, latest in zip(hand, grids[0]["latest"]):
            f = e["found"].get(c["key"])
            if f is None:
                ok = latest in (DASH, None) or (isinstance(latest, float) and math.isnan(latest))
                want = DASH
            else:
                want = _proof_text(f["latest"]) + (f" ({f['count']} records)" if f["count"] > 1 else "")
                ok = isinstance(latest, str) and latest.startswith(_proof_text(f["latest"])) and latest.endswith(
                    f" ({f['count']} records)" if f["count"] > 1 else "")
            if not ok:
                problems.append(f"{c['key']}: latest evidence {latest!r}, expected {want!r}")
    tables = [f for f in frames if {"record", "own", "status"} <= set(f.columns)]
    if len(tables) != 1 or len(tables[0]) != len(chosen):
        problems.append(f"no 'Scored from evidence' table of {len(chosen)} rows ({[len(t) for t in tables]})")
    else:
        for c, row in zip(chosen, tables[0].to_dict("records")):
            f = e["found"].get(c["key"])
            proof = f["scoring"] if f else None
            own = row["own"]
            got = (row["criterion"], row["status"], row["record"] if proof else None,
                   None if proof is None else int(row["percent"]),
                   None if own is None or (isinstance(own, float) and math.isnan(own)) else int(own))
            want = (c["text"], proof[0] if proof else "no evidence yet", proof[1] if proof else None,
                    None if proof is None else c["percent"], c["own"])
            if got != want:
                problems.append(f"scored from evidence {c['key']}: {got}, expected {want}")
        if not any(f and f["scoring"] for f in (e["found"].get(c["key"]) for c in chosen)):
            problems.append("no criterion scored from evidence has a pass or fail record to show")
    assert not problems, "; ".join(problems)


def _check_reviews_overview(at, n: int, counts: dict) -> None:
    """The four metrics, each against the raw rows: every open review, the open reviews with the
    acting user (REVIEWER) on the panel and no vote from them, every decided review, and the
    level 9 technologies overdue for review (counted with the default policy just now and five
    minutes ago: overdue only grows with time). The deployed table lists every level 9 technology."""
    r = counts["review"]
    metrics = metric_values(at)
    lo, hi = page_answer(lambda con: (_deployed_overdue(con, datetime.now(UTC) - timedelta(minutes=5)),
                                       _deployed_overdue(con, datetime.now(UTC))))
    problems = []
    if metrics.get("Open reviews") != r["open_reviews"]:
        problems.append(f"'Open reviews' shows {metrics.get('Open reviews')}, {r['open_reviews']} are open")
    if metrics.get("Waiting for my vote") != r["waiting"]:
        problems.append(f"'Waiting for my vote' shows {metrics.get('Waiting for my vote')} for {REVIEWER}, "
                        f"{r['waiting']} open reviews have them on the panel without their vote")
    if metrics.get("Decided") != r["decided_reviews"]:
        problems.append(f"'Decided' shows {metrics.get('Decided')}, {r['decided_reviews']} reviews are decided")
    if not lo <= metrics.get("Level 9 reviews overdue", -1) <= hi:
        problems.append(f"'Level 9 reviews overdue' shows {metrics.get('Level 9 reviews overdue')}, "
                        f"expected {lo}..{hi}")
    if r["level9"] and not any(len(d.value) == r["level9"] for d in at.dataframe):
        problems.append(f"no table of the {r['level9']} deployed technologies")
    assert not problems, "; ".join(problems)


def _checklist_sizes(at, standing: dict) -> str | None:
    """What is missing of a level's exit checklist (one row per criterion scored by hand; one row per
    criterion scored from evidence in the table beside it), or None."""
    sizes = [len(d.value) for d in at.dataframe]
    hand, from_evidence = standing["total"] - standing["from_evidence"], standing["from_evidence"]
    if hand and hand not in sizes:
        return f"no exit checklist of {hand} criteria scored by hand (tables of {sizes} rows)"
    if from_evidence and from_evidence not in sizes:
        return f"no table of the {from_evidence} criteria scored from evidence (tables of {sizes} rows)"
    return None


def _check_reviews_review(at, n: int, counts: dict) -> None:
    """The review asked for in the query is the one shown, open, with its level's exit checklist
    (one row per criterion: by hand in the grid, from evidence in the table beside it) and one row
    per panel member who voted."""
    r = counts["review"]
    head = f"### Review {r['review_open_id']} · {r['review_open_code']} "
    shown = [m.value for m in at.markdown if str(m.value).startswith("### Review ")]
    assert shown and shown[0].startswith(head), (
        f"?review={r['review_open_id']} ({r['review_open_code']}'s open review, {r['reviews']:,} reviews in all) "
        f"shows {shown[0][:60] if shown else 'no review'!r}")
    assert any(":blue-badge[open]" in str(m.value) for m in at.markdown), "the review is not shown as open"
    sizes = [len(d.value) for d in at.dataframe]
    missing = _checklist_sizes(at, r["standing"]) if r["standing"]["open_review"] == r["review_open_id"] else None
    assert missing is None, missing
    assert r["review_open_voters"] in sizes, (f"no table of {r['review_open_voters']} votes", sizes)


def _check_reviews_decided(at, n: int, counts: dict) -> None:
    """The decided review asked for in the query (the oldest that moved T00042) is the one shown,
    as decided, with the level event it recorded."""
    r, d = counts["review"], counts["review"]["review_decided"]
    head = f"### Review {d['id']} · {REVIEW_CODE} "
    shown = [m.value for m in at.markdown if str(m.value).startswith("### Review ")]
    assert shown and shown[0].startswith(head), (
        f"?review={d['id']} (a decided review of {REVIEW_CODE}, {r['reviews']:,} reviews in all) "
        f"shows {shown[0][:60] if shown else 'no review'!r}")
    event = f"Level event: {d['from_level']} → {d['to_level']} "
    assert any(str(m.value).startswith(event) for m in at.markdown), f"no line {event!r}"


def _check_reviews_checklist(at, n: int, counts: dict) -> None:
    """T00042's self-assessment: its level's criteria, the average and how many are scored, as
    counted from the raw scores (unscored counts 0)."""
    st_ = counts["review"]["standing"]
    line = f"Exit criteria average **{st_['average']:.0f}%**"
    scored = f"{st_['scored']} of {st_['total']} scored"
    texts = [str(m.value) for m in at.markdown]
    assert any(line in t and scored in t for t in texts), (line, scored, [t[:120] for t in texts if "average" in t])
    missing = _checklist_sizes(at, st_)
    assert missing is None, missing
    assert "#### Gates on leaving this level" in texts, "no gates section"


def _plotly_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _check_tl_technology(at, n: int, counts: dict) -> None:
    """T00042's level events counted by kind and by whether a review decided them, as in the raw rows;
    the history table has one row per event; the chart has a bounded number of traces."""
    t = counts["review"]["timeline"]
    expected = (f"**{_counted(t['events'], 'level event')}**: {_counted(t['graduations'], 'graduation')}, "
                f"{_counted(t['switchbacks'], 'switchback')}")
    reviewed = f"; {t['reviewed']} decided at a gated review, {t['events'] - t['reviewed']} recorded without one."
    texts = [str(m.value) for m in at.markdown]
    assert any(x.startswith(expected) and x.endswith(reviewed) for x in texts), (expected, reviewed, texts[:3])
    assert t["events"] in [len(d.value) for d in at.dataframe], [len(d.value) for d in at.dataframe]
    specs = _plotly_specs(at)
    assert len(specs) == 1 and len(specs[0]["data"]) <= SWIMLANE_TRACES, [len(x["data"]) for x in specs]


def _check_tl_system(at, n: int, counts: dict) -> None:
    """The sample system's level now is the minimum over it and its components, held down by the
    ones at that minimum; one member row per technology of the tree."""
    sy = counts["review"]["system"]
    line = f"System level now: **{sy['level']}** "
    held = f"held down by **{sy['held_by']}**."
    texts = [str(m.value) for m in at.markdown]
    assert any(x.startswith(line) and x.endswith(held) for x in texts), (line, held, texts[:3])
    assert sy["members"] in [len(d.value) for d in at.dataframe], [len(d.value) for d in at.dataframe]
    specs = _plotly_specs(at)
    assert len(specs) == 1 and len(specs[0]["data"]) <= SWIMLANE_TRACES * 2, [len(x["data"]) for x in specs]


def _swimlanes(spec: dict) -> tuple[list[str], int, int]:
    """(codes of the lanes, top first; traces; height in px) of a swimlane chart's spec."""
    labels = spec["layout"]["yaxis"]["categoryarray"]
    return [str(lb).split(" · ", 1)[0] for lb in labels], len(spec["data"]), int(spec["layout"]["height"])


def _check_tl_portfolio(by: str) -> Callable[[object, int, dict], None]:
    def check(at, n: int, counts: dict) -> None:
        """The first page of swimlanes: at most SWIMLANE_PAGE lanes and SWIMLANE_TRACES traces,
        each lane at least MIN_LANE_PX high, in the order ``by`` as worked out from the raw rows;
        the caption counts every technology."""
        specs = _plotly_specs(at)
        assert len(specs) == 1, f"{len(specs)} charts"
        codes, traces, height = _swimlanes(specs[0])
        expected = page_answer(lambda con: _lane_codes(con, by))
        assert traces <= SWIMLANE_TRACES, f"{traces} traces"
        assert 0 < len(codes) <= SWIMLANE_PAGE and len(codes) == min(SWIMLANE_PAGE, len(expected)), len(codes)
        assert height / len(codes) >= MIN_LANE_PX, (height, len(codes))
        assert codes == expected[:len(codes)], [(a, b) for a, b in zip(codes, expected) if a != b][:5]
        if len(expected) > SWIMLANE_PAGE:
            lanes = f"Lanes 1-{SWIMLANE_PAGE} of {len(expected)} technologies"
            assert any(str(c.value).startswith(lanes) for c in at.caption), [c.value for c in at.caption][:4]
        counts.setdefault("swimlanes", {})[by] = {"lanes": len(codes), "traces": traces, "height_px": height}
    return check


def measure_review_ops(db_path: Path, runs: int, size: str, log: Callable[[str], None], profiling: bool,
                       counts: dict) -> dict[str, dict]:
    """The review and timeline services the Reviews and Timelines pages call, and a full decision,
    on a throwaway copy of the database. Each read is checked once (untimed, against
    ``counts["review"]``: answers from the raw rows) before it is timed; a failed check is kept and
    reported, not fatal. The decision graduates a generated open review (a level without gates,
    not T00042's), picked untimed before each call; the technology moves up one level, the event
    names the review."""
    from sqlalchemy import func, select

    from mltrl import charts, db
    from mltrl.models import LevelEvent, Project, Review
    from mltrl.domain.policy import Policy
    from mltrl.services import Actor, timelines
    from mltrl.services import reviews as review_service

    r = counts["review"]
    actor = Actor("bench")
    items: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="mltrl-bench-reviews-") as tmp:
        copy = copy_db(db_path, Path(tmp))
        engine = db.make_engine(f"sqlite:///{copy}")
        try:
            def timed(name: str, fn: Callable[[], object], check: Callable[[object], None] | None = None,
                      before: Callable[[], object] | None = None) -> None:
                failed = None
                if check is not None:  # once, untimed: the answer is right before it is timed
                    if before:
                        before()
                    out = fn()
                    failed = soft_check(lambda: check(out), name, log)
                res = median_ms(fn, runs, before=before)
                items[name] = dict(kind="review-op", **res, **({"check_failed": failed} if failed else {}))
                log(f"{name} {res['median_ms']:.1f} ms")
                if profiling:
                    profile_call(fn, before, size, name)

            def read(fn: Callable, *args, **kwargs) -> Callable[[], object]:
                def run() -> object:
                    with db.session_scope(engine) as s:
                        return fn(s, *args, **kwargs)
                return run

            standing = r["standing"]

            def check_standing(state) -> None:
                got = (state.level, len(state.criteria), state.readiness.scored, state.readiness.average,
                       state.open_review)
                want = (standing["level"], standing["total"], standing["scored"], standing["average"],
                        standing["open_review"])
                assert got == want, (got, want)

            timed(f"reviews: standing({REVIEW_CODE})", read(review_service.standing, REVIEW_CODE), check_standing)

            e = counts.get("evidence")
            if e is not None:
                _measure_evidence_ops(e, timed, read, engine)

            def check_view(view) -> None:
                got = (view.code, len(view.votes), len(view.latest_votes), len(view.answers), view.review.status)
                want = (r["review_open_code"], r["review_open_votes"], r["review_open_voters"],
                        r["review_open_answers"], "open")
                assert got == want, (got, want)

            timed(f"reviews: review_view of {r['review_open_code']}'s open review",
                  read(review_service.review_view, r["review_open_id"]), check_view)

            def check_open(rows) -> None:
                ids = [x.id for x, _ in rows]
                assert ids == r["open_review_ids"][:REVIEWS_LISTED], (len(ids), r["open_reviews"])

            timed(f"reviews: reviews(status='open') (newest {REVIEWS_LISTED} of {r['open_reviews']:,})",
                  read(review_service.reviews, status="open"), check_open)

            def check_waiting(rows) -> None:
                assert len(rows) == r["waiting"], (
                    f"{len(rows)} open reviews wait for {REVIEWER}'s vote; {r['waiting']} have them on the panel "
                    f"without their vote (of {r['open_reviews']:,} open)")

            timed(f"reviews: waiting_for({REVIEWER})", read(review_service.waiting_for, REVIEWER), check_waiting)

            def check_deployed(rows) -> None:
                con = sqlite3.connect(copy)
                try:
                    lo = _deployed_overdue(con, datetime.now(UTC) - timedelta(minutes=5))
                    hi = _deployed_overdue(con, datetime.now(UTC))
                finally:
                    con.close()
                overdue = sum(d.overdue for d in rows)
                assert len(rows) == r["level9"] and lo <= overdue <= hi, (len(rows), r["level9"], lo, overdue, hi)

            timed("reviews: deployed_reviews(Policy())", read(review_service.deployed_reviews, Policy()), check_deployed)

            with engine.connect() as con:  # the raw answer: switchbacks per technology, counted in Python
                raw_switchbacks = sum(1 for (kind,) in con.exec_driver_sql("SELECT kind FROM levelevent")
                                      if kind == "switchback")
                started = con.exec_driver_sql("SELECT count(*) FROM project WHERE level IS NOT NULL").scalar()

            def check_lanes(frame) -> None:
                assert len(frame) == counts["projects"], (len(frame), counts["projects"])
                assert int(frame["switchbacks"].sum()) == raw_switchbacks, (int(frame["switchbacks"].sum()),
                                                                            raw_switchbacks)
                assert int(frame["phase_since"].notna().sum()) == started, started

            timed("timelines: lane_frame (every technology's lane facts, grouped in SQL)",
                  read(timelines.lane_frame), check_lanes)

            # What the Portfolio tab does with the cached lane frame: the order, one page's events
            # (read for those lanes only), segments and marks, and the figure.
            with db.session_scope(engine) as s:
                frame = timelines.lane_frame(s)
            expected = page_answer(lambda con: _lane_codes(con, "level"))

            def swimlanes() -> object:
                now = datetime.now(UTC)
                lanes = timelines.order_lanes(frame, "level").iloc[:SWIMLANE_PAGE]
                with db.session_scope(engine) as s:
                    mine = timelines.lane_events(s, lanes["id"])
                marks = mine[mine["kind"].isin(timelines.SWITCHBACK_KINDS)]
                return charts.swimlanes_chart(lanes, timelines.lane_segments(mine, as_of=now), marks, as_of=now)

            def check_swimlanes(fig) -> None:
                codes, traces, _ = _swimlanes(json.loads(fig.to_json()))
                assert traces <= SWIMLANE_TRACES and codes == expected[:SWIMLANE_PAGE], (traces, codes[:5])

            timed(f"timelines: swimlanes, first page by level (order_lanes + lane_events + lane_segments + "
                  f"swimlanes_chart, {SWIMLANE_PAGE} lanes)", swimlanes, check_swimlanes)

            # A full decision: graduate an open review. Candidates: generated open reviews at a level
            # without gates (5, 8) below 9, not T00042's, oldest technology first; one per call.
            with db.session_scope(engine) as s:
                candidates = [tuple(x) for x in s.execute(
                    select(Review.id, Review.level, Review.version).join(Project, Project.id == Review.project_id)
                    .where(Review.status == "open", Review.level.not_in([5, 8, 9]), Project.code != REVIEW_CODE)
                    .order_by(Review.id)).all()]
                events_before = s.execute(select(func.count()).select_from(LevelEvent)).scalar_one()
            needed = runs + 2 + (1 if profiling else 0)
            log(f"open reviews to decide: {len(candidates)} candidates, {needed} needed")
            pending: dict = {}

            def pick() -> None:  # untimed: the next open review to decide, opened here if none is left
                if candidates:
                    pending["review"] = candidates.pop(0)
                    return
                with db.session_scope(engine) as s:
                    code = s.execute(
                        select(Project.code).where(Project.level.not_in([5, 8, 9]), Project.level.is_not(None),
                                                   ~Project.id.in_(select(Review.project_id)
                                                                   .where(Review.status == "open")))
                        .order_by(Project.code).limit(1)).scalar_one()
                    opened = review_service.open_review(session=s, actor=actor, code=code, panel=[REVIEWER])
                    pending["review"] = (opened.id, opened.level, opened.version)

            decided: list[int] = []

            def decide() -> object:
                rid, level, version = pending["review"]
                with db.session_scope(engine) as s:
                    out = review_service.decide(session=s, actor=actor, review_id=rid, expected_version=version,
                                                decision="graduate", note="Benchmark graduation")
                    assert out.event is not None and (out.event.from_level, out.event.to_level) == (level, level + 1)
                    assert out.event.review_id == rid and out.review.status == "decided" and out.debrief
                decided.append(rid)
                return out

            timed("reviews: decide() graduate of an open review (level event, gates, scores, audit)", decide,
                  lambda out: None, before=pick)
            with db.session_scope(engine) as s:
                events_after = s.execute(select(func.count()).select_from(LevelEvent)).scalar_one()
                linked = s.execute(select(func.count()).select_from(LevelEvent)
                                   .where(LevelEvent.review_id.in_(decided))).scalar_one()
            assert events_after - events_before == len(decided) == linked, (events_before, events_after, decided)
        finally:
            engine.dispose()
    return items


def _measure_evidence_ops(e: dict, timed: Callable, read: Callable, engine) -> None:
    """The evidence services on the evidence-heavy technology, each checked once against the raw
    rows (``counts["evidence"]``) before it is timed: ``criterion_evidence`` and ``proofs`` of its
    current level (the project read in the call, as the pages do), ``evidence_of`` its newest 100
    (the Project page's timeline) and all of them, and its ``standing`` (which reads its evidence)."""
    from mltrl import db
    from mltrl.services import projects
    from mltrl.services import reviews as review_service

    code, level = e["code"], e["level"]

    def at_level(fn: Callable) -> Callable[[], object]:
        def run() -> object:
            with db.session_scope(engine) as s:
                return fn(s, projects.get_project(s, code), level)
        return run

    def check_found(found) -> None:
        got = {k: (v.count, v.latest.status, v.latest.title, v.scoring.status if v.scoring else None)
               for k, v in found.items()}
        want = {k: (f["count"], f["latest"][0], f["latest"][1], f["scoring"][0] if f["scoring"] else None)
                for k, f in e["found"].items()}
        assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)}

    def check_proofs(found) -> None:
        got = {k: (p.status, p.title) for k, p in found.items()}
        want = {k: f["scoring"][:2] for k, f in e["found"].items() if f["scoring"]}
        assert got == want, (got, want)

    def check_ids(limit: int | None) -> Callable[[list], None]:
        def check(rows) -> None:
            assert [r.id for r in rows] == e["ids"][:limit], (len(rows), e["records"])
        return check

    def check_standing(state) -> None:
        got = (state.level, state.readiness.scored, state.readiness.average, state.open_review, len(state.evidence))
        want = (level, e["scored"], e["average"], e["review_id"], len(e["found"]))
        assert got == want, (got, want)

    what = f"the evidence-heavy technology ({e['records']} records, {e['level_records']} at its level {level})"
    timed(f"evidence: criterion_evidence of {what}", at_level(review_service.criterion_evidence), check_found)
    timed(f"evidence: proofs of {what}", at_level(review_service.proofs), check_proofs)
    timed(f"evidence: evidence_of(limit={EVIDENCE_SHOWN}) of {what}",
          read(review_service.evidence_of, code, limit=EVIDENCE_SHOWN), check_ids(EVIDENCE_SHOWN))
    timed(f"evidence: evidence_of (every record) of {what}", read(review_service.evidence_of, code), check_ids(None))
    timed(f"evidence: standing of {what}", read(review_service.standing, code), check_standing)


# The evidence-heavy technology's Project page (PAGES lists it after the sample project's).
EVIDENCE_PROJECT_PAGE = PageSpec(
    "project (the evidence-heavy technology)",
    "views/project.py", query_params=lambda n, c: {"code": c["evidence"]["code"]}, check=_check_project_evidence)

REVIEW_PAGES = [
    PageSpec("reviews Overview", "views/reviews.py", check=_check_reviews_overview,
             session_state={"reviews_tab": "Overview", "actor_name": REVIEWER}, fresh_state=("reviews_tab",),
             drop_params=("review", "tab")),
    # First the decided review (no picker state yet: as a link followed from the Timelines page);
    # then the open one, the picker set to it as the page would from ?review= (AppTest keeps the
    # picker's state from run to run on one page, and a picker's state cannot be dropped while the
    # widget is on the screen).
    PageSpec(f"reviews Review (a decided review of {REVIEW_CODE}, linked from its timeline)", "views/reviews.py",
             check=_check_reviews_decided,
             query_params=lambda n, c: {"review": str(c["review"]["review_decided"]["id"])},
             session_state={"reviews_tab": "Review", "actor_name": REVIEWER}, fresh_state=("reviews_tab",),
             drop_params=("tab",)),
    PageSpec(f"reviews Review ({REVIEW_CODE}'s open review)", "views/reviews.py", check=_check_reviews_review,
             query_params=lambda n, c: {"review": str(c["review"]["review_open_id"])},
             state=lambda n, c: {"review_pick": c["review"]["review_open_id"]} if c["review"]["review_open_listed"]
             else {},  # (the picker offers the newest 500: setting another id would break AppTest)
             session_state={"reviews_tab": "Review", "actor_name": REVIEWER}, fresh_state=("reviews_tab",),
             drop_params=("tab",)),
    # The evidence-heavy technology's open review (``review_pick`` set to it: an older review asked
    # for by ``?review=`` is offered first, so it is among the picker's options even when not listed).
    PageSpec("reviews Review (the evidence-heavy technology's open review)",
             "views/reviews.py", check=_check_reviews_evidence,
             query_params=lambda n, c: {"review": str(c["evidence"]["review_id"])},
             state=lambda n, c: {"review_pick": c["evidence"]["review_id"]},
             session_state={"reviews_tab": "Review", "actor_name": REVIEWER}, fresh_state=("reviews_tab",),
             drop_params=("tab", "code")),
    PageSpec(f"reviews Checklist {REVIEW_CODE}", "views/reviews.py", check=_check_reviews_checklist,
             query_params=lambda n, c: {"code": REVIEW_CODE},
             session_state={"reviews_tab": "Checklist", "checklist_code": REVIEW_CODE, "actor_name": REVIEWER},
             fresh_state=("reviews_tab",), drop_params=("review", "tab")),
    PageSpec(f"timelines Technology {REVIEW_CODE}", "views/timelines.py", check=_check_tl_technology,
             query_params=lambda n, c: {"code": REVIEW_CODE},
             session_state={"tl_tab": "Technology", "tl_code": REVIEW_CODE}, fresh_state=("tl_tab",),
             drop_params=("review", "tab", "system")),
    PageSpec("timelines System (the sample system)", "views/timelines.py", check=_check_tl_system,
             query_params=lambda n, c: {"code": generate.sample_system_code(n)},
             session_state={"tl_tab": "System"}, fresh_state=("tl_tab",),
             drop_params=("review", "tab", "system")),
    *(PageSpec(f"timelines Portfolio swimlanes by {by}", "views/timelines.py", check=_check_tl_portfolio(by),
               session_state={"tl_tab": "Portfolio", **TL_NO_FILTER, "tl_sort": by}, fresh_state=("tl_tab",),
               drop_params=("review", "tab", "system", "code")) for by in ("level", "switchbacks")),
]
