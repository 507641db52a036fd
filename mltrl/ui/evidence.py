"""Evidence as the pages show it: a criterion's latest record in a line, the criteria scored from
evidence in a table beside the hand-scored checklist, and a technology's evidence as a timeline.
Reads what the services give (``services.reviews``: ``CriterionEvidence``, ``Proof``, records)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from mltrl.domain import evidence as rules
from mltrl.domain import gates as gate_rules
from mltrl.ui import tables

STATUS_BADGE = {"pass": "green", "fail": "red", "info": "blue"}


def proof_line(proof: rules.Proof | None, count: int = 0) -> str:
    """``pass · Tests: 12 passed, 0 failed · 2026-12-01 (3 records)``; a dash with none."""
    if proof is None:
        return tables.DASH
    more = f" ({count} records)" if count > 1 else ""
    stale = " · stale" if proof.stale else ""
    return f"{proof.status} · {proof.title} · {proof.produced_at:%Y-%m-%d}{stale}{more}"


def latest_lines(criteria: Sequence[gate_rules.Criterion], found: Mapping[str, Any]) -> dict[str, str]:
    """Each criterion's latest evidence in a line (key -> text)."""
    return {c.key: proof_line(found[c.key].latest, found[c.key].count) if c.key in found else tables.DASH
            for c in criteria}


def criterion_note(criterion: gate_rules.Criterion, scores: Mapping[str, gate_rules.Score],
                   found: Mapping[str, Any]) -> str:
    """What the evidence says of one criterion, as a Markdown line ending in a line break (empty
    when it has none and is scored by hand)."""
    if criterion.from_evidence:
        score = scores.get(criterion.key)
        if score is None or score.proof is None:
            return "*Scored from evidence:* no pass or fail record yet.  \n"
        return f"*Scored from evidence:* {proof_line(score.proof)}.  \n"
    if criterion.key in found:
        return f"*Latest evidence:* {proof_line(found[criterion.key].latest, found[criterion.key].count)}.  \n"
    return ""


def scored_from_evidence(criteria: Sequence[gate_rules.Criterion], scores: Mapping[str, gate_rules.Score],
                         own: Mapping[str, gate_rules.Score], *, key: str) -> None:
    """The criteria scored from evidence: the score each takes from its latest pass or fail record
    (or that none came yet), the record, and the team's own score kept apart."""
    chosen = [c for c in criteria if c.from_evidence]
    if not chosen:
        return
    st.markdown("##### Scored from evidence")
    st.caption("These criteria take their score from the latest pass or fail evidence sent for them (a CI test "
               "report, an MLflow run): pass counts 100%, fail 0%. Nobody edits them here; the team's own score is "
               "kept apart.")
    rows = []
    for c in chosen:
        score = scores.get(c.key)
        proof = score.proof if score is not None and score.source == "evidence" else None
        mine = own.get(c.key)
        rows.append({
            "criterion": c.text, "percent": score.percent if proof is not None else None,
            "status": proof.status if proof else "no evidence yet",
            "record": proof.title if proof else None, "link": (proof.url or None) if proof else None,
            "produced": proof.produced_at.date() if proof else None, "source": proof.source or None if proof else None,
            "stale": proof.stale if proof else None, "own": mine.percent if mine is not None else None,
        })
    tables.show(pd.DataFrame(rows), key=f"{key}_from_evidence", column_config={
        "criterion": st.column_config.TextColumn("Criterion", width="large"),
        "percent": st.column_config.NumberColumn("Done %", format="%d%%"),
        "status": "Evidence says", "record": "Latest evidence", "link": st.column_config.LinkColumn("Link"),
        "produced": st.column_config.DateColumn("Produced"), "source": "From",
        "stale": "Stale because", "own": st.column_config.NumberColumn("Team's own score", format="%d%%")})


def decided_from_evidence(criteria: Sequence[gate_rules.Criterion], scores: Mapping[str, gate_rules.Score]) -> list[str]:
    """For a decided review: where each score from evidence came from, in a line each."""
    lines = []
    for c in criteria:
        score = scores.get(c.key)
        if score is not None and score.source == "evidence" and score.proof is not None:
            p = score.proof
            own = f"; the team's own score was {score.manual}%" if score.manual is not None else ""
            lines.append(f"**{c.key}**: {score.percent}% from {p.status} evidence “{p.title}” "
                         f"({p.source or 'no source given'}, {p.produced_at:%Y-%m-%d}){own}")
    return lines


def timeline_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Evidence records (``services.reviews.evidence_record``) as the timeline table's rows.

    What a reader scans for comes first: status, what it is, its numbers and who sent it; then
    staleness, the source system and the link.
    """
    return pd.DataFrame([{
        "produced": pd.Timestamp(r["produced_at"]).date(), "level": r["level"],
        "for": r["criterion"] or (f"requirement {r['requirement']}" if r["requirement"] else None),
        "status": r["status"], "kind": rules.KINDS.get(r["kind"], r["kind"]), "title": r["title"],
        "metrics": ", ".join(f"{k} {v:g}" for k, v in list(r["metrics"].items())[:6]) or None,
        "link": r["url"] or None, "source": r["source"] or None,
        "by": r["recorded_by"] + (f" ({r['recorded_via']})" if r["recorded_via"] else ""), "stale": r["stale"],
    } for r in records], columns=["produced", "level", "for", "status", "kind", "title", "metrics", "by", "stale",
                                  "source", "link"])


def timeline(records: Sequence[Mapping[str, Any]], *, key: str) -> None:
    """A technology's evidence, newest first, as a table."""
    tables.show(timeline_frame(records), key=key, column_config={
        "produced": st.column_config.DateColumn("Produced"), "level": st.column_config.NumberColumn("Level"),
        "for": "For", "status": "Status", "kind": "Kind", "title": st.column_config.TextColumn("Title", width="medium"),
        "metrics": st.column_config.TextColumn("Metrics", width="medium"), "by": "Sent by",
        "stale": "Stale because", "source": "From", "link": st.column_config.LinkColumn("Link")})
