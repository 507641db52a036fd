"""``mltrl review``: gated reviews (list, show, open, vote, decide) and gate overrides.

``show`` prints ``services.reviews.review_record`` (the same record the API answers: the scores
and gates of its technology now, or as stored at the decision: ``gates.decided_scores``)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from mltrl.cli.common import (
    Id,
    JsonOption,
    NoteOption,
    actor,
    iso,
    noun,
    say,
    say_json,
    session,
    warn,
    when_callback,
    write,
)
from mltrl.services import level_moves

app = noun("Gated reviews: open, vote, decide; gate overrides.")

ReviewId = Id("ID", "Review number.")


class ReviewStatus(str, Enum):
    open = "open"
    decided = "decided"
    cancelled = "cancelled"


def _print_review(r: dict) -> None:
    t = r["technology"]
    echo = say
    echo(f"review {r['id']}: {r['code']} ({t['name']}) at level {r['level']}, {r['status']}")
    echo(f"  opened {r['opened_at'][:16].replace('T', ' ')} by {r['opened_by']}; the technology is now at level "
         f"{'-' if t['level'] is None else t['level']} ({t['status']})")
    echo(f"  panel: {', '.join(r['panel']) or '(anyone with the reviewer role)'}")
    echo(f"  suggested for level {r['level']}: {', '.join(r['suggested_panel'])}")
    rd = r["readiness"]
    echo(f"criteria (version {r['criteria_version']}, scores as of {r['scores_as_of']}): "
         f"average {rd['average']}% of {rd['threshold']}% needed, {'ready' if rd['ready'] else 'not ready'}")
    for c in r["criteria"]:
        pct = "  -" if c["percent"] is None else f"{c['percent']:>3}"
        extra = "  ".join(x for x in (c["evidence"], c["comment"]) if x)
        echo(f"  {pct}%  {c['key']}: {c['criterion']}" + (f"  [{extra}]" if extra else ""))
        proof = c.get("from_evidence")
        if proof:
            own = f"; the team's own score {c['manual_percent']}%" if c.get("manual_percent") is not None else ""
            stale = f"; stale: {proof['stale']}" if proof.get("stale") else ""
            echo(f"        scored from evidence: {proof['status']} - {proof['title']} ({proof['source'] or 'no source'}, "
                 f"{(proof['produced_at'] or '')[:10]}){own}{stale}")
        elif c.get("scored_by") == "evidence":
            echo("        scored from evidence: no pass or fail evidence yet")
    echo(f"gates (as of {r['gates_as_of']}):" + ("" if r["gates"] else " none at this level"))
    for g in r["gates"]:
        echo(f"  {g['state']:<16} {g['title']}")
        for blocker in g["blockers"]:
            echo(f"    - {blocker}")
        o = g.get("override")
        if o:
            until = f" until {o['expires_at'][:10]}" if o.get("expires_at") else ""
            echo(f"    override by {o['by']}{until}: {o['justification']}")
    answered = [e for e in r["ethics"] if e["answer"] or e["changed"]]
    echo(f"ethics (template version {r['ethics_version']}): {len([e for e in r['ethics'] if e['answer']])} of "
         f"{len(r['ethics'])} answered, {len(r['ethics_changed'])} changed since the previous review")
    for e in answered:
        mark = "*" if e["changed"] else " "
        echo(f"  {mark} {e['key']}: {e['answer'] or '(no answer now)'}")
    echo(f"votes ({len(r['votes'])} cast):" + ("" if r["votes"] else " none yet"))
    for v in r["votes"]:
        latest = r["latest_votes"].get(v["voter"])
        current = latest is not None and latest["at"] == v["at"] and latest["vote"] == v["vote"]
        comment = f": {v['comment']}" if v["comment"] else ""
        echo(f"  {v['at'][:16].replace('T', ' ')}  {v['voter']:<16} {v['vote']:<12}{'' if current else ' (replaced)'}{comment}")
    if r["decision"]:
        echo(f"decision: {r['decision']} on {r['decided_at'][:10]} by {r['decided_by']}"
             + (f" (to level {r['target_level']}, {r['switchback_kind']})" if r["target_level"] is not None else ""))
    elif r["status"] == "cancelled":
        echo(f"cancelled on {r['decided_at'][:10]} by {r['decided_by']}")
    if r["note"]:
        echo(f"  note: {r['note']}")
    for task in r["tasks"]:
        due = f" (due {task['due']})" if task.get("due") else ""
        echo(f"  task {task['number']}: {task['task']} @{task['owner']}{due}")
    ev = r["event"]
    if ev:
        src = "start" if ev["from_level"] is None else f"{ev['from_level']} ->"
        echo(f"level event {ev['id']}: {ev['kind']} {src} {ev['to_level']} on {ev['at'][:10]}")


@app.command("list")
def review_list(
    code: Annotated[str | None, typer.Option("--code", help="Only this technology's reviews.")] = None,
    status: Annotated[ReviewStatus | None, typer.Option("--status", help="Only reviews in this state.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="At most this many, the newest.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """Reviews, newest first: level, status, panel and decision."""
    from mltrl.services import reviews

    with session() as s:
        rows = reviews.reviews(s, code=code, status=status.value if status else None, limit=limit + 1)
        records = [reviews.review_summary(review, c) for review, c in rows[:limit]]
    if len(rows) > limit:
        say(f"showing the newest {limit} reviews; there are more (use --limit, --code or --status)", err=True)
    if as_json:
        say_json(records)
        return
    if not records:
        say("no reviews" + (" match" if code or status else " yet (try: mltrl review open CODE)"))
        return
    width = max(len(r["code"]) for r in records)
    say(f"{'id':>5}  {'code':<{width}}  level  {'status':<9}  opened      {'decision':<11}  panel")
    for r in records:
        say(f"{r['id']:>5}  {r['code']:<{width}}  {r['level']:>5}  {r['status']:<9}  {r['opened_at'][:10]}  "
                   f"{r['decision'] or '-':<11}  {', '.join(r['panel']) or '-'}")


@app.command("show")
def review_show(
    review_id: ReviewId,
    as_json: JsonOption = False,
) -> None:
    """Everything about one review: criteria and scores, gates, ethics answers, votes, decision."""
    from mltrl.services import reviews

    with session() as s:
        record = reviews.review_record(s, review_id)
    if as_json:
        say_json(record)
        return
    _print_review(record)


@app.command("open")
def review_open(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    panel: Annotated[list[str] | None, typer.Option("--panel", help="A panel member's user name (repeat for several).")] = None,
) -> None:
    """Open a gated review of a technology at its current level; prints the new review's id.

    What was opened (level, panel) goes to stderr, so `id=$(mltrl review open CODE)` works."""
    from mltrl.services import reviews

    review = write(reviews.open_review, code=code, panel=panel or [])
    say(f"opened review {review.id} of {code} at level {review.level}"
               + (f" (panel: {', '.join(review.panel)})" if review.panel else ""), err=True)
    say(str(review.id))


@app.command("vote")
def review_vote(
    review_id: ReviewId,
    vote: Annotated[str, typer.Argument(help='graduate | "not yet" | "switch back"')],
    comment: Annotated[str, typer.Option("--comment", help="Why, in a sentence or two.")] = "",
) -> None:
    """Vote on an open review as a panel member (a new vote replaces yours in the count; both are kept)."""
    from mltrl.services import reviews

    row = write(reviews.cast_vote, review_id=review_id, vote=reviews.choice_word(vote), comment=comment)
    say(f"review {review_id}: {row.voter} votes {row.vote}")


def _task(text: str) -> dict[str, str]:
    what, sep, owner = text.rpartition("@")
    return {"task": what, "owner": owner} if sep else {"task": text, "owner": ""}


@app.command("decide")
def review_decide(
    review_id: ReviewId,
    decision: Annotated[str, typer.Argument(help='graduate | hold | "switch back" | pause')],
    note: NoteOption = None,
    to: Annotated[int | None, typer.Option("--to", min=0, max=9, help="switch back: the level to go back to.")] = None,
    task: Annotated[list[str] | None, typer.Option("--task", help='hold: "what is to be done@owner" (repeat for several).')] = None,
) -> None:
    """Decide an open review (reviewers): graduate, hold (with tasks), switch back (--to) or pause."""
    from mltrl.domain.gates import Decision
    from mltrl.services import reviews

    word = reviews.choice_word(decision)
    if word.lower() in {d.value for d in Decision}:
        if to is not None and word.lower() != Decision.SWITCH_BACK:
            raise typer.BadParameter("--to goes with switch back only", param_hint="--to")
        if task and word.lower() != Decision.HOLD:
            raise typer.BadParameter("--task goes with hold only", param_hint="--task")
    with session() as s:
        current = reviews.review_view(s, review_id).review
        outcome = reviews.decide(session=s, actor=actor(), review_id=review_id, expected_version=current.version,
                                 decision=word, note=note or "", target_level=to,
                                 tasks=[_task(t) for t in task or []])
        review = outcome.review
        warn(outcome.warnings)
        say(f"review {review.id}: {review.decision}")
        if outcome.event is not None:
            e = outcome.event
            say(f"  {level_moves.event_kind_label(e)} {e.from_level} -> {e.to_level} "
                       f"on {(iso(e.at) or '')[:10]} (level event {e.id})")
        for t in review.tasks or []:
            say(f"  task {t['number']}: {t['task']} @{t['owner']}")
        if review.decision == "pause":
            say("  the technology is paused")
        if outcome.debrief:
            say(f"  next: write the stage debrief of level {review.level}")


@app.command("override")
def review_override(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    level: Annotated[int, typer.Argument(help="The level whose graduation the gate guards (5 or 8).")],
    gate: Annotated[str, typer.Argument(help="research-vv | product-requirements (level 5) | validation (level 8)")],
    why: Annotated[str, typer.Option("--why", help="The justification (required).")],
    until: Annotated[
        str | None,
        typer.Option("--until", help="When the override expires: ISO 8601 date or date-time (default: never).",
                     callback=when_callback),
    ] = None,
) -> None:
    """Let a graduation through a blocked gate (admins only), with why and until when."""
    from mltrl.services import reviews

    row = write(reviews.override_gate, code=code, level=level, gate=gate, justification=why, expires_at=until)
    until_text = f" until {iso(row.expires_at)[:10]}" if row.expires_at else ""
    say(f"{code}: gate {row.gate} of level {row.level} overridden by {row.by}{until_text}")
