"""``mltrl demo``: the demo portfolio (its service, which reaches every other one, is imported
by the command)."""

from __future__ import annotations

from typing import Annotated

import typer

from mltrl.cli.common import noun, say, write

app = noun("The demo portfolio.")


@app.command("load")
def demo_load(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing (exit 0) if the database holds technologies.")] = False,
) -> None:
    """Load the demo portfolio (the paper's worked examples) into an empty database."""
    from mltrl.services import demo

    added = write(demo.load_demo, if_empty=if_empty)
    if added:
        say(f"loaded the demo portfolio: {added} technologies")
    else:
        say("the database already holds technologies; demo not loaded")
