"""Backups: the whole database as one JSON file, restored all or nothing; a live SQLite copy.

``export_backup`` writes every table of ``SQLModel.metadata`` (parents before children, rows in
primary-key order, every column by name) and ``import_backup`` restores such a file into an empty
database at the same schema revision. Both read the metadata, never a list of tables, so a table
added later is covered without touching this module (a test compares the table names).

The file (``FORMAT``, version ``FORMAT_VERSION``) is one JSON object, one table row per line::

    {"checksum":"sha256:9f2c...","exported_by":"mltrl-dashboard 0.1.0","format":"mltrl-backup",
     "format_version":1,"schema_revision":"0002","tables":[
    {"name":"project","columns":["id","code",...],"rows":[
    [1,"R01",...],
    [2,"R01.1",...]
    ]},
    ...
    ]}

* Values: datetimes as ISO 8601 in UTC with the offset, dates and times as ISO 8601, JSON columns
  as JSON, booleans as booleans, NULL as null, decimals and UUIDs as strings, bytes as base64
  (``backup_rows.to_json``).
* ``checksum`` is the SHA-256 of the canonical serialization (sorted keys, no spaces, UTF-8) of
  the whole document without the checksum itself. It catches accidental damage (truncation, a
  changed byte), **not tampering**: whoever edits the file can recompute it.
* ``signature`` (present when ``MLTRL_BACKUP_KEY`` is set) is an HMAC-SHA256 with that key over the
  same canonical content without checksum and signature. With the key set, an import refuses a
  file whose signature is missing or wrong, so an edited file (a viewer made admin) is refused.
  The key is read through ``db.settings()`` (``backup_file`` holds the file format and its checks).
* There is no wall-clock timestamp: export -> import -> export gives byte-identical files.
* **The file contains the password hashes** of local accounts (a restore must keep the accounts
  working): keep it as safe as the database itself. Files are written readable by their owner
  only (mode 0600).

A restore writes rows without the use cases, so ``backup_rows`` first holds every row to the
services' rules (column types, lengths and nullability from the models, and the domain's rules per
table); a refusal names the table, the row and the field, and the import is one transaction.

``backup_sqlite`` takes a consistent copy of a live SQLite database with SQLite's online backup.
All three are admin operations once accounts exist; in single-user mode (no accounts) anyone may,
which is how a restore into a new, empty database is allowed: a database without accounts has
nobody to ask (whoever reaches it could equally create the first admin). The restored file brings
its own accounts and roles, so without a key anyone can restore a hand-made file there; with
``MLTRL_BACKUP_KEY`` set only files signed with that key are restored. See docs/BACKUPS.md.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, Table, func, insert, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, SQLModel

from mltrl import db, models  # noqa: F401  (models registers every table in the metadata)
from mltrl.domain.errors import InvalidInput
from mltrl.domain.permissions import Permission
from mltrl.services import backup_file, backup_rows
from mltrl.services._core import Actor, authorize, write_service
from mltrl.services.backup_file import (  # noqa: F401  (part of this module's interface)
    FORMAT,
    FORMAT_VERSION,
    HEADER_KEYS,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    checksum,
    render,
    signature,
)
from mltrl.services.backup_rows import base_type as _base_type

PACKAGE = "mltrl-dashboard"
CHUNK = 500  # rows per INSERT batch, and per step of the progress callback

Progress = Callable[[int, int], None]
"""Told ``(rows done, rows total)`` as a backup is written or restored."""


@dataclass(frozen=True)
class BackupInfo:
    """What a checked backup file holds: its header and the rows per table (in restore order)."""

    schema_revision: str
    exported_by: str
    rows: dict[str, int]
    signed: bool = False  # carries a signature (checked against the key when one is set)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# Left out of backups: browser sign-ins and failed sign-ins live for hours, and a restored
# database signs everyone in again.
EPHEMERAL_TABLES = frozenset({"usersession", "signinfailure"})


def tables() -> list[Table]:
    """Every table of the schema but the ephemeral ones, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in EPHEMERAL_TABLES]


