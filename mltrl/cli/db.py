"""``mltrl db``: migrations and the online copy of a SQLite database."""

from __future__ import annotations

from typing import Annotated

import typer

from mltrl import db
from mltrl.cli.common import ForceOption, actor, noun, output_file, say, session
from mltrl.domain.errors import InvalidInput

app = noun("The database: migrations and SQLite copies.")


@app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (the app and the CLI also do this on start)."""
    url = db.database_url()
    db.upgrade_db(url)
    say(f"database at the newest schema: {db.safe_url(url)}")


@app.command("backup")
def db_backup(
    path: Annotated[str, typer.Argument(help="Where to write the copy (a SQLite file).")],
    force: ForceOption = False,
) -> None:
    """Copy the live SQLite database to PATH, consistently, while others may be writing (SQLite's
    online backup). For PostgreSQL use `mltrl export` or pg_dump. The copy contains password
    hashes: keep it as safe as the database."""
    from mltrl.services import backup

    target = output_file(path, field="path", force=force, make_folders=True)
    assert target is not None
    url = db.database_url()
    if not db.is_sqlite(url):
        raise InvalidInput("database", f"`mltrl db backup` copies SQLite databases; {db.safe_url(url)} is not one: "
                                       "use `mltrl export FILE.json` or pg_dump")
    with session() as s:
        copy = backup.backup_sqlite(session=s, actor=actor(), path=target, force=force)
    say(f"copied {db.safe_url(url)} to {copy}")
