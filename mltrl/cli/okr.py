"""``mltrl okr``: objectives of a quarter, key results, check-ins, copies and the quarterly review."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from mltrl.cli.common import (
    AsOfOption,
    AtOption,
    ForceOption,
    Id,
    JsonOption,
    day_callback,
    iso,
    json_text,
    noun,
    output_file,
    say,
    say_json,
    session,
    write,
    write_output,
)

app = noun("OKRs: objectives of a quarter, key results, check-ins.")

ObjectiveId = Id("OBJECTIVE_ID", "The objective's id.")
SEED_MAX = 2**32 - 1


class ReportFormat(str, Enum):
    md = "md"
    html = "html"
    json = "json"


def _objective_json(view) -> dict:
    o = view.objective
    return {
        "id": o.id, "quarter": o.quarter, "title": o.title, "owner": o.owner, "created_at": iso(o.created_at),
        "created_by": o.created_by, "copied_from": o.copied_from_id, "version": o.version,
        "key_results": [
            {"id": k.key_result.id, "code": k.code, "technology": k.name, "level": k.level,
             "target_level": k.key_result.target_level, "due": k.key_result.due.isoformat(),
             "owner": k.key_result.owner, "note": k.key_result.note, "position": k.key_result.position,
             "version": k.key_result.version,
             "check_ins": [{"id": c.id, "at": iso(c.at), "author": c.author, "confidence": c.confidence,
                            "comment": c.comment} for c in k.check_ins]}
            for k in view.key_results
        ],
    }


@app.command("add")
def okr_add(
    quarter: Annotated[str, typer.Argument(metavar="QUARTER", help="The quarter, written YYYY-Qn (e.g. 2027-Q1).")],
    objective: Annotated[str, typer.Argument(metavar="OBJECTIVE", help="The objective, in a line.")],
    owner: Annotated[str, typer.Option("--owner", help="Who owns the objective.")] = "",
) -> None:
    """Add an objective to a quarter; prints the new objective's id.

    What was added goes to stderr, so `id=$(mltrl okr add 2027-Q1 "...")` works."""
    from mltrl.services import okrs

    row = write(okrs.add_objective, quarter=quarter, title=objective, owner=owner)
    say(f"added objective {row.id} to {row.quarter}: {row.title}", err=True)
    say(str(row.id))


@app.command("kr")
def okr_kr(
    objective_id: ObjectiveId,
    code: Annotated[str, typer.Argument(metavar="CODE", help="Project ID of the technology.")],
    level: Annotated[int, typer.Argument(metavar="LEVEL", help="The level 0-9 it is to reach (or pass).")],
    by: Annotated[
        str | None,
        typer.Option("--by", help="The day it is due, ISO 8601 (e.g. 2027-03-31), inclusive "
                                  "(default: the quarter's last day).", callback=day_callback),
    ] = None,
    owner: Annotated[str, typer.Option("--owner", help="Who owns the key result.")] = "",
    note: Annotated[str, typer.Option("--note", help="A note for the quarterly review.")] = "",
) -> None:
    """Add the key result "CODE reaches level >= LEVEL by --by" to an objective; prints its id."""
    from mltrl.services import okrs

    row = write(okrs.add_key_result, objective_id=objective_id, code=code, target_level=level, due=by,
                 owner=owner, note=note)
    say(f"added key result {row.id} to objective {objective_id}: {code} reaches level >= "
               f"{row.target_level} by {row.due.isoformat()}", err=True)
    say(str(row.id))


@app.command("checkin")
def okr_checkin(
    key_result_id: Id("KR_ID", "The key result's id."),
    confidence: Annotated[int, typer.Argument(metavar="CONFIDENCE", help="Confidence 0-10 that the key result will be met.")],
    comment: Annotated[str, typer.Argument(metavar="COMMENT", help="Where things stand, in a sentence or two.")],
    at: AtOption = None,
) -> None:
    """Record a check-in on a key result as the acting user: a confidence 0-10 and a comment."""
    from mltrl.services import okrs

    row = write(okrs.check_in, key_result_id=key_result_id, comment=comment, confidence=confidence, at=at)
    say(f"key result {key_result_id}: {row.author} checked in with confidence {row.confidence} "
               f"on {iso(row.at)[:10]}")


@app.command("copy")
def okr_copy(
    objective_id: Id("OBJECTIVE_ID", "The objective to copy."),
    to: Annotated[str | None, typer.Option("--to", help="The quarter to copy into (default: the next one).")] = None,
) -> None:
    """Copy an objective and its key results into another quarter (without check-ins or notes;
    each due date moves to the same place in the new quarter); prints the new objective's id."""
    from mltrl.services import okrs

    row = write(okrs.copy_objective, objective_id=objective_id, quarter=to)
    say(f"copied objective {objective_id} into {row.quarter} as objective {row.id}", err=True)
    say(str(row.id))