def tool_version() -> str:
    try:
        return f"{PACKAGE} {importlib_metadata.version(PACKAGE)}"
    except importlib_metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return f"{PACKAGE} (unknown version)"


def schema_revision(session: Session) -> str:
    """The database's Alembic revision (several heads joined by '+')."""
    found: list[str] = []
    if sa_inspect(session.connection()).has_table("alembic_version"):
        found = list(session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if not found:
        raise InvalidInput("database", "it has no schema revision (not an MLTRL database?); run `mltrl db upgrade`")
    return "+".join(sorted(found))


# --- the file -----------------------------------------------------------------------------------


def _key() -> str | None:
    """The signing key from the settings (``MLTRL_BACKUP_KEY``), or None when none is set."""
    return db.settings().backup_key.get_secret_value() or None


def _parse(data: bytes) -> dict[str, Any]:
    """Parse and check a backup file, its signature too when a key is set (``backup_file.parse``)."""
    return backup_file.parse(data, _key())


def _revision_advice(file_revision: str, db_revision: str) -> str:
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    known = {rev.revision for rev in script.walk_revisions()}
    if not set(file_revision.split("+")) <= known:
        return ("the file comes from a newer version of mltrl: upgrade mltrl, run `mltrl db upgrade` "
                "on this database, then import again")
    return ("the file comes from an older schema: import it with the version of mltrl that wrote it "
            "(see exported_by) into an empty database, run `mltrl db upgrade` there, then export again")


# --- export --------------------------------------------------------------------------------------


def _begin_snapshot(session: Session) -> bool:
    """Make the reads that follow see one consistent state; True if this began the transaction."""
    began = not session.in_transaction()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if not raw.in_transaction:  # pysqlite runs SELECTs in autocommit: hold one read transaction
            raw.execute("BEGIN")
    elif began and connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    return began


def export_document(session: Session, actor: Actor, *, progress: Progress | None = None) -> dict[str, Any]:
    """The whole database as a backup document (a dict; ``render`` turns it into the file)."""
    began = _begin_snapshot(session)
    try:
        authorize(session, actor, Permission.ADMIN)
        revision = schema_revision(session)
        all_tables = tables()
        total = sum(session.execute(select(func.count()).select_from(t)).scalar_one() for t in all_tables)
        done = 0
        if progress:
            progress(0, total)
        out = []
        for table in all_tables:
            columns = list(table.columns)
            order = list(table.primary_key.columns) or columns
            rows = [
                [backup_rows.to_json(c, value) for c, value in zip(columns, row)]
                for row in session.execute(select(*columns).order_by(*order))
            ]
            out.append({"name": table.name, "columns": [c.name for c in columns], "rows": rows})
            done += len(rows)
            if progress:
                progress(done, total)
    finally:
        if began:
            session.rollback()  # end the read transaction this began (nothing was written)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_revision": revision,
        "exported_by": tool_version(),
        "tables": out,
    }
    return backup_file.seal(document, _key())


def export_backup(*, session: Session, actor: Actor, progress: Progress | None = None) -> bytes:
    """The whole database as backup file bytes (admins only, once accounts exist), read in one
    consistent snapshot; ``progress`` is told ``(rows done, rows total)``.

    A read: nothing is written, not even an audit row. The file holds the accounts' password
    hashes (a restore must keep them working): whoever gets it may attack them offline, so keep
    it as safe as the database."""
    return render(export_document(session, actor, progress=progress))


# --- import --------------------------------------------------------------------------------------


