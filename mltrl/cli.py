"""The ``mltrl`` command: the same services as the pages, from a terminal.

Exit codes: 0 success; 1 when a rule or a check refuses the request (the reason on stderr);
2 for usage errors (unknown options, a malformed date or number). Warnings go to stderr.
The acting user is ``--as NAME``, else ``MLTRL_USER``, else the login name.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import Annotated

import typer
from sqlmodel import Session

from mltrl import db
from mltrl.domain.errors import MltrlError, RowErrors
from mltrl.services import Actor, cards, demo, level_moves, portfolio, projects, users
from mltrl.services._core import as_utc, parse_when

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.split("\n\n")[0])
db_app = typer.Typer(no_args_is_help=True, help="The database: migrations.")
demo_app = typer.Typer(no_args_is_help=True, help="The demo portfolio.")
project_app = typer.Typer(no_args_is_help=True, help="Technologies: projects and their components.")
level_app = typer.Typer(no_args_is_help=True, help="Level history: start, graduate, switch back.")
user_app = typer.Typer(no_args_is_help=True, help="Accounts and roles (viewer, editor, reviewer, admin).")
card_app = typer.Typer(no_args_is_help=True, help="TRL cards: export, import, history.")
requirements_app = typer.Typer(no_args_is_help=True, help="The requirements register: CSV export and import.")
risks_app = typer.Typer(no_args_is_help=True, help="The risk register: CSV export and import, the 5x5 matrix.")
review_app = typer.Typer(no_args_is_help=True, help="Gated reviews: open, vote, decide; gate overrides.")
okr_app = typer.Typer(no_args_is_help=True, help="OKRs: objectives of a quarter, key results, check-ins.")
analytics_app = typer.Typer(no_args_is_help=True, help="Analytics of the level history: time per level.")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(project_app, name="project")
app.add_typer(level_app, name="level")
app.add_typer(user_app, name="user")
app.add_typer(card_app, name="card")
app.add_typer(requirements_app, name="requirements")
app.add_typer(risks_app, name="risks")
app.add_typer(review_app, name="review")
app.add_typer(okr_app, name="okr")
app.add_typer(analytics_app, name="analytics")

_state: dict[str, str | None] = {"as": None}


@app.callback()
def _main(
    as_: Annotated[
        str | None,
        typer.Option("--as", help="Act as this user (default: $MLTRL_USER, else your login name)."),
    ] = None,
) -> None:
    """MLTRL Dashboard command line: technologies, levels and the demo portfolio."""
    _state["as"] = as_


def _actor() -> Actor:
    name = _state["as"] or os.environ.get("MLTRL_USER") or getpass.getuser()
    return Actor(name)


@contextmanager
def _session() -> Iterator[Session]:
    with db.session_scope(db.get_engine()) as session:
        yield session


def _write(use_case, **kwargs):
    """Run a write use case as the acting user; a refusal ends the command with exit 1."""
    with _session() as session:
        try:
            return use_case(session=session, actor=_actor(), **kwargs)
        except MltrlError as exc:
            raise _fail(exc) from None


def _fail(exc: MltrlError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def _warn(warnings: tuple[str, ...] | list[str]) -> None:
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_when(value)
    except MltrlError as exc:
        raise typer.BadParameter(str(exc).removeprefix("at: ")) from None


AtOption = Annotated[
    str | None,
    typer.Option("--at", help="When it happened: ISO 8601 date or date-time, UTC unless an offset is given (default: now).", callback=_when),
]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why, in a sentence.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


# --- db ----------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (the app and the CLI also do this on start)."""
    url = db.database_url()
    db.upgrade_db(url)
    typer.echo(f"database at the newest schema: {db.safe_url(url)}")


# --- demo --------------------------------------------------------------------------------------


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing (exit 0) if the database holds technologies.")] = False,
) -> None:
    """Load the demo portfolio (the paper's worked examples) into an empty database."""
    added = _write(demo.load_demo, if_empty=if_empty)
    if added:
        typer.echo(f"loaded the demo portfolio: {added} technologies")
    else:
        typer.echo("the database already holds technologies; demo not loaded")


# --- project -----------------------------------------------------------------------------------


@project_app.command("add")
def project_add(
    code: Annotated[str, typer.Argument(help="Project ID, e.g. R02.1.")],
    name: Annotated[str, typer.Argument(help="Human name.")],
    parent: Annotated[str | None, typer.Option("--parent", help="Code of the system this is a component of.")] = None,
    owner: Annotated[list[str] | None, typer.Option("--owner", help="An owner (repeat for several).")] = None,
    summary: Annotated[str, typer.Option("--summary", help="One or two sentences.")] = "",
) -> None:
    """Register a technology."""
    project = _write(projects.add_project, code=code, name=name, summary=summary,
                     parent_code=parent, owners=owner or [])
    typer.echo(f"added {project.code}: {project.name}")


