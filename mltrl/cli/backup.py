"""``mltrl export`` and ``mltrl import``: the whole database as one JSON backup file."""

from __future__ import annotations

from typing import Annotated

import typer

from mltrl.cli.common import ForceOption, actor, output_file, read_input, say, session, write

_SECRET_NOTE = "The file contains password hashes: keep it as safe as the database."


def backup_export(
    file: Annotated[str, typer.Argument(help="Where to write the backup (JSON).")],
    force: ForceOption = False,
) -> None:
    """Write the whole database to FILE.json (every table, the format version and the schema
    revision). The file contains password hashes: keep it as safe as the database."""
    from mltrl.services import backup

    target = output_file(file, field="file", force=force, make_folders=True)
    assert target is not None
    with session() as s:
        data = backup.export_backup(session=s, actor=actor())
    backup.write_private(target, data, force=force)
    info = backup.inspect_backup(data)
    say(f"exported {info.total_rows} rows in {len(info.rows)} tables "
        f"(schema revision {info.schema_revision}) to {file}")
    say(f"note: {_SECRET_NOTE}", err=True)


def backup_import(
    file: Annotated[str, typer.Argument(help="A backup written by `mltrl export`.")],
) -> None:
    """Restore FILE.json into an empty database, all or nothing (refused for a non-empty database,
    another format version, another schema revision or a damaged file; nothing is then written).
    On a terminal a progress bar shows while it runs."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from mltrl.services import backup

    data = read_input(file, field="file", limit=backup.MAX_FILE_BYTES, text=False)
    console = Console(stderr=True)
    if not console.is_terminal:  # a log or a pipe gets the result, not a bar's frames
        restored = write(backup.import_backup, data=data)
    else:
        columns = (TextColumn("restoring"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                   TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as bar:  # gone when done: one line on refusal
            task = bar.add_task("restore", total=None)
            restored = write(backup.import_backup, data=data,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
    say(f"restored {sum(restored.values())} rows from {file}:")
    for line in backup.summary_lines(restored.items()):
        say(f"  {line}")
