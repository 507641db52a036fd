"""``mltrl project``: technologies (and ``mltrl fork``)."""

from __future__ import annotations

from typing import Annotated

import typer

from mltrl.cli.common import JsonOption, NoteOption, noun, remote_client, remote_records, say, say_json, session, write
from mltrl.services import portfolio, projects

app = noun("Technologies: projects and their components.")


@app.command("add")
def project_add(
    code: Annotated[str, typer.Argument(help="Project ID, e.g. R02.1.")],
    name: Annotated[str, typer.Argument(help="Human name.")],
    parent: Annotated[str | None, typer.Option("--parent", help="Code of the system this is a component of.")] = None,
    owner: Annotated[list[str] | None, typer.Option("--owner", help="An owner (repeat for several).")] = None,
    summary: Annotated[str, typer.Option("--summary", help="One or two sentences.")] = "",
) -> None:
    """Register a technology."""
    project = write(projects.add_project, code=code, name=name, summary=summary,
                    parent_code=parent, owners=owner or [])
    say(f"added {project.code}: {project.name}")


@app.command("list")
def project_list(as_json: JsonOption = False) -> None:
    """Every technology with its level and system level, components under their system."""
    client = remote_client()
    if client is not None:
        records = remote_records(client, "/projects")
    else:
        with session() as s:
            records = portfolio.project_list(s)
    if as_json:
        say_json(records)
        return
    if not records:
        say("no technologies yet (try: mltrl demo load)")
        return
    width = max(len(r["code"]) for r in records)
    say(f"{'code':<{width + 2}} level  system  status   name")
    for r in records:
        indent = "  " if r["parent"] else ""
        lv = "-" if r["level"] is None else str(r["level"])
        sl = "-" if r["system_level"] is None else str(r["system_level"])
        say(f"{indent + r['code']:<{width + 2}} {lv:>5}  {sl:>6}  {r['status']:<8} {r['name']}")


def fork(
    code: Annotated[str, typer.Argument(help="Project ID of the technology to fork.")],
    new_code: Annotated[str, typer.Argument(help="Project ID of the new technology.")],
    name: Annotated[str, typer.Argument(help="Human name of the new technology.")],
    note: NoteOption = None,
) -> None:
    """Bifurcate: a new technology going on from CODE at its level, with its owners, a copy of its
    card and its history as its past."""
    from mltrl.services import reviews

    child = write(reviews.fork, code=code, new_code=new_code, name=name, note=note or "")
    say(f"forked {code} into {child.code}: {child.name} at level {child.level}")