@project_app.command("list")
def project_list(as_json: JsonOption = False) -> None:
    """Every technology with its level and system level, components under their system."""
    with _session() as session:
        records = portfolio.project_list(session)
    if as_json:
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    if not records:
        typer.echo("no technologies yet (try: mltrl demo load)")
        return
    width = max(len(r["code"]) for r in records)
    typer.echo(f"{'code':<{width + 2}} level  system  status   name")
    for r in records:
        indent = "  " if r["parent"] else ""
        lv = "-" if r["level"] is None else str(r["level"])
        sl = "-" if r["system_level"] is None else str(r["system_level"])
        typer.echo(f"{indent + r['code']:<{width + 2}} {lv:>5}  {sl:>6}  {r['status']:<8} {r['name']}")


# --- level -------------------------------------------------------------------------------------


def _report(outcome: level_moves.MoveOutcome, code: str) -> None:
    e = outcome.event
    _warn(outcome.warnings)
    kind = level_moves.event_kind_label(e)
    src = "" if e.from_level is None else f"{e.from_level} -> "
    typer.echo(f"{code}: {kind} {src}{e.to_level} on {e.at.date().isoformat()}")


@level_app.command("start")
def level_start(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    level: Annotated[int, typer.Argument(help="Level 0-9 where the technology enters MLTRL.")],
    at: AtOption = None,
    note: NoteOption = None,
) -> None:
    """Record where a technology starts (once, at any level)."""
    _report(_write(level_moves.record_start, code=code, level=level, at=at, note=note), code)


@level_app.command("graduate")
def level_graduate(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    at: AtOption = None,
    note: NoteOption = None,
) -> None:
    """Record a graduation to the next level without a review (for entering past history)."""
    _report(_write(level_moves.graduate, code=code, at=at, note=note), code)


@level_app.command("switchback")
def level_switchback(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    level: Annotated[int, typer.Argument(help="The lower level to go back to.")],
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="discovery | review | embedded (embedded only for 4->2, 9->4, 9->7; implied for them)."),
    ] = None,
    at: AtOption = None,
    note: NoteOption = None,
) -> None:
    """Record a switchback to a lower level."""
    _report(_write(level_moves.switch_back, code=code, level=level, kind=kind, at=at, note=note), code)


@level_app.command("deployed-change")
def level_deployed_change(
    code: Annotated[str, typer.Argument(help="Project ID of a deployed (level 9) technology.")],
    note: NoteOption = None,
) -> None:
    """Record a change to the deployed version: the embedded 9 -> 7 switchback (back through integration)."""
    from mltrl.services import reviews

    _report(_write(reviews.change_deployed_version, code=code, note=note or ""), code)


@level_app.command("history")
def level_history(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    as_json: JsonOption = False,
) -> None:
    """A technology's level history, oldest first."""
    with _session() as session:
        try:
            events = level_moves.history(session, code)
        except MltrlError as exc:
            raise _fail(exc) from None
    records = [
        {
            "at": e.at.isoformat(),
            "from_level": e.from_level,
            "to_level": e.to_level,
            "kind": level_moves.event_kind_label(e),
            "note": e.note,
        }
        for e in events
    ]
    if as_json:
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    if not records:
        typer.echo(f"{code} has no level history yet")
    for r in records:
        src = "start" if r["from_level"] is None else f"{r['from_level']} ->"
        typer.echo(f"{r['at'][:10]}  {src:>6} {r['to_level']}  {r['kind']:<10} {r['note']}")


# --- card --------------------------------------------------------------------------------------


class CardFormat(str, Enum):
    md = "md"
    html = "html"


