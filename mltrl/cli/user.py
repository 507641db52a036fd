"""``mltrl user``: accounts and roles.

A new account's password comes from a hidden prompt typed twice, or, when stdin is not a
terminal, from its first two lines; no stdin, a closed one or an empty one is refused by name.
The accounts service is imported inside each command: importing it computes an argon2 hash (the
equal-timing dummy), which the rest of the CLI need not wait for."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mltrl.cli.common import JsonOption, noun, say, say_json, session, write
from mltrl.domain.errors import InvalidInput

app = noun("Accounts and roles (viewer, editor, reviewer, admin).")

_NONE_GIVEN = ("none given; type it at the prompt, pipe it twice on stdin (two lines), "
               "or use --no-password with --email for identity-provider sign-in")


def _read_new_password() -> str:
    """From a prompt (typed twice, hidden), or from two lines of stdin when it is not a terminal."""
    stream = sys.stdin
    try:
        if stream is None or stream.closed:
            raise InvalidInput("password", _NONE_GIVEN)
        if stream.isatty():
            return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        first = stream.readline()
        second = stream.readline()
    except (OSError, ValueError, AttributeError):  # a stream closed underneath, or not a stream
        raise InvalidInput("password", _NONE_GIVEN) from None
    if not first:
        raise InvalidInput("password", _NONE_GIVEN)
    if not second:
        raise InvalidInput("password", "given once on stdin; give it on two lines (the second confirms it)")
    first, second = first.rstrip("\r\n"), second.rstrip("\r\n")
    if first != second:
        raise InvalidInput("password", "the two lines on stdin differ")
    return first


RoleArgument = Annotated[str, typer.Argument(help="viewer | editor | reviewer | admin")]
NameArgument = Annotated[str, typer.Argument(help="User name.")]


@app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (what people sign in with).")],
    role: Annotated[str, typer.Option("--role", help="viewer | editor | reviewer | admin")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="Full name to show.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail, to match identity-provider sign-in.")] = None,
    no_password: Annotated[bool, typer.Option("--no-password", help="Identity-provider sign-in only (needs --email).")] = False,
    service: Annotated[bool, typer.Option("--service", help="A service account (a CI job): a role and API tokens "
                                                            "(`mltrl token create --owner`), never a password.")] = False,
) -> None:
    """Add an account. The password is read from a prompt, or from stdin twice when piped.
    The first account must be an admin."""
    from mltrl.services import users

    password = None if no_password or service else _read_new_password()
    account = write(users.add_user, name=name, role=role, password=password,
                    display_name=display_name, email=email, service=service)
    say(f"added {account.name} ({account.role}{', service account' if service else ''})")


@app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """Every account with its role and whether it is disabled (never a password)."""
    from mltrl.services import users

    with session() as s:
        rows = [
            {"name": u.name, "display_name": u.display_name, "email": u.email, "role": u.role,
             "disabled": u.disabled, "local_password": u.password_hash is not None}
            for u in users.list_users(s)
        ]
    if as_json:
        say_json(rows)
        return
    if not rows:
        say("no accounts: single-user mode (everyone acting has every right)")
    for r in rows:
        state = "disabled" if r["disabled"] else "enabled"
        say(f"{r['name']:<20} {r['role']:<9} {state:<9} {r['display_name']}")


@app.command("role")
def user_role(name: NameArgument, role: RoleArgument) -> None:
    """Change a user's role (admins only)."""
    from mltrl.services import users

    account = write(users.set_role, name=name, role=role)
    say(f"{account.name} is now {account.role}")


@app.command("disable")
def user_disable(name: NameArgument) -> None:
    """Disable an account; its history stays (admins only)."""
    from mltrl.services import users

    account = write(users.set_disabled, name=name, disabled=True)
    say(f"{account.name} is disabled")


@app.command("enable")
def user_enable(name: NameArgument) -> None:
    """Enable a disabled account again (admins only)."""
    from mltrl.services import users

    account = write(users.set_disabled, name=name, disabled=False)
    say(f"{account.name} is enabled")
