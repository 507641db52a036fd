"""The ``mltrl`` command: the same services as the pages, from a terminal.

Exit codes: 0 success; 1 when a rule or a check refuses the request (the reason on one line of
stderr); 2 for usage errors (unknown options, a malformed date, number or id: one line naming the
option and what is allowed). Warnings go to stderr. Never a traceback: every command runs through
the one refusal handler of ``mltrl.cli.common`` (the root group is ``common.Refusing``).
The acting user is ``--as NAME``, else ``MLTRL_USER``, else the login name. With ``--server`` /
``MLTRL_SERVER`` and ``--token`` / ``MLTRL_TOKEN`` the commands that have a remote form act on a
running dashboard through its API (``mltrl.cli.remote``), as the token's owner.

One module per noun, each a typer group added here: ``db``, ``demo``, ``project`` (and ``fork``),
``level``, ``card``, ``requirements`` and ``risks`` (``registers``), ``review``, ``okr``,
``analytics``, ``user``, ``token``, ``evidence``, ``mlflow`` (module ``mlflow_link``); ``export`` / ``import`` (the whole database) are in ``backup``. Commands
call the services' public functions only.

Start-up stays light: a noun module imports at its top only services that load no pandas, numpy,
plotly, streamlit, jinja2, markdown or nh3 (nor the accounts service, which hashes on import); the
others are imported inside the commands that use them (``tests/services/test_cli_startup.py``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from mltrl.cli import (
    analytics,
    backup,
    card,
    common,
    demo,
    evidence,
    level,
    mlflow_link,
    okr,
    project,
    registers,
    review,
    token,
    user,
)
from mltrl.cli import db as db_noun

app = typer.Typer(cls=common.Refusing, no_args_is_help=True, add_completion=False,
                  help=__doc__.split("\n\n")[0])


@app.callback()
def _main(
    as_: Annotated[
        str | None,
        typer.Option("--as", help="Act as this user (default: $MLTRL_USER, else your login name)."),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option("--server", help="Act on a running dashboard through its API (default: $MLTRL_SERVER; "
                                      "none: the local database).", show_default=False),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="The API token for --server (default: $MLTRL_TOKEN; prefer the "
                                     "variable, a command line is visible to other users).", show_default=False),
    ] = None,
) -> None:
    """MLTRL Dashboard command line: technologies, levels and the demo portfolio."""
    common.set_acting(as_)
    common.set_remote(server, token)


app.add_typer(db_noun.app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(project.app, name="project")
app.add_typer(level.app, name="level")
app.add_typer(user.app, name="user")
app.add_typer(token.app, name="token")
app.add_typer(card.app, name="card")
app.add_typer(registers.requirements_app, name="requirements")
app.add_typer(registers.risks_app, name="risks")
app.add_typer(review.app, name="review")
app.add_typer(evidence.app, name="evidence")
app.add_typer(mlflow_link.app, name="mlflow")
app.add_typer(okr.app, name="okr")
app.add_typer(analytics.app, name="analytics")
app.command("fork")(project.fork)
app.command("export")(backup.backup_export)
app.command("import")(backup.backup_import)


def main() -> None:
    """The console script: ``app`` runs every command line through the refusal handler."""
    app()


__all__ = ["app", "main"]