@card_app.command("export")
def card_export(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    fmt: Annotated[CardFormat, typer.Option("--format", help="Markdown (MLTRL card layout) or one printable HTML page.")] = CardFormat.md,
    level: Annotated[int | None, typer.Option("--level", min=0, max=9, help="The card of a level the technology left, as it stood then.")] = None,
    revision: Annotated[int | None, typer.Option("--revision", min=1, help="A past revision instead of the current card.")] = None,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Write to this file instead of stdout.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Print (or write) a technology's TRL card as Markdown or HTML."""
    from pathlib import Path

    if level is not None and revision is not None:
        raise typer.BadParameter("give --level or --revision, not both")
    with _session() as session:
        try:
            text = cards.export_card(session, code, fmt=fmt.value, level=level, number=revision)
        except MltrlError as exc:
            raise _fail(exc) from None
    if output is None:
        typer.echo(text, nl=False)
        return
    target = Path(output)
    if target.exists() and not force:
        raise _fail(MltrlError(f"output: {output} exists; use --force to replace it"))
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(MltrlError(f"output: cannot write {output}: {exc.strerror or exc}")) from None
    typer.echo(f"wrote the card of {code} to {output}", err=True)


@card_app.command("import")
def card_import(
    file: Annotated[str, typer.Argument(help="A card in the MLTRL card Markdown layout.")],
    project: Annotated[str | None, typer.Option("--project", help="Import into this project ID instead of the one the card names.")] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="Change summary for the new revision.")] = None,
) -> None:
    """Import a card as the next revision of its technology (created when its ID is new)."""
    from pathlib import Path

    try:
        text = Path(file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(MltrlError(f"file: {file} is not UTF-8 text")) from None
    except OSError as exc:
        raise _fail(MltrlError(f"file: cannot read {file}: {exc.strerror or exc}")) from None
    outcome = _write(cards.import_card, text=text, code=project, summary=summary or "")
    _warn(outcome.warnings)
    made = "created the technology and " if outcome.created else ""
    typer.echo(f"{outcome.code}: {made}saved card revision {outcome.number}")


@card_app.command("history")
def card_history(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    as_json: JsonOption = False,
) -> None:
    """A card's revisions, newest first."""
    with _session() as session:
        try:
            revs = cards.revisions(session, code)
        except MltrlError as exc:
            raise _fail(exc) from None
        records = [{"number": r.number, "at": r.at.isoformat(), "author": r.author, "action": r.action,
                    "level": r.level, "summary": r.summary} for r in revs]
    if as_json:
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    if not records:
        typer.echo(f"{code} has no card yet")
    for r in records:
        typer.echo(f"{r['number']:>4}  {r['at'][:16].replace('T', ' ')}  {r['author']:<16} {r['action']:<8} {r['summary']}")


# --- requirements and risks ----------------------------------------------------------------------


def _export_register(export, code: str, file: str, force: bool) -> None:
    from pathlib import Path

    with _session() as session:
        try:
            text = export(session, code)
        except MltrlError as exc:
            raise _fail(exc) from None
    if file == "-":
        typer.echo(text, nl=False)
        return
    target = Path(file)
    if target.exists() and not force:
        raise _fail(MltrlError(f"file: {file} exists; use --force to replace it"))
    target.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {max(text.count(chr(10)) - 1, 0)} rows of {code} to {file}", err=True)


def _import_register(use_case, code: str, file: str) -> None:
    from pathlib import Path

    try:
        text = Path(file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(MltrlError(f"file: {file} is not UTF-8 text")) from None
    except OSError as exc:
        raise _fail(MltrlError(f"file: cannot read {file}: {exc.strerror or exc}")) from None
    with _session() as session:
        try:
            summary = use_case(session=session, actor=_actor(), code=code, text=text)
        except RowErrors as exc:
            typer.echo(f"error: {exc.field}: {len(exc.errors)} problem(s), nothing was imported", err=True)
            for row, field, reason in exc.errors:
                typer.echo(f"  row {row}, {field}: {reason}", err=True)
            raise typer.Exit(1) from None
        except MltrlError as exc:
            raise _fail(exc) from None
    typer.echo(f"{code}: {summary.added} added, {summary.updated} updated")


ForceOption = Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")]


@requirements_app.command("export")
def requirements_export(code: Annotated[str, typer.Argument(help="Project ID.")],
                        file: Annotated[str, typer.Argument(help="CSV file to write (- for stdout).")],
                        force: ForceOption = False) -> None:
    """Write the requirements register as CSV (number,kind,statement,level,verification_method,...)."""
    from mltrl.services import risks

    _export_register(risks.export_requirements, code, file, force)


@requirements_app.command("import")
def requirements_import(code: Annotated[str, typer.Argument(help="Project ID.")],
                        file: Annotated[str, typer.Argument(help="CSV file with a header row.")]) -> None:
    """Add or update (by number) the requirements of a CSV file, all or nothing."""
    from mltrl.services import risks

    _import_register(risks.import_requirements, code, file)


@risks_app.command("export")
def risks_export(code: Annotated[str, typer.Argument(help="Project ID.")],
                 file: Annotated[str, typer.Argument(help="CSV file to write (- for stdout).")],
                 force: ForceOption = False) -> None:
    """Write the risk register as CSV (title,description,category,component,requirement,...)."""
    from mltrl.services import risks

    _export_register(risks.export_risks, code, file, force)


@risks_app.command("import")
def risks_import(code: Annotated[str, typer.Argument(help="Project ID.")],
                 file: Annotated[str, typer.Argument(help="CSV file with a header row.")]) -> None:
    """Add or update (by title) the risks of a CSV file, all or nothing."""
    from mltrl.services import risks

    _import_register(risks.import_risks, code, file)


@risks_app.command("matrix")
def risks_matrix(code: Annotated[str | None, typer.Argument(help="Project ID (default: the whole portfolio).")] = None,
                 requirements: Annotated[bool, typer.Option("--requirements", help="Count requirements instead of risks.")] = False,
                 as_json: JsonOption = False) -> None:
    """The 5x5 cell counts of risks that are not closed (or of requirements)."""
    from mltrl.domain import risk as rules
    from mltrl.services import risks

    with _session() as session:
        try:
            counts = risks.matrix_counts(session, code, requirements_matrix=requirements)
        except MltrlError as exc:
            raise _fail(exc) from None
    cells = rules.matrix_cells(counts)
    if as_json:
        typer.echo(json.dumps(cells, indent=2))
        return
    typer.echo("p(failure) band \\ value band: " + "  ".join(f"{lab:>5}" for lab in rules.VALUE_BAND_LABELS))
    for pb in reversed(rules.BANDS):
        row = [str(counts.get((pb, vb), 0)) for vb in rules.BANDS]
        typer.echo(f"{rules.P_BAND_LABELS[pb - 1]:>31}: " + "  ".join(f"{n:>5}" for n in row))


# --- review ------------------------------------------------------------------------------------


class ReviewStatus(str, Enum):
    open = "open"
    decided = "decided"
    cancelled = "cancelled"


def _iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return None if value is None else value.isoformat()


def _choice_word(word: str) -> str:
    """``switch-back`` and ``not_yet`` read as ``switch back`` and ``not yet`` (easier in a shell)."""
    return " ".join(str(word).replace("-", " ").replace("_", " ").split())


def _review_summary(review, code: str) -> dict:
    return {"id": review.id, "code": code, "level": review.level, "status": review.status,
            "opened_at": _iso(review.opened_at), "opened_by": review.opened_by, "panel": list(review.panel),
            "decision": review.decision, "decided_at": _iso(review.decided_at), "decided_by": review.decided_by}


def _gate_json(gate) -> dict:
    record = {"key": gate.key, "title": gate.title, "state": gate.state.value, "blockers": list(gate.blockers),
              "advice": gate.advice, "override": None}
    if gate.override is not None:
        o = gate.override
        record["override"] = {"by": o.by, "justification": o.justification, "at": _iso(o.at),
                              "expires_at": _iso(o.expires_at)}
    return record


def _review_record(session: Session, review_id: int) -> dict:
    """Everything about one review, as plain JSON-ready data."""
    from mltrl.domain import gates as rules
    from mltrl.domain import levels as engine
    from mltrl.services import reviews
    from mltrl.services.policy import current_policy

    view = reviews.review_view(session, review_id)
    review = view.review
    project = projects.get_project(session, view.code)
    decided = review.status == "decided"
    # A decided review shows what stood at the decision; an open (or cancelled) one, what stands now.
    if decided:
        scores = rules.decided_scores(review.scores)
        gates = [dict({"advice": None, "override": None}, **g) for g in review.gates or []]
    else:
        scores = reviews.scores_of(session, project.id, review.level)
        gates = [_gate_json(g) for g in reviews.gates_of(session, project, review.level)]
    criteria = rules.criteria_of(review.criteria)
    readiness = rules.readiness(criteria, scores, current_policy(session).review_ready_threshold)
    changed = view.changed_answers
    ethics = []
    for part in reviews.ETHICS_PARTS:
        for question in review.ethics.get(part, []):
            key = f"{part}:{question[0]}"
            answer = view.answers.get(key)
            ethics.append({"key": key, "part": part, "question": question[1],
                           "answer": answer.answer if answer else "",
                           "answered_by": answer.answered_by if answer else None,
                           "answered_at": _iso(answer.answered_at) if answer else None,
                           "previous_answer": view.previous_answers.get(key, ""),
                           "changed": key in changed})
    event = view.event
    return {
        **_review_summary(review, view.code),
        "technology": {"code": view.code, "name": view.name, "level": view.current_level, "status": project.status},
        "suggested_panel": list(engine.level(review.level).panel),
        "criteria_version": review.criteria_version,
        "scores_as_of": "decision" if decided else "now",
        "criteria": [{"key": c.key, "criterion": c.text, "guidance": c.guidance,
                      "percent": scores[c.key].percent if c.key in scores else None,
                      "evidence": scores[c.key].evidence if c.key in scores else "",
                      "comment": scores[c.key].comment if c.key in scores else ""} for c in criteria],
        "readiness": {"average": readiness.average, "threshold": readiness.threshold, "ready": readiness.ready,
                      "scored": readiness.scored, "total": readiness.total},
        "gates_as_of": "decision" if decided else "now",
        "gates": gates,
        "ethics_version": review.ethics_version,
        "ethics": ethics,
        "ethics_changed": sorted(changed),
        "votes": [{"voter": v.voter, "vote": v.vote, "comment": v.comment, "at": _iso(v.at)} for v in view.votes],
        "latest_votes": {name: {"vote": v.vote, "comment": v.comment, "at": _iso(v.at)}
                         for name, v in view.latest_votes.items()},
        "note": review.decision_note,
        "target_level": review.target_level,
        "switchback_kind": review.switchback_kind,
        "tasks": [dict(t) for t in view.tasks],
        "event": None if event is None else {
            "id": event.id, "from_level": event.from_level, "to_level": event.to_level,
            "kind": level_moves.event_kind_label(event), "at": _iso(event.at)},
    }


def _print_review(r: dict) -> None:
    t = r["technology"]
    echo = typer.echo
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


@review_app.command("list")
def review_list(
    code: Annotated[str | None, typer.Option("--code", help="Only this technology's reviews.")] = None,
    status: Annotated[ReviewStatus | None, typer.Option("--status", help="Only reviews in this state.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Reviews, newest first: level, status, panel and decision."""
    from mltrl.services import reviews

    with _session() as session:
        try:
            rows = reviews.reviews(session, code=code, status=status.value if status else None)
        except MltrlError as exc:
            raise _fail(exc) from None
        records = [_review_summary(review, c) for review, c in rows]
    if as_json:
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    if not records:
        typer.echo("no reviews" + (" match" if code or status else " yet (try: mltrl review open CODE)"))
        return
    width = max(len(r["code"]) for r in records)
    typer.echo(f"{'id':>5}  {'code':<{width}}  level  {'status':<9}  opened      {'decision':<11}  panel")
    for r in records:
        typer.echo(f"{r['id']:>5}  {r['code']:<{width}}  {r['level']:>5}  {r['status']:<9}  {r['opened_at'][:10]}  "
                   f"{r['decision'] or '-':<11}  {', '.join(r['panel']) or '-'}")


@review_app.command("show")
def review_show(
    review_id: Annotated[int, typer.Argument(metavar="ID", help="Review number.")],
    as_json: JsonOption = False,
) -> None:
    """Everything about one review: criteria and scores, gates, ethics answers, votes, decision."""
    with _session() as session:
        try:
            record = _review_record(session, review_id)
        except MltrlError as exc:
            raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    _print_review(record)


@review_app.command("open")
def review_open(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    panel: Annotated[list[str] | None, typer.Option("--panel", help="A panel member's user name (repeat for several).")] = None,
) -> None:
    """Open a gated review of a technology at its current level; prints the new review's id.

    What was opened (level, panel) goes to stderr, so `id=$(mltrl review open CODE)` works."""
    from mltrl.services import reviews

    review = _write(reviews.open_review, code=code, panel=panel or [])
    typer.echo(f"opened review {review.id} of {code} at level {review.level}"
               + (f" (panel: {', '.join(review.panel)})" if review.panel else ""), err=True)
    typer.echo(str(review.id))


@review_app.command("vote")
def review_vote(
    review_id: Annotated[int, typer.Argument(metavar="ID", help="Review number.")],
    vote: Annotated[str, typer.Argument(help='graduate | "not yet" | "switch back"')],
    comment: Annotated[str, typer.Option("--comment", help="Why, in a sentence or two.")] = "",
) -> None:
    """Vote on an open review as a panel member (a new vote replaces yours in the count; both are kept)."""
    from mltrl.services import reviews

    row = _write(reviews.cast_vote, review_id=review_id, vote=_choice_word(vote), comment=comment)
    typer.echo(f"review {review_id}: {row.voter} votes {row.vote}")


def _task(text: str) -> dict[str, str]:
    what, sep, owner = text.rpartition("@")
    return {"task": what, "owner": owner} if sep else {"task": text, "owner": ""}


@review_app.command("decide")
def review_decide(
    review_id: Annotated[int, typer.Argument(metavar="ID", help="Review number.")],
    decision: Annotated[str, typer.Argument(help='graduate | hold | "switch back" | pause')],
    note: NoteOption = None,
    to: Annotated[int | None, typer.Option("--to", min=0, max=9, help="switch back: the level to go back to.")] = None,
    task: Annotated[list[str] | None, typer.Option("--task", help='hold: "what is to be done@owner" (repeat for several).')] = None,
) -> None:
    """Decide an open review (reviewers): graduate, hold (with tasks), switch back (--to) or pause."""
    from mltrl.domain.gates import Decision
    from mltrl.models import Review
    from mltrl.services import reviews

    word = _choice_word(decision)
    if word.lower() in {d.value for d in Decision}:
        if to is not None and word.lower() != Decision.SWITCH_BACK:
            raise typer.BadParameter("--to goes with switch back only", param_hint="--to")
        if task and word.lower() != Decision.HOLD:
            raise typer.BadParameter("--task goes with hold only", param_hint="--task")
    with _session() as session:
        try:
            current = session.get(Review, review_id)
            outcome = reviews.decide(session=session, actor=_actor(), review_id=review_id,
                                     expected_version=current.version if current else 0, decision=word,
                                     note=note or "", target_level=to, tasks=[_task(t) for t in task or []])
        except MltrlError as exc:
            raise _fail(exc) from None
        review = outcome.review
        _warn(outcome.warnings)
        typer.echo(f"review {review.id}: {review.decision}")
        if outcome.event is not None:
            e = outcome.event
            typer.echo(f"  {level_moves.event_kind_label(e)} {e.from_level} -> {e.to_level} "
                       f"on {as_utc(e.at).date().isoformat()} (level event {e.id})")
        for t in review.tasks or []:
            typer.echo(f"  task {t['number']}: {t['task']} @{t['owner']}")
        if review.decision == "pause":
            typer.echo("  the technology is paused")
        if outcome.debrief:
            typer.echo(f"  next: write the stage debrief of level {review.level}")


@review_app.command("override")
def review_override(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    level: Annotated[int, typer.Argument(help="The level whose graduation the gate guards (5 or 8).")],
    gate: Annotated[str, typer.Argument(help="research-vv | product-requirements (level 5) | validation (level 8)")],
    why: Annotated[str, typer.Option("--why", help="The justification (required).")],
    until: Annotated[
        str | None,
        typer.Option("--until", help="When the override expires: ISO 8601 date or date-time (default: never).",
                     callback=_when),
    ] = None,
) -> None:
    """Let a graduation through a blocked gate (admins only), with why and until when."""
    from mltrl.services import reviews

    row = _write(reviews.override_gate, code=code, level=level, gate=gate, justification=why, expires_at=until)
    until_text = f" until {_iso(row.expires_at)[:10]}" if row.expires_at else ""
    typer.echo(f"{code}: gate {row.gate} of level {row.level} overridden by {row.by}{until_text}")


@app.command("fork")
def fork(
    code: Annotated[str, typer.Argument(help="Project ID of the technology to fork.")],
    new_code: Annotated[str, typer.Argument(help="Project ID of the new technology.")],
    name: Annotated[str, typer.Argument(help="Human name of the new technology.")],
    note: NoteOption = None,
) -> None:
    """Bifurcate: a new technology going on from CODE at its level, with its owners, a copy of its
    card and its history as its past."""
    from mltrl.services import reviews

    child = _write(reviews.fork, code=code, new_code=new_code, name=name, note=note or "")
    typer.echo(f"forked {code} into {child.code}: {child.name} at level {child.level}")


# --- okr ---------------------------------------------------------------------------------------


def _by(value: str | None):
    if value is None:
        return None
    from mltrl.domain import okr

    try:
        return okr.parse_day(value, field="by")
    except MltrlError as exc:
        raise typer.BadParameter(str(exc).removeprefix("by: ")) from None


def _objective_json(view) -> dict:
    o = view.objective
    return {
        "id": o.id, "quarter": o.quarter, "title": o.title, "owner": o.owner, "created_at": _iso(o.created_at),
        "created_by": o.created_by, "copied_from": o.copied_from_id, "version": o.version,
        "key_results": [
            {"id": k.key_result.id, "code": k.code, "technology": k.name, "level": k.level,
             "target_level": k.key_result.target_level, "due": k.key_result.due.isoformat(),
             "owner": k.key_result.owner, "note": k.key_result.note, "position": k.key_result.position,
             "version": k.key_result.version,
             "check_ins": [{"id": c.id, "at": _iso(c.at), "author": c.author, "confidence": c.confidence,
                            "comment": c.comment} for c in k.check_ins]}
            for k in view.key_results
        ],
    }


@okr_app.command("add")
def okr_add(
    quarter: Annotated[str, typer.Argument(metavar="QUARTER", help="The quarter, written YYYY-Qn (e.g. 2027-Q1).")],
    objective: Annotated[str, typer.Argument(metavar="OBJECTIVE", help="The objective, in a line.")],
    owner: Annotated[str, typer.Option("--owner", help="Who owns the objective.")] = "",
) -> None:
    """Add an objective to a quarter; prints the new objective's id.

    What was added goes to stderr, so `id=$(mltrl okr add 2027-Q1 "...")` works."""
    from mltrl.services import okrs

    row = _write(okrs.add_objective, quarter=quarter, title=objective, owner=owner)
    typer.echo(f"added objective {row.id} to {row.quarter}: {row.title}", err=True)
    typer.echo(str(row.id))


@okr_app.command("kr")
def okr_kr(
    objective_id: Annotated[int, typer.Argument(metavar="OBJECTIVE_ID", help="The objective's id.")],
    code: Annotated[str, typer.Argument(metavar="CODE", help="Project ID of the technology.")],
    level: Annotated[int, typer.Argument(metavar="LEVEL", help="The level 0-9 it is to reach (or pass).")],
    by: Annotated[
        str | None,
        typer.Option("--by", help="The day it is due, ISO 8601 (e.g. 2027-03-31), inclusive "
                                  "(default: the quarter's last day).", callback=_by),
    ] = None,
    owner: Annotated[str, typer.Option("--owner", help="Who owns the key result.")] = "",
    note: Annotated[str, typer.Option("--note", help="A note for the quarterly review.")] = "",
) -> None:
    """Add the key result "CODE reaches level >= LEVEL by --by" to an objective; prints its id."""
    from mltrl.services import okrs

    row = _write(okrs.add_key_result, objective_id=objective_id, code=code, target_level=level, due=by,
                 owner=owner, note=note)
    typer.echo(f"added key result {row.id} to objective {objective_id}: {code} reaches level >= "
               f"{row.target_level} by {row.due.isoformat()}", err=True)
    typer.echo(str(row.id))


@okr_app.command("checkin")
def okr_checkin(
    key_result_id: Annotated[int, typer.Argument(metavar="KR_ID", help="The key result's id.")],
    confidence: Annotated[int, typer.Argument(metavar="CONFIDENCE", help="Confidence 0-10 that the key result will be met.")],
    comment: Annotated[str, typer.Argument(metavar="COMMENT", help="Where things stand, in a sentence or two.")],
    at: AtOption = None,
) -> None:
    """Record a check-in on a key result as the acting user: a confidence 0-10 and a comment."""
    from mltrl.services import okrs

    row = _write(okrs.check_in, key_result_id=key_result_id, comment=comment, confidence=confidence, at=at)
    typer.echo(f"key result {key_result_id}: {row.author} checked in with confidence {row.confidence} "
               f"on {_iso(row.at)[:10]}")


@okr_app.command("copy")
def okr_copy(
    objective_id: Annotated[int, typer.Argument(metavar="OBJECTIVE_ID", help="The objective to copy.")],
    to: Annotated[str | None, typer.Option("--to", help="The quarter to copy into (default: the next one).")] = None,
) -> None:
    """Copy an objective and its key results into another quarter (without check-ins or notes;
    each due date moves to the same place in the new quarter); prints the new objective's id."""
    from mltrl.services import okrs

    row = _write(okrs.copy_objective, objective_id=objective_id, quarter=to)
    typer.echo(f"copied objective {objective_id} into {row.quarter} as objective {row.id}", err=True)
    typer.echo(str(row.id))


@okr_app.command("list")
def okr_list(
    quarter: Annotated[str | None, typer.Option("--quarter", help="Only this quarter (YYYY-Qn).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Objectives with their key results and latest check-ins, by quarter (oldest first)."""
    from mltrl.services import okrs

    with _session() as session:
        try:
            chosen = [quarter] if quarter is not None else okrs.quarters(session)
            records = [_objective_json(v) for q in chosen for v in okrs.objectives(session, q)]
        except MltrlError as exc:
            raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    if not records:
        typer.echo(f"no objectives in {quarter.strip().upper()}" if quarter is not None
                   else 'no objectives yet (try: mltrl okr add 2027-Q1 "OBJECTIVE")')
        return
    shown = None
    for o in records:
        if o["quarter"] != shown:
            shown = o["quarter"]
            typer.echo(shown)
        owner = f" (owner {o['owner']})" if o["owner"] else ""
        typer.echo(f"  objective {o['id']}: {o['title']}{owner}")
        if not o["key_results"]:
            typer.echo("    no key results yet")
        for k in o["key_results"]:
            now = "-" if k["level"] is None else k["level"]
            extras = [f"now {now}"] + ([f"owner {k['owner']}"] if k["owner"] else [])
            if k["check_ins"]:
                last = k["check_ins"][0]
                extras.append(f"confidence {last['confidence']} on {last['at'][:10]}")
            typer.echo(f"    kr {k['id']}: {k['code']} reaches level >= {k['target_level']} by {k['due']}  "
                       f"({'; '.join(extras)})")


def _as_of(value: str | None) -> datetime | None:
    """An --as-of moment: an ISO date (its first instant, UTC) or date-time."""
    return _when(value)


AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Judge as of this moment: ISO 8601 date (its first instant, UTC) or date-time "
                                 "(default: now). Later events are ignored, so a past date gives the same report "
                                 "every time.", callback=_as_of),
]


@okr_app.command("report")
def okr_report_command(
    quarter: Annotated[str, typer.Option("--quarter", help="The quarter, YYYY-Qn (e.g. 2027-Q1).")],
    as_of: AsOfOption = None,
    fmt: Annotated[str, typer.Option("--format", help="md (Markdown), html (a self-contained page) or json.")] = "md",
    samples: Annotated[int, typer.Option("--samples", min=100, max=1_000_000,
                                         help="Resampled paths per key result for the forecast.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="The forecast's seed (same seed, same report).")] = 2027,
) -> None:
    """The quarterly readiness review: every key result's status (achieved, achieved then lost, on
    track, at risk, missed) from the level history, with forecasts, roll-up and report card."""
    from mltrl import reports
    from mltrl.services import okr_report

    if fmt not in ("md", "html", "json"):
        raise typer.BadParameter(f"{fmt!r} is not a format: md, html or json", param_hint="--format")
    with _session() as session:
        try:
            report = okr_report.quarter_report(session, quarter, as_of=as_of, samples=samples, seed=seed)
        except MltrlError as exc:
            raise _fail(exc) from None
    if fmt == "json":
        typer.echo(json.dumps(reports.as_json(report), indent=2, ensure_ascii=False))
    elif fmt == "html":
        typer.echo(reports.html_document(report))
    else:
        typer.echo(reports.markdown(report), nl=False)


# --- analytics -----------------------------------------------------------------------------------


@analytics_app.command("time-per-level")
def analytics_time_per_level(as_of: AsOfOption = None, as_json: JsonOption = False) -> None:
    """Days each technology spent at each level it has held: total, completed stays, the ongoing
    stay, and the number of stays (the ongoing one included)."""
    from mltrl.services import analytics as reads

    with _session() as session:
        records = reads.time_per_level(session, as_of=as_of)
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    if not records:
        typer.echo("no level history yet")
        return
    typer.echo(f"{'code':<12} {'level':>5} {'days':>10} {'completed':>10} {'ongoing':>10} {'stays':>6}")
    for r in records:
        typer.echo(f"{r['code']:<12} {r['level']:>5} {r['days']:>10.2f} {r['completed_days']:>10.2f} "
                   f"{r['ongoing_days']:>10.2f} {r['intervals']:>6}")


# --- user --------------------------------------------------------------------------------------


def _read_new_password() -> str:
    """From a prompt (typed twice, hidden), or from two lines of stdin when it is not a terminal."""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    first = sys.stdin.readline().rstrip("\r\n")
    second = sys.stdin.readline().rstrip("\r\n")
    if first != second:
        typer.echo("error: password: the two lines on stdin differ", err=True)
        raise typer.Exit(1)
    return first


RoleArgument = Annotated[str, typer.Argument(help="viewer | editor | reviewer | admin")]


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (what people sign in with).")],
    role: Annotated[str, typer.Option("--role", help="viewer | editor | reviewer | admin")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="Full name to show.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail, to match identity-provider sign-in.")] = None,
    no_password: Annotated[bool, typer.Option("--no-password", help="Identity-provider sign-in only (needs --email).")] = False,
) -> None:
    """Add an account. The password is read from a prompt, or from stdin twice when piped.
    The first account must be an admin."""
    password = None if no_password else _read_new_password()
    account = _write(users.add_user, name=name, role=role, password=password,
                     display_name=display_name, email=email)
    typer.echo(f"added {account.name} ({account.role})")


@user_app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """Every account with its role and whether it is disabled (never a password)."""
    with _session() as session:
        rows = [
            {"name": u.name, "display_name": u.display_name, "email": u.email, "role": u.role,
             "disabled": u.disabled, "local_password": u.password_hash is not None}
            for u in users.list_users(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no accounts: single-user mode (everyone acting has every right)")
    for r in rows:
        state = "disabled" if r["disabled"] else "enabled"
        typer.echo(f"{r['name']:<20} {r['role']:<9} {state:<9} {r['display_name']}")


@user_app.command("role")
def user_role(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: RoleArgument,
) -> None:
    """Change a user's role (admins only)."""
    account = _write(users.set_role, name=name, role=role)
    typer.echo(f"{account.name} is now {account.role}")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Disable an account; its history stays (admins only)."""
    account = _write(users.set_disabled, name=name, disabled=True)
    typer.echo(f"{account.name} is disabled")


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Enable a disabled account again (admins only)."""
    account = _write(users.set_disabled, name=name, disabled=False)
    typer.echo(f"{account.name} is enabled")


# --- backup ------------------------------------------------------------------------------------

_SECRET_NOTE = "The file contains password hashes: keep it as safe as the database."


@app.command("export")
def backup_export(
    file: Annotated[str, typer.Argument(help="Where to write the backup (JSON).")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Write the whole database to FILE.json (every table, the format version and the schema
    revision). The file contains password hashes: keep it as safe as the database."""
    from mltrl.services import backup

    with _session() as session:
        try:
            data = backup.export_backup(session=session, actor=_actor())
            backup.write_private(file, data, force=force)
        except MltrlError as exc:
            raise _fail(exc) from None
    info = backup.inspect_backup(data)
    typer.echo(f"exported {info.total_rows} rows in {len(info.rows)} tables "
               f"(schema revision {info.schema_revision}) to {file}")
    typer.echo(f"note: {_SECRET_NOTE}", err=True)


@app.command("import")
def backup_import(
    file: Annotated[str, typer.Argument(help="A backup written by `mltrl export`.")],
) -> None:
    """Restore FILE.json into an empty database, all or nothing (refused for a non-empty database,
    another format version, another schema revision or a damaged file; nothing is then written)."""
    from pathlib import Path

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from mltrl.services import backup

    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise _fail(MltrlError(f"file: cannot read {file}: {exc.strerror or exc}")) from None
    columns = (TextColumn("restoring"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("restore", total=None)
        restored = _write(backup.import_backup, data=data,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    typer.echo(f"restored {sum(restored.values())} rows from {file}:")
    for line in backup.summary_lines(restored.items()):
        typer.echo(f"  {line}")


@db_app.command("backup")
def db_backup(
    path: Annotated[str, typer.Argument(help="Where to write the copy (a SQLite file).")],
    force: Annotated[bool, typer.Option("--force", help="Replace PATH if it exists.")] = False,
) -> None:
    """Copy the live SQLite database to PATH, consistently, while others may be writing (SQLite's
    online backup). For PostgreSQL use `mltrl export` or pg_dump. The copy contains password
    hashes: keep it as safe as the database."""
    from mltrl.services import backup

    url = db.database_url()
    if not db.is_sqlite(url):
        raise _fail(MltrlError(
            f"database: `mltrl db backup` copies SQLite databases; {db.safe_url(url)} is not one: "
            "use `mltrl export FILE.json` or pg_dump"
        ))
    with _session() as session:
        try:
            copy = backup.backup_sqlite(session=session, actor=_actor(), path=path, force=force)
        except MltrlError as exc:
            raise _fail(exc) from None
    typer.echo(f"copied {db.safe_url(url)} to {copy}")


def main() -> None:
    try:
        app()
    except MltrlError as exc:  # a refusal raised outside a command's own handling
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