def inspect_backup(data: bytes) -> BackupInfo:
    """Check a backup file without a database: size, nesting, strict JSON, format, version,
    checksum, structure, and the signature when ``MLTRL_BACKUP_KEY`` is set (the rows themselves
    are checked by ``import_backup``, against the schema they go into)."""
    document = _parse(data)
    return BackupInfo(
        schema_revision=document["schema_revision"],
        exported_by=document["exported_by"],
        rows={t["name"]: len(t["rows"]) for t in document["tables"]},
        signed="signature" in document,
    )


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table of the schema, in restore order."""
    return {t.name: session.execute(select(func.count()).select_from(t)).scalar_one() for t in tables()}


def _check_fits(document: dict[str, Any], session: Session) -> list[tuple[Table, list[list[Any]]]]:
    """Match the file's tables and columns to this schema; refuse any mismatch."""
    db_revision = schema_revision(session)
    file_revision = document["schema_revision"]
    if file_revision != db_revision:
        raise InvalidInput(
            "file",
            f"it was written at schema revision {file_revision[:40]}, this database is at {db_revision}; "
            f"a backup restores only into a database at the same revision: "
            f"{_revision_advice(file_revision, db_revision)}",
        )
    known = {t.name: t for t in tables()}
    given = {t["name"]: t for t in document["tables"]}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidInput("file", f"it holds tables this schema does not have: {', '.join(n[:40] for n in unknown)}")
    plan = []
    for table in tables():
        entry = given.get(table.name)
        if entry is None:
            raise backup_file.damaged(f"table {table.name} is missing")
        names = [c.name for c in table.columns]
        if sorted(entry["columns"]) != sorted(names):
            extra = sorted(set(entry["columns"]) - set(names))
            lacking = sorted(set(names) - set(entry["columns"]))
            raise InvalidInput("file", f"table {table.name} does not match this schema "
                                       f"(unknown columns {[c[:40] for c in extra]}, missing columns {lacking})")
        plan.append((table, entry))
    return plan


def _self_references(table: Table) -> list[tuple[Column, Column]]:
    """(column, referenced primary-key column) pairs of foreign keys from ``table`` to itself."""
    pk = list(table.primary_key.columns)
    return [
        (fk.parent, fk.column)
        for fk in table.foreign_keys
        if fk.column.table is table and len(pk) == 1 and fk.column is pk[0] and fk.parent.nullable
    ]


def _insert_table(session: Session, table: Table, rows: list[dict[str, Any]], tick: Callable[[int], None]) -> None:
    """Insert ``rows`` (primary-key order). A row pointing at a row of its own table that comes
    later (a component moved under a newer system) gets that reference after the table is in."""
    later: list[tuple[Column, dict[str, Any]]] = []
    self_refs = _self_references(table)
    if self_refs:
        pk = self_refs[0][1].name
        inserted: set[Any] = set()
        for row in rows:
            for column, _target in self_refs:
                value = row.get(column.name)
                if value is not None and value not in inserted and value != row[pk]:
                    later.append((column, {"_pk": row[pk], "_value": value}))
                    row[column.name] = None
            inserted.add(row[pk])
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        session.execute(insert(table), chunk)
        tick(len(chunk))
    for column, params in later:
        pk_column = self_refs[0][1]
        session.execute(
            update(table).where(pk_column == params["_pk"]).values({column.name: params["_value"]})
        )


