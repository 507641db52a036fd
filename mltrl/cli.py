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
from mltrl.errors import MltrlError, RowErrors
from mltrl.services import Actor, cards, demo, level_moves, portfolio, projects, users
from mltrl.services._core import parse_when

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.split("\n\n")[0])
db_app = typer.Typer(no_args_is_help=True, help="The database: migrations.")
demo_app = typer.Typer(no_args_is_help=True, help="The demo portfolio.")
project_app = typer.Typer(no_args_is_help=True, help="Technologies: projects and their components.")
level_app = typer.Typer(no_args_is_help=True, help="Level history: start, graduate, switch back.")
user_app = typer.Typer(no_args_is_help=True, help="Accounts and roles (viewer, editor, reviewer, admin).")
card_app = typer.Typer(no_args_is_help=True, help="TRL cards: export, import, history.")
requirements_app = typer.Typer(no_args_is_help=True, help="The requirements register: CSV export and import.")
risks_app = typer.Typer(no_args_is_help=True, help="The risk register: CSV export and import, the 5x5 matrix.")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(project_app, name="project")
app.add_typer(level_app, name="level")
app.add_typer(user_app, name="user")
app.add_typer(card_app, name="card")
app.add_typer(requirements_app, name="requirements")
app.add_typer(risks_app, name="risks")

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


def _export_register(export, code: str, file: str, force: bool) -> None:  # noqa: ANN001
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


def _import_register(use_case, code: str, file: str) -> None:  # noqa: ANN001
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
    from mltrl import risk as rules
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
