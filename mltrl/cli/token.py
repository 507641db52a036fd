"""``mltrl token``: personal API tokens, and those of service accounts (for a CI job).

``create`` prints the token once, on its own line on stdout (so a script can capture it), and what
it is on stderr; only its SHA-256 is kept. A token acts as its owner with the lower of its role and
the owner's, until its expiry day ends (UTC) or it is revoked."""

from __future__ import annotations

from typing import Annotated

import typer

from mltrl.cli.common import Id, JsonOption, day_callback, iso, noun, say, say_json, session, write

app = noun("API tokens: create (shown once), list, revoke.")

TokenId = Id("ID", "Token number (see `mltrl token list`).")


@app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="What uses it (ci, notebook...): unique among the owner's live tokens.")],
    role: Annotated[str | None, typer.Option("--role", help="viewer | editor | reviewer | admin; at most the "
                                                           "owner's role (default: the owner's role).")] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="Last day it works, YYYY-MM-DD (UTC; default: "
                                                                 "until revoked).", callback=day_callback)] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Whose token (admins only; a service account, "
                                                             "say). Default: yours.")] = None,
) -> None:
    """Create a token and print it once."""
    from mltrl.services import tokens

    secret, info = write(tokens.create_token, name=name, role=role, expires=expires, owner=owner)
    until = f"until {info.expires_at.date().isoformat()}" if info.expires_at else "until revoked"
    say(f"token {info.id} {info.name!r} for {info.owner} ({info.role}, {until}); it is shown only now:", err=True)
    say(secret)


@app.command("list")
def token_list(
    owner: Annotated[str | None, typer.Option("--owner", help="Only this account's tokens.")] = None,
    ended: Annotated[bool, typer.Option("--all", help="Also expired and revoked tokens.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Tokens with their owner, role, expiry and last use (never the secret)."""
    from mltrl.services import tokens

    with session() as s:
        rows = [{"id": t.id, "owner": t.owner, "name": t.name, "starts": t.shown, "role": t.role.value,
                 "created_at": iso(t.created_at), "expires_at": iso(t.expires_at),
                 "last_used_at": iso(t.last_used_at), "revoked_at": iso(t.revoked_at), "live": t.live}
                for t in tokens.list_tokens(s, owner, include_ended=ended)]
    if as_json:
        say_json(rows)
        return
    if not rows:
        say("no tokens")
    for r in rows:
        used = r["last_used_at"][:16] if r["last_used_at"] else "never used"
        state = "live" if r["live"] else ("revoked" if r["revoked_at"] else "expired")
        say(f"{r['id']:>4} {r['owner']:<16} {r['name']:<20} {r['starts']:<12} {r['role']:<9} {state:<8} {used}")


@app.command("revoke")
def token_revoke(token_id: TokenId) -> None:
    """Revoke a token at once (your own; an admin, anyone's)."""
    from mltrl.services import tokens

    info = write(tokens.revoke_token, token_id=token_id)
    say(f"token {info.id} {info.name!r} of {info.owner} is revoked")
