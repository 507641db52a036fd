"""``mltrl level``: the level history (start, graduate, switch back, history)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer

from mltrl.cli.common import (
    AtOption,
    JsonOption,
    NoteOption,
    iso,
    noun,
    remote_client,
    say,
    say_json,
    session,
    warn,
    write,
)
from mltrl.services import level_moves

app = noun("Level history: start, graduate, switch back.")

def _report(outcome: level_moves.MoveOutcome, code: str) -> None:
    e = outcome.event
    warn(outcome.warnings)
    kind = level_moves.event_kind_label(e)
    src = "" if e.from_level is None else f"{e.from_level} -> "
    say(f"{code}: {kind} {src}{e.to_level} on {e.at.date().isoformat()}")


@app.command("start")
def level_start(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    level: Annotated[int, typer.Argument(help="Level 0-9 where the technology enters MLTRL.")],
    at: AtOption = None,
    note: NoteOption = None,
) -> None:
    """Record where a technology starts (once, at any level)."""
    _report(write(level_moves.record_start, code=code, level=level, at=at, note=note), code)


@app.command("graduate")
def level_graduate(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    at: AtOption = None,
    note: NoteOption = None,
) -> None:
    """Record a graduation to the next level without a review (for entering past history)."""
    _report(write(level_moves.graduate, code=code, at=at, note=note), code)


@app.command("switchback")
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
    _report(write(level_moves.switch_back, code=code, level=level, kind=kind, at=at, note=note), code)


@app.command("deployed-change")
def level_deployed_change(
    code: Annotated[str, typer.Argument(help="Project ID of a deployed (level 9) technology.")],
    note: NoteOption = None,
) -> None:
    """Record a change to the deployed version: the embedded 9 -> 7 switchback (back through integration)."""
    from mltrl.services import reviews

    _report(write(reviews.change_deployed_version, code=code, note=note or ""), code)


@app.command("history")
def level_history(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    as_json: JsonOption = False,
) -> None:
    """A technology's level history, oldest first."""
    client = remote_client()
    if client is not None:
        records = client.request("GET", f"/projects/{quote(code, safe='')}/history")
    else:
        with session() as s:
            events = level_moves.history(s, code)
            records = [
                {"at": iso(e.at), "from_level": e.from_level, "to_level": e.to_level,
                 "kind": level_moves.event_kind_label(e), "note": e.note}
                for e in events
            ]
    if as_json:
        say_json(records)
        return
    if not records:
        say(f"{code} has no level history yet")
    for r in records:
        src = "start" if r["from_level"] is None else f"{r['from_level']} ->"
        say(f"{r['at'][:10]}  {src:>6} {r['to_level']}  {r['kind']:<10} {r['note']}")
