"""``mltrl card``: TRL cards (export, import, history).

The card service (and with it the Markdown renderer and the HTML sanitiser) is imported inside
each command, so the rest of the CLI starts without them."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from mltrl.cli.common import (
    ID_MAX,
    JsonOption,
    noun,
    output_file,
    read_input,
    say,
    say_json,
    session,
    warn,
    write,
    write_output,
)

app = noun("TRL cards: export, import, history.")


class CardFormat(str, Enum):
    md = "md"
    html = "html"


@app.command("export")
def card_export(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    fmt: Annotated[CardFormat, typer.Option("--format", help="Markdown (MLTRL card layout) or one printable HTML page.")] = CardFormat.md,
    level: Annotated[int | None, typer.Option("--level", min=0, max=9, help="The card of a level the technology left, as it stood then.")] = None,
    revision: Annotated[int | None, typer.Option("--revision", min=1, max=ID_MAX, help="A past revision instead of the current card.")] = None,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Write to this file instead of stdout (exactly; "
                                                                           "on stdout control characters are shown as escapes).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Print (or write) a technology's TRL card as Markdown or HTML."""
    from mltrl.services import cards

    if level is not None and revision is not None:
        raise typer.BadParameter("give --level or --revision, not both", param_hint="--revision")
    target = output_file(output, field="output", force=force)
    with session() as s:
        text = cards.export_card(s, code, fmt=fmt.value, level=level, number=revision)
    if target is None:
        say(text, nl=False)
        return
    write_output(target, text, field="output")
    say(f"wrote the card of {code} to {output}", err=True)


@app.command("import")
def card_import(
    file: Annotated[str, typer.Argument(help="A card in the MLTRL card Markdown layout.")],
    project: Annotated[str | None, typer.Option("--project", help="Import into this project ID instead of the one the card names.")] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="Change summary for the new revision.")] = None,
) -> None:
    """Import a card as the next revision of its technology (created when its ID is new)."""
    from mltrl.services import cards

    text = read_input(file, field="file")
    outcome = write(cards.import_card, text=text, code=project, summary=summary or "")
    warn(outcome.warnings)
    made = "created the technology and " if outcome.created else ""
    say(f"{outcome.code}: {made}saved card revision {outcome.number}")


@app.command("history")
def card_history(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    as_json: JsonOption = False,
) -> None:
    """A card's revisions, newest first."""
    from mltrl.services import cards

    with session() as s:
        revs = cards.revisions(s, code)
        records = [{"number": r.number, "at": r.at.isoformat(), "author": r.author, "action": r.action,
                    "level": r.level, "summary": r.summary} for r in revs]
    if as_json:
        say_json(records)
        return
    if not records:
        say(f"{code} has no card yet")
    for r in records:
        say(f"{r['number']:>4}  {r['at'][:16].replace('T', ' ')}  {r['author']:<16} {r['action']:<8} {r['summary']}")