def _reset_sequences(session: Session) -> None:
    """PostgreSQL: move each serial primary key's sequence past the restored ids."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    preparer = connection.dialect.identifier_preparer
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(_base_type(pk[0]), Integer):
            continue
        sequence = session.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": preparer.format_table(table), "column": pk[0].name},
        ).scalar_one()
        if sequence is None:
            continue
        highest = session.execute(select(func.max(pk[0]))).scalar_one()
        session.execute(
            text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
            {"sequence": sequence, "value": highest or 1, "called": highest is not None},
        )


@write_service(Permission.ADMIN)
def import_backup(
    *, session: Session, actor: Actor, data: bytes, progress: Progress | None = None,
) -> dict[str, int]:
    """Restore a backup file into this empty database, all or nothing; returns rows per table.

    Refused, with nothing written, when the file is damaged or hostile (too large, too deeply
    nested, not strict JSON, wrong structure, checksum mismatch: ``backup_file.parse``), unsigned or
    wrongly signed while ``MLTRL_BACKUP_KEY`` is set, of another format or format version, from
    another schema revision, names a table this schema lacks, when the database already holds any
    row, or when any row breaks a rule the services hold (``backup_rows.read_rows``: a
    ``RowErrors`` naming each bad row's table, row and field). On PostgreSQL the id sequences then
    move past the restored ids.

    Writes **no audit row**: the audit trail is part of the backup, and a restore must give back
    exactly what was exported (export -> import -> export is byte-identical). The restored file
    brings its accounts and password hashes with it.
    """
    document = _parse(data)
    plan = _check_fits(document, session)
    present = {name: n for name, n in row_counts(session).items() if n}
    if present:
        held = ", ".join(f"{n} in {name}" for name, n in present.items())
        raise InvalidInput(
            "database",
            f"import restores into an empty database; this one holds {sum(present.values())} rows "
            f"({held}). Point MLTRL_DATABASE_URL at a new database and import there",
        )
    checked = backup_rows.read_rows([(table, entry) for table, entry in plan])
    total = sum(len(rows) for _, rows in checked)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    if progress:
        progress(0, total)
    restored: dict[str, int] = {}
    for table, rows in checked:
        try:
            _insert_table(session, table, rows, tick)
        except (IntegrityError, DataError) as exc:  # a last net: the checks above should catch it first
            raise InvalidInput(
                "file", f"a row of table {table.name} breaks a rule of this schema ({str(exc.orig)[:300]}); "
                        "nothing was imported"
            ) from None
        restored[table.name] = len(rows)
    _reset_sequences(session)
    return restored


# --- live SQLite copy ------------------------------------------------------------------------------


def _private_temp(folder: Path, stem: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=folder)
    os.close(fd)
    os.chmod(name, 0o600)
    return Path(name)


def write_private(path: Path, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically, readable by its owner only; refuse an existing file
    unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise InvalidInput("path", f"{path} already exists; choose another name or use --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _private_temp(path.parent, path.name)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def backup_sqlite(*, session: Session, actor: Actor, path: Path | str, force: bool = False) -> Path:
    """Copy the live SQLite database behind ``session`` to ``path`` with SQLite's online backup.

    The copy is consistent even while others write (one backup step under a read lock), is a
    single file (journal mode DELETE) readable by its owner only, and appears atomically.
    Refused for PostgreSQL (use ``export_backup`` or pg_dump), for an existing ``path`` unless
    ``force``, and for anyone but an admin once accounts exist."""
    url = session.get_bind().url
    if url.get_backend_name() != "sqlite":
        raise InvalidInput(
            "database",
            f"`mltrl db backup` copies SQLite databases; this one is {url.get_backend_name()}: "
            "use `mltrl export FILE.json` or pg_dump",
        )
    source = sqlite_file(str(url))
    authorize(session, actor, Permission.ADMIN)
    target = Path(path)
    if target.resolve() == source.resolve():
        raise InvalidInput("path", f"{target} is the live database itself; choose another path")
    if target.exists() and not force:
        raise InvalidInput("path", f"{target} already exists; choose another name or use --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _private_temp(target.parent, target.name)
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)  # pages=-1: the whole database in one step, so one consistent state
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
    return target


def sqlite_file(url: str) -> Path:
    """The file of a SQLite URL; refused for in-memory databases and missing files."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise InvalidInput("database", f"{db.safe_url(url)} is not a SQLite database file")
    path = Path(database)
    if not path.exists():
        raise InvalidInput("database", f"{path} does not exist")
    return path


def summary_lines(counts: Iterable[tuple[str, int]]) -> list[str]:
    """``table  rows`` lines, for the CLI and the admin page."""
    counts = list(counts)
    width = max((len(name) for name, _ in counts), default=0)
    return [f"{name:<{width}}  {n:>8}" for name, n in counts]
