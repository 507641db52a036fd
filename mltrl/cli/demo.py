"""``mltrl demo``: the demo portfolio (its service, which reaches every other one, is imported
by the command)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from mltrl.cli.common import day_callback, noun, say, write
from mltrl.domain.errors import MltrlError

app = noun("The demo portfolio.")


def _as_of(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> date | None:
    """``--as-of``: a day (``YYYY-MM-DD``) the demo can be placed on; anything else is a usage
    error naming the option (exit 2, nothing written)."""
    day = day_callback(ctx, param, value)
    if day is None:
        return None
    from mltrl.services import demo

    try:
        return demo.check_as_of(day)
    except MltrlError as exc:
        raise typer.BadParameter(str(exc).removeprefix("as_of: ")) from None


@app.command("load")
def demo_load(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing (exit 0) if the database holds technologies.")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="DAY", callback=_as_of,
        help="Place the demo for this day (YYYY-MM-DD, UTC; default: today): every date in it is set relative "
             "to it, so a chosen day gives the same portfolio on every run.")] = None,
) -> None:
    """Load the demo portfolio (the paper's worked examples) into an empty database, placed for
    today or the day given."""
    from mltrl.services import demo

    added = write(demo.load_demo, if_empty=if_empty, as_of=as_of)
    if added:
        say(f"loaded the demo portfolio: {added} technologies" + (f", placed for {as_of:%Y-%m-%d}" if as_of else ""))
    else:
        say("the database already holds technologies; demo not loaded")
