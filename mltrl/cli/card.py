"""``mltrl card``: TRL cards (export, import, history).

The card service (and with it the Markdown renderer and the HTML sanitiser) is imported inside
each command, so the rest of the CLI starts without them; so is ``huggingface_hub``, which only
``--format hf`` and the import of a Hugging Face model card need (the ``hf`` extra)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated
from urllib.parse import quote

import typer

from mltrl.cli.common import (
    ID_MAX,
    JsonOption,
    iso,
    remote_client,
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
from mltrl.domain.errors import InvalidInput

app = noun("TRL cards: export, import, history.")


def _cards():
    """The card service, imported when a command runs locally (with it the Markdown renderer and
    the sanitiser); against a server none of it is needed."""
    from mltrl.services import cards

    return cards


class CardFormat(str, Enum):
    md = "md"
    html = "html"
    hf = "hf"


# The API's name for each format a server gives (HTML is printed from the dashboard).
REMOTE_FORMATS = {CardFormat.md: "markdown", CardFormat.hf: "hf"}


@app.command("export")
def card_export(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    fmt: Annotated[CardFormat, typer.Option("--format", help="Markdown (MLTRL card layout), one printable HTML page, "
                                                             "or a Hugging Face model card README.md (hf: YAML "
                                                             "front matter with the evidence's metrics as its "
                                                             "model-index, then the Markdown).")] = CardFormat.md,
    level: Annotated[int | None, typer.Option("--level", min=0, max=9, help="The card of a level the technology left, as it stood then.")] = None,
    revision: Annotated[int | None, typer.Option("--revision", min=1, max=ID_MAX, help="A past revision instead of the current card.")] = None,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Write to this file instead of stdout (exactly; "
                                                                           "on stdout control characters are shown as escapes).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Print (or write) a technology's TRL card as Markdown, HTML or a Hugging Face model card."""

    if level is not None and revision is not None:
        raise typer.BadParameter("give --level or --revision, not both", param_hint="--revision")
    target = output_file(output, field="output", force=force)
    client = remote_client()
    if client is not None:
        if fmt not in REMOTE_FORMATS:
            raise InvalidInput("--format", "a server gives the card as Markdown (md) or a Hugging Face model card "
                                           "(hf); HTML is printed from the dashboard's Cards page, or run the "
                                           "command on the server")
        text = client.request("GET", f"/projects/{quote(code, safe='')}/card", raw=True,
                              params={"format": REMOTE_FORMATS[fmt], "level": level, "revision": revision})
    else:
        with session() as s:
            text = _cards().export_card(s, code, fmt=fmt.value, level=level, number=revision)
    if target is None:
        say(text, nl=False)
        return
    write_output(target, text, field="output")
    say(f"wrote the card of {code} to {output}", err=True)


@app.command("import")
def card_import(
    file: Annotated[str, typer.Argument(help="A card in the MLTRL card Markdown layout, or a Hugging Face model "
                                             "card (README.md: YAML front matter, then the card).")],
    project: Annotated[str | None, typer.Option("--project", help="Import into this project ID instead of the one the card names.")] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="Change summary for the new revision.")] = None,
) -> None:
    """Import a card as the next revision of its technology (created when its ID is new).

    A Hugging Face model card's metrics (its model-index) that the technology's evidence does not
    hold yet are recorded as evidence of its current level."""
    text = read_input(file, field="file")
    outcome = write(_cards().import_card, text=text, code=project, summary=summary or "")
    warn(outcome.warnings)
    made = "created the technology and " if outcome.created else ""
    added = getattr(outcome, "evidence_added", 0)
    recorded = f"; recorded {added} evidence record{'' if added == 1 else 's'} from its model-index" if added else ""
    say(f"{outcome.code}: {made}saved card revision {outcome.number}{recorded}")


@app.command("history")
def card_history(
    code: Annotated[str, typer.Argument(help="Project ID.")],
    as_json: JsonOption = False,
) -> None:
    """A card's revisions, newest first."""
    client = remote_client()
    if client is not None:
        records = [{"number": r["revision"], "at": r["at"], "author": r["author"], "action": r["action"],
                    "level": r["level"], "summary": r["summary"]}
                   for r in client.request("GET", f"/projects/{quote(code, safe='')}/card/revisions")]
    else:
        with session() as s:
            records = [{"number": r.number, "at": iso(r.at), "author": r.author, "action": r.action,
                        "level": r.level, "summary": r.summary} for r in _cards().revisions(s, code)]
    if as_json:
        say_json(records)
        return
    if not records:
        say(f"{code} has no card yet")
    for r in records:
        say(f"{r['number']:>4}  {r['at'][:16].replace('T', ' ')}  {r['author']:<16} {r['action']:<8} {r['summary']}")