@app.command("list")
def okr_list(
    quarter: Annotated[str | None, typer.Option("--quarter", help="Only this quarter (YYYY-Qn).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Objectives with their key results and latest check-ins, by quarter (oldest first)."""
    from mltrl.services import okrs

    with session() as s:
        chosen = [quarter] if quarter is not None else okrs.quarters(s)
        records = [_objective_json(v) for q in chosen for v in okrs.objectives(s, q)]
    if as_json:
        say_json(records)
        return
    if not records:
        say(f"no objectives in {quarter.strip().upper()}" if quarter is not None
                   else 'no objectives yet (try: mltrl okr add 2027-Q1 "OBJECTIVE")')
        return
    shown = None
    for o in records:
        if o["quarter"] != shown:
            shown = o["quarter"]
            say(shown)
        owner = f" (owner {o['owner']})" if o["owner"] else ""
        say(f"  objective {o['id']}: {o['title']}{owner}")
        if not o["key_results"]:
            say("    no key results yet")
        for k in o["key_results"]:
            now = "-" if k["level"] is None else k["level"]
            extras = [f"now {now}"] + ([f"owner {k['owner']}"] if k["owner"] else [])
            if k["check_ins"]:
                last = k["check_ins"][0]
                extras.append(f"confidence {last['confidence']} on {last['at'][:10]}")
            say(f"    kr {k['id']}: {k['code']} reaches level >= {k['target_level']} by {k['due']}  "
                       f"({'; '.join(extras)})")


@app.command("report")
def okr_report_command(
    quarter: Annotated[str, typer.Option("--quarter", help="The quarter, YYYY-Qn (e.g. 2027-Q1).")],
    as_of: AsOfOption = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md (Markdown), html (a self-contained page) or json.")] = ReportFormat.md,
    samples: Annotated[int, typer.Option("--samples", min=100, max=1_000_000,
                                         help="Resampled paths per key result for the forecast.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", min=0, max=SEED_MAX,
                                      help="The forecast's seed (same seed, same report).")] = 2027,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Write to this file instead of stdout (exactly; "
                                                                           "on stdout control characters are shown as escapes).")] = None,
    force: ForceOption = False,
) -> None:
    """The quarterly readiness review: every key result's status (achieved, achieved then lost, on
    track, at risk, missed) from the level history, with forecasts, roll-up and report card."""
    from mltrl import reports
    from mltrl.services import okr_report

    target = output_file(output, field="output", force=force)
    with session() as s:
        report = okr_report.quarter_report(s, quarter, as_of=as_of, samples=samples, seed=seed)
    if fmt is ReportFormat.json:
        text = json_text(reports.as_json(report)) + "\n"
    elif fmt is ReportFormat.html:
        text = reports.html_document(report) + "\n"
    else:
        text = reports.markdown(report)
    if target is None:
        say(text, nl=False)
        return
    write_output(target, text, field="output")
    say(f"wrote the review of {report.quarter} to {output}", err=True)
