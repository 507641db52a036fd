"""Backups: ``export_backup``/``import_backup`` (the whole database as JSON, restored all or
nothing), ``backup_sqlite`` (a live copy) and the CLI commands ``export``, ``import`` and
``db backup``.

Contract: every table of the metadata is exported; export -> import into an empty database ->
export gives byte-identical files; a non-empty target, another format version, a damaged file,
another schema revision or an unknown table is refused with a message naming what is wrong, and
nothing is written; with accounts, only admins may export, import or copy.
"""

from __future__ import annotations

import json
import random
import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, UTC
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from mltrl import db
from mltrl.cli import app
from mltrl.domain.errors import InvalidInput, PermissionDenied
from mltrl.models import AuditEntry, Project
from mltrl.services import Actor, backup, demo, level_moves, okrs, projects, users
from mltrl.services._core import within
from tests.factories import TESTER, everything

ADMIN = Actor("ada")
VIEWER = Actor("vic")
PASSWORD = "correct horse battery"
runner = CliRunner()


# --- fixtures and builders ---------------------------------------------------------------------


@pytest.fixture
def restore_url(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database on the same backend as ``db_url`` (SQLite: a file next to it;
    PostgreSQL: another fresh database on the test server)."""
    if db.is_sqlite(db_url):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    try:
        pg = request.getfixturevalue("pg_server")
    except pytest.FixtureLookupError:  # no PostgreSQL fixture: restore into SQLite instead
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = pg.fresh_database(migrated=True)
    try:
        yield url
    finally:
        db.dispose_engines()
        pg.drop_database(url)


@pytest.fixture
def restore_engine(restore_url: str) -> Iterator[Engine]:
    engine = db.get_engine(restore_url)
    yield engine
    db.dispose_engines()


def export_from(engine: Engine, actor: Actor = TESTER) -> bytes:
    with db.session_scope(engine) as s:
        return backup.export_backup(session=s, actor=actor)


def import_into(engine: Engine, data: bytes, actor: Actor = TESTER, **kwargs) -> dict[str, int]:
    with db.session_scope(engine) as s:
        return backup.import_backup(session=s, actor=actor, data=data, **kwargs)


def reseal(data: bytes, edit: Callable[[dict], object]) -> bytes:
    """``data`` with ``edit(document)`` applied and a matching checksum (a deliberate edit)."""
    document = json.loads(data)
    edit(document)
    document["checksum"] = backup.checksum(document)
    return backup.render(document)


def add_accounts(session: Session) -> None:
    """An admin, a viewer, an identity-provider editor (no hash) and a disabled reviewer."""
    users.create_first_admin(session=session, actor=ADMIN, name="ada", password=PASSWORD,
                             display_name="Ada Lovelace", email="ada@example.org")
    users.add_user(session=session, actor=ADMIN, name="vic", role="viewer", password=PASSWORD)
    users.add_user(session=session, actor=ADMIN, name="eve", role="editor", email="eve@example.org")
    users.add_user(session=session, actor=ADMIN, name="rex", role="reviewer", password=PASSWORD)
    users.set_disabled(session=session, actor=ADMIN, name="rex", disabled=True)


def synthetic_portfolio(session: Session, n: int = 300, seed: int = 7) -> None:
    """``n`` technologies (every third a component of the one before), each with a level
    history, written through the use cases in one transaction."""
    rng = random.Random(seed)
    add, start = within(projects.add_project), within(level_moves.record_start)
    grad, back = within(level_moves.graduate), within(level_moves.switch_back)
    epoch = datetime(2019, 1, 1, tzinfo=UTC)
    system = None
    for i in range(n):
        code = f"S{i:04d}" if i % 3 or system is None else f"{system}.{i}"
        parent = None if i % 3 or system is None else system
        add(session=session, actor=TESTER, code=code, name=f"Synthetic technology №{i} — ü",
            summary="x" * rng.randint(0, 300), parent_code=parent,
            owners=rng.sample(["Ada", "Ben", "Chloé", "Dmitri", "Elena"], rng.randint(0, 3)),
            status=rng.choice(["active", "active", "paused", "retired"]))
        if parent is None:
            system = code
        if rng.random() < 0.05:
            continue  # a few have no history yet
        at = epoch + timedelta(days=rng.randint(0, 900), seconds=rng.randint(0, 86_399),
                               microseconds=rng.randint(0, 999_999))
        level = rng.randint(0, 3)
        held = {level}
        start(session=session, actor=TESTER, code=code, level=level, at=at, note="begun")
        for _ in range(rng.randint(1, 10)):
            at += timedelta(days=rng.randint(1, 90), minutes=rng.randint(0, 1_000))
            if level - 1 in held and (level == 9 or rng.random() < 0.2):
                back(session=session, actor=TESTER, code=code, level=level - 1,
                     kind=rng.choice(["discovery", "review"]), at=at, note="went back")
                level -= 1
            elif level < 9:
                grad(session=session, actor=TESTER, code=code, at=at)
                level += 1
            held.add(level)
    session.commit()


# --- every table -------------------------------------------------------------------------------


def test_every_table_in_the_metadata_is_exported_with_every_column(session: Session) -> None:
    document = json.loads(backup.export_backup(session=session, actor=TESTER))
    exported = [t["name"] for t in document["tables"]]
    # A table added to the models later must show up here without touching the exporter.
    assert set(exported) == set(SQLModel.metadata.tables) - {"usersession", "signinfailure"}
    assert exported == [t.name for t in SQLModel.metadata.sorted_tables if t.name in exported]  # parents first
    for entry in document["tables"]:
        table = SQLModel.metadata.tables[entry["name"]]
        assert entry["columns"] == [c.name for c in table.columns]
    assert "alembic_version" not in exported
    assert document["format"] == "mltrl-backup"
    assert document["format_version"] == 1
    assert document["schema_revision"] == backup.schema_revision(session)
    assert document["exported_by"].startswith("mltrl-dashboard ")


def test_the_file_is_one_row_per_line_with_json_values(session: Session) -> None:
    demo.load_demo(session=session, actor=TESTER)
    add_accounts(session)
    data = backup.export_backup(session=session, actor=ADMIN)
    lines = data.decode("utf-8").split("\n")
    assert lines[0].startswith('{"checksum":"sha256:') and lines[0].endswith('"tables":[')
    assert data.endswith(b"\n]}\n")
    document = json.loads(data)
    tables = {t["name"]: t for t in document["tables"]}
    assert sum(1 for line in lines if line.startswith("[")) == sum(len(t["rows"]) for t in tables.values())

    def rows(name: str) -> list[dict]:
        return [dict(zip(tables[name]["columns"], r)) for r in tables[name]["rows"]]

    ada = next(u for u in rows("appuser") if u["name"] == "ada")
    assert ada["password_hash"].startswith("$argon2")  # a restore keeps the accounts working
    assert ada["disabled"] is False
    assert datetime.fromisoformat(ada["created_at"]).utcoffset() == timedelta(0)
    assert ada["created_at"].endswith("+00:00")
    assert next(u for u in rows("appuser") if u["name"] == "eve")["password_hash"] is None
    assert next(u for u in rows("appuser") if u["name"] == "rex")["disabled"] is True
    create = next(a for a in rows("auditentry") if a["entity"] == "project")
    assert create["before"] is None and isinstance(create["after"], dict)  # JSON columns as JSON
    assert [r["id"] for r in rows("project")] == sorted(r["id"] for r in rows("project"))


def test_export_writes_nothing(session: Session, engine: Engine) -> None:
    demo.load_demo(session=session, actor=TESTER)
    before = everything(engine)
    backup.export_backup(session=session, actor=TESTER)
    assert everything(engine) == before


def test_export_reads_one_consistent_state(session: Session, engine: Engine) -> None:
    """A write committed while the export runs is not half in the file."""
    demo.load_demo(session=session, actor=TESTER)
    seen: list[tuple[int, int]] = []

    def meanwhile(done: int, total: int) -> None:
        if not seen:  # someone else adds a technology after the export has started
            with db.session_scope(engine) as other:
                projects.add_project(session=other, actor=TESTER, code="LATE1", name="Late")
        seen.append((done, total))

    document = backup.export_document(session, TESTER, progress=meanwhile)
    rows = sum(len(t["rows"]) for t in document["tables"])
    assert seen[-1] == (rows, rows)
    assert all(total == rows for _, total in seen)
    codes = {r[1] for t in document["tables"] if t["name"] == "project" for r in t["rows"]}
    assert "LATE1" not in codes
    assert projects.find_project(session, "LATE1") is not None  # committed, just after the snapshot


# --- round trips -------------------------------------------------------------------------------


def test_demo_export_import_export_is_byte_identical(session: Session, engine: Engine,
                                                     restore_engine: Engine) -> None:
    demo.load_demo(session=session, actor=TESTER)
    add_accounts(session)
    first = export_from(engine, ADMIN)

    restored = import_into(restore_engine, first)

    assert restored == backup.inspect_backup(first).rows
    assert export_from(restore_engine, ADMIN) == first
    assert everything(restore_engine) == everything(engine)
    with db.session_scope(restore_engine) as s:
        assert users.authenticate(s, "ada", PASSWORD) is not None  # the hash came along
        assert users.authenticate(s, "rex", PASSWORD) is None      # and so did "disabled"
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == restored["auditentry"]


def test_a_large_portfolio_round_trips_byte_identically(session: Session, engine: Engine,
                                                        restore_engine: Engine) -> None:
    synthetic_portfolio(session, n=300)
    renamed = projects.get_project(session, "S0001")
    projects.update_project(session=session, actor=TESTER, code="S0001", name="Renamed",
                            expected_version=renamed.version)
    add_accounts(session)
    first = export_from(engine, ADMIN)
    info = backup.inspect_backup(first)
    assert info.rows["project"] == 300 and info.rows["levelevent"] > 1_000 and info.rows["appuser"] == 4
    ticks: list[tuple[int, int]] = []

    import_into(restore_engine, first, progress=lambda done, total: ticks.append((done, total)))

    assert export_from(restore_engine, ADMIN) == first
    assert ticks[0] == (0, info.total_rows) and ticks[-1] == (info.total_rows, info.total_rows)
    assert [d for d, _ in ticks] == sorted(d for d, _ in ticks)
    assert len(ticks) > 5  # the bar moves in steps, not all at once


def test_work_goes_on_after_a_restore_with_fresh_ids(session: Session, engine: Engine,
                                                     restore_engine: Engine) -> None:
    demo.load_demo(session=session, actor=TESTER)
    import_into(restore_engine, export_from(engine))
    with db.session_scope(restore_engine) as s:
        highest = s.execute(select(func.max(Project.id))).scalar_one()
        audits = s.execute(select(func.max(AuditEntry.id))).scalar_one()
        added = projects.add_project(session=s, actor=TESTER, code="NEW1", name="After the restore")
        assert added.id == highest + 1  # PostgreSQL's sequences were moved past the restored ids
        assert db.data_version(s) == audits + 1


def test_a_component_moved_under_a_newer_system_restores(session: Session, engine: Engine,
                                                         restore_engine: Engine) -> None:
    """A row may point at a row of its own table with a higher id (parent added later)."""
    old = projects.add_project(session=session, actor=TESTER, code="OLD1", name="Older component")
    new = projects.add_project(session=session, actor=TESTER, code="NEW9", name="Newer system")
    assert old.id < new.id
    projects.update_project(session=session, actor=TESTER, code="OLD1", parent_code="NEW9",
                            expected_version=old.version)
    first = export_from(engine)

    import_into(restore_engine, first)

    assert export_from(restore_engine) == first
    with db.session_scope(restore_engine) as s:
        assert projects.view_project(s, "OLD1").parent_code == "NEW9"


def test_okrs_round_trip_with_their_days_and_copies(session: Session, engine: Engine,
                                                   restore_engine: Engine) -> None:
    """Key results' due dates are calendar days (a ``date`` column); a copy names its objective."""
    projects.add_project(session=session, actor=TESTER, code="R02.1", name="BO")
    objective = okrs.add_objective(session=session, actor=TESTER, quarter="2027-Q4", title="Ship")
    kr = okrs.add_key_result(session=session, actor=TESTER, objective_id=objective.id, code="R02.1",
                             target_level=5, due="2027-11-15", note="Line one\nline two")
    okrs.check_in(session=session, actor=TESTER, key_result_id=kr.id, comment="Fine.", confidence=6)
    copy = okrs.copy_objective(session=session, actor=TESTER, objective_id=objective.id)
    first = export_from(engine)
    tables = {t["name"]: t for t in json.loads(first)["tables"]}
    assert [r[tables["keyresult"]["columns"].index("due")] for r in tables["keyresult"]["rows"]] == [
        "2027-11-15", "2028-02-15"]

    import_into(restore_engine, first)

    assert export_from(restore_engine) == first
    with db.session_scope(restore_engine) as s:
        (restored,) = okrs.objectives(s, "2028-Q1")
        assert restored.objective.copied_from_id == objective.id and restored.objective.id == copy.id
        assert okrs.key_result(s, kr.id).check_ins[0].comment == "Fine."


def test_an_empty_database_round_trips(engine: Engine, restore_engine: Engine) -> None:
    first = export_from(engine)
    assert import_into(restore_engine, first) == dict.fromkeys(backup.inspect_backup(first).rows, 0)
    assert export_from(restore_engine) == first


# --- refusals: nothing written -----------------------------------------------------------------


@pytest.fixture
def demo_file(session: Session, engine: Engine) -> bytes:
    demo.load_demo(session=session, actor=TESTER)
    return export_from(engine)


def refused(engine: Engine, data: bytes) -> InvalidInput:
    before = everything(engine)
    with pytest.raises(InvalidInput) as caught:
        import_into(engine, data)
    assert everything(engine) == before, "a refused import wrote something"
    return caught.value


def test_import_refuses_a_database_that_holds_rows(demo_file: bytes, engine: Engine) -> None:
    error = refused(engine, demo_file)
    assert error.field == "database"
    assert "restores into an empty database" in str(error)
    assert "rows in project" in str(error) or "in project" in str(error)


def test_import_refuses_a_database_holding_only_an_account(demo_file: bytes, restore_engine: Engine) -> None:
    with db.session_scope(restore_engine) as s:
        users.create_first_admin(session=s, actor=ADMIN, name="ada", password=PASSWORD)
    with db.session_scope(restore_engine) as s:
        before = everything(restore_engine)
        with pytest.raises(InvalidInput, match=r"1 in appuser"):
            backup.import_backup(session=s, actor=ADMIN, data=demo_file)
    assert everything(restore_engine) == before


def test_import_refuses_another_format_version(demo_file: bytes, restore_engine: Engine) -> None:
    error = refused(restore_engine, reseal(demo_file, lambda d: d.update(format_version=2)))
    assert str(error) == ("file: format_version 2 is not supported; this version of mltrl reads "
                          "format_version 1")


def test_import_refuses_a_file_that_is_not_a_backup(restore_engine: Engine) -> None:
    assert "not an MLTRL backup" in str(refused(restore_engine, b'{"technologies": []}'))
    assert "not an MLTRL backup" in str(refused(restore_engine, b'{"format": "csv"}'))
    assert "not an MLTRL backup" in str(refused(restore_engine, b"[1, 2, 3]"))


def test_import_refuses_a_file_with_one_character_changed(demo_file: bytes, restore_engine: Engine) -> None:
    lines = demo_file.split(b"\n")
    row = next(i for i, line in enumerate(lines) if line.startswith(b"[") and b"Visual" in line)
    lines[row] = lines[row].replace(b"Visual", b"Vizual", 1)
    error = refused(restore_engine, b"\n".join(lines))
    assert error.field == "file"
    assert "damaged" in str(error) and "checksum" in str(error)


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_import_refuses_a_truncated_file(demo_file: bytes, restore_engine: Engine, cut: float) -> None:
    error = refused(restore_engine, demo_file[: int(len(demo_file) * cut)])
    assert "damaged" in str(error) and "not valid JSON" in str(error) and "truncated" in str(error)


def test_import_refuses_a_file_that_is_not_text(restore_engine: Engine) -> None:
    assert "not UTF-8" in str(refused(restore_engine, b"\xff\xfe\x00garbage"))


def test_import_refuses_a_file_without_its_checksum(demo_file: bytes, restore_engine: Engine) -> None:
    document = json.loads(demo_file)
    del document["checksum"]
    assert "no checksum" in str(refused(restore_engine, json.dumps(document).encode()))


def test_import_refuses_rows_of_the_wrong_shape(demo_file: bytes, restore_engine: Engine) -> None:
    def drop_a_value(document: dict) -> None:
        next(t for t in document["tables"] if t["name"] == "project")["rows"][0].pop()

    error = refused(restore_engine, reseal(demo_file, drop_a_value))
    assert "row 1 of table project" in str(error)


def test_import_refuses_a_value_of_the_wrong_type(demo_file: bytes, restore_engine: Engine) -> None:
    def break_a_date(document: dict) -> None:
        table = next(t for t in document["tables"] if t["name"] == "levelevent")
        table["rows"][2][table["columns"].index("at")] = "last tuesday"

    error = refused(restore_engine, reseal(demo_file, break_a_date))
    assert "row 3 of table levelevent" in str(error)


def test_import_refuses_a_file_from_a_newer_schema(demo_file: bytes, restore_engine: Engine) -> None:
    error = refused(restore_engine, reseal(demo_file, lambda d: d.update(schema_revision="9999")))
    head = backup.inspect_backup(demo_file).schema_revision
    assert f"schema revision 9999, this database is at {head}" in str(error)
    assert "newer version of mltrl" in str(error) and "mltrl db upgrade" in str(error)


def test_import_refuses_a_file_from_an_older_schema(demo_file: bytes, restore_engine: Engine) -> None:
    error = refused(restore_engine, reseal(demo_file, lambda d: d.update(schema_revision="0001")))
    head = backup.inspect_backup(demo_file).schema_revision
    assert f"written at schema revision 0001, this database is at {head}" in str(error)
    assert "older schema" in str(error) and "mltrl db upgrade" in str(error)


def test_import_refuses_a_table_this_schema_lacks(demo_file: bytes, restore_engine: Engine) -> None:
    def add_table(document: dict) -> None:
        document["tables"].append({"name": "spaceship", "columns": ["id"], "rows": [[1]]})

    error = refused(restore_engine, reseal(demo_file, add_table))
    assert str(error) == "file: it holds tables this schema does not have: spaceship"


def test_import_refuses_a_column_this_schema_lacks(demo_file: bytes, restore_engine: Engine) -> None:
    def add_column(document: dict) -> None:
        table = next(t for t in document["tables"] if t["name"] == "projectowner")
        table["columns"].append("shoe_size")
        for row in table["rows"]:
            row.append(44)

    error = refused(restore_engine, reseal(demo_file, add_column))
    assert "table projectowner does not match this schema" in str(error) and "shoe_size" in str(error)


def test_import_refuses_a_file_missing_a_table(demo_file: bytes, restore_engine: Engine) -> None:
    def drop_table(document: dict) -> None:
        document["tables"] = [t for t in document["tables"] if t["name"] != "levelevent"]

    assert "table levelevent is missing" in str(refused(restore_engine, reseal(demo_file, drop_table)))


def duplicate_an_owner(document: dict) -> None:
    table = next(t for t in document["tables"] if t["name"] == "projectowner")
    table["rows"].append([999, *table["rows"][0][1:]])


def test_import_refuses_rows_breaking_a_unique_key_naming_the_row(demo_file: bytes,
                                                                   restore_engine: Engine) -> None:
    owners = len(next(t for t in json.loads(demo_file)["tables"] if t["name"] == "projectowner")["rows"])
    error = refused(restore_engine, reseal(demo_file, duplicate_an_owner))
    assert f"row {owners + 1} of table projectowner, project_id+name:" in str(error)
    assert "appears in an earlier row too" in str(error)


def test_a_row_the_database_refuses_rolls_back_the_tables_before_it(demo_file: bytes, restore_engine: Engine,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The last net: a row only the database refuses (here: the checks across rows switched off)
    ends in a refusal naming the table, and the tables already inserted roll back."""
    from mltrl.services import backup_rows

    monkeypatch.setattr(backup_rows, "_across_rows", lambda tables, problems: None)
    error = refused(restore_engine, reseal(demo_file, duplicate_an_owner))
    assert "a row of table projectowner breaks a rule of this schema" in str(error)
    assert sum(backup.row_counts(Session(restore_engine)).values()) == 0


# --- permissions ---------------------------------------------------------------------------------


def test_with_accounts_only_an_admin_may_export_import_or_copy(session: Session, engine: Engine,
                                                             tmp_path: Path) -> None:
    demo.load_demo(session=session, actor=TESTER)
    add_accounts(session)
    data = export_from(engine, ADMIN)
    before = everything(engine)
    for actor, needed in ((VIEWER, "viewer"), (Actor("nobody"), "no account")):
        with pytest.raises(PermissionDenied, match=needed):
            backup.export_backup(session=session, actor=actor)
        with pytest.raises(PermissionDenied, match=needed):
            backup.import_backup(session=session, actor=actor, data=data)
    assert everything(engine) == before
    with pytest.raises(PermissionDenied, match="admin role"):
        backup.export_document(session, VIEWER)


def test_single_user_mode_lets_anyone_export_and_import(demo_file: bytes, restore_engine: Engine) -> None:
    """No accounts: anyone acting may; a restore brings the file's accounts (and roles) along."""
    import_into(restore_engine, demo_file, actor=Actor("whoever"))
    assert export_from(restore_engine, Actor("someone else")) == demo_file


def test_import_is_a_registered_write_service_without_an_audit_row(demo_file: bytes,
                                                                   restore_engine: Engine) -> None:
    from mltrl.services import WRITE_SERVICES

    assert backup.import_backup in WRITE_SERVICES
    import_into(restore_engine, demo_file)
    with db.session_scope(restore_engine) as s:
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == \
            backup.inspect_backup(demo_file).rows["auditentry"]


# --- the live SQLite copy ------------------------------------------------------------------------


def sqlite_rows(path: Path) -> dict[str, list[tuple]]:
    copy = create_engine(f"sqlite:///{path}", poolclass=NullPool)  # no pragmas: leave the file as it is
    try:
        return everything(copy)
    finally:
        copy.dispose()


def test_backup_sqlite_copies_the_live_database(sqlite_url: str, tmp_path: Path) -> None:
    engine = db.get_engine(sqlite_url)
    try:
        with db.session_scope(engine) as s:
            demo.load_demo(session=s, actor=TESTER)
        target = tmp_path / "copies" / "nightly.db"
        with db.session_scope(engine) as s:
            assert backup.backup_sqlite(session=s, actor=TESTER, path=target) == target
        assert sqlite_rows(target) == everything(engine)
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert not Path(f"{target}-wal").exists()
        assert sorted(p.name for p in target.parent.iterdir()) == ["nightly.db"]  # no temp file left
    finally:
        db.dispose_engines()


def test_backup_sqlite_refuses_an_existing_path_unless_forced(sqlite_url: str, tmp_path: Path) -> None:
    engine = db.get_engine(sqlite_url)
    try:
        target = tmp_path / "copy.db"
        target.write_bytes(b"precious")
        with db.session_scope(engine) as s:
            with pytest.raises(InvalidInput, match="already exists; .*--force") as caught:
                backup.backup_sqlite(session=s, actor=TESTER, path=target)
            assert caught.value.field == "path"
            assert target.read_bytes() == b"precious"
            with pytest.raises(InvalidInput, match="the live database itself"):
                backup.backup_sqlite(session=s, actor=TESTER, path=db.make_url(sqlite_url).database, force=True)
            backup.backup_sqlite(session=s, actor=TESTER, path=target, force=True)
        assert sqlite_rows(target) == everything(engine)
    finally:
        db.dispose_engines()


def test_backup_sqlite_refuses_postgresql() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected
    refusal = r"copies SQLite databases.*mltrl export FILE.json.*pg_dump"
    with Session(engine) as s, pytest.raises(InvalidInput, match=refusal):
        backup.backup_sqlite(session=s, actor=TESTER, path="/nonexistent/copy.db")


def test_backup_sqlite_is_for_admins_once_accounts_exist(sqlite_url: str, tmp_path: Path) -> None:
    engine = db.get_engine(sqlite_url)
    try:
        with db.session_scope(engine) as s:
            add_accounts(s)
            with pytest.raises(PermissionDenied, match="vic is a viewer"):
                backup.backup_sqlite(session=s, actor=VIEWER, path=tmp_path / "copy.db")
            assert not (tmp_path / "copy.db").exists()
            backup.backup_sqlite(session=s, actor=ADMIN, path=tmp_path / "copy.db")
        assert (tmp_path / "copy.db").exists()
    finally:
        db.dispose_engines()


# --- the command line --------------------------------------------------------------------------


def cli(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MLTRL_USER", "cli-user")
    yield
    db.dispose_engines()


def test_cli_export_then_import_into_an_empty_database(cli_env: None, db_url: str, restore_url: str,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("demo", "load").exit_code == 0
    file = tmp_path / "out" / "backup.json"

    exported = cli("export", str(file))
    assert exported.exit_code == 0, exported.output
    assert "exported" in exported.stdout and "schema revision" in exported.stdout
    assert "password hashes" in exported.stderr
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert "password hashes" in cli("export", "--help").stdout

    again = cli("export", str(file))
    assert again.exit_code == 1 and "already exists" in again.stderr and "--force" in again.stderr
    assert cli("export", str(file), "--force").exit_code == 0

    monkeypatch.setenv("MLTRL_DATABASE_URL", restore_url)
    imported = cli("import", str(file))
    assert imported.exit_code == 0, imported.output
    counts = backup.inspect_backup(file.read_bytes()).rows
    assert f"restored {sum(counts.values())} rows from {file}" in imported.stdout
    for table, n in counts.items():
        assert any(line.split() == [table, str(n)] for line in imported.stdout.splitlines())
    assert "restoring" not in imported.stderr  # not a terminal: no progress bar frames in a log

    copy = tmp_path / "again.json"
    assert cli("export", str(copy)).exit_code == 0
    assert copy.read_bytes() == file.read_bytes()


def test_cli_import_refusals_exit_1_with_the_reason(cli_env: None, db_url: str, tmp_path: Path) -> None:
    assert cli("demo", "load").exit_code == 0
    file = tmp_path / "backup.json"
    assert cli("export", str(file)).exit_code == 0
    before = everything(db.get_engine(db_url))

    full = cli("import", str(file))
    assert full.exit_code == 1
    assert "error: database: import restores into an empty database" in full.stderr

    damaged = tmp_path / "damaged.json"
    damaged.write_bytes(file.read_bytes()[:-100])
    result = cli("import", str(damaged))
    assert result.exit_code == 1 and "error: file: the backup file is damaged" in result.stderr

    missing = cli("import", str(tmp_path / "nowhere.json"))
    assert missing.exit_code == 1 and "error: file: cannot read" in missing.stderr
    assert everything(db.get_engine(db_url)) == before


def test_cli_import_as_a_viewer_is_refused(cli_env: None, db_url: str, tmp_path: Path) -> None:
    with db.session_scope(db.get_engine(db_url)) as s:
        add_accounts(s)
    assert cli("--as", "ada", "export", str(tmp_path / "b.json")).exit_code == 0
    result = cli("--as", "vic", "export", str(tmp_path / "c.json"))
    assert result.exit_code == 1 and "vic is a viewer" in result.stderr
    assert not (tmp_path / "c.json").exists()
    result = cli("--as", "vic", "import", str(tmp_path / "b.json"))
    assert result.exit_code == 1 and "vic is a viewer" in result.stderr


def test_cli_db_backup_copies_sqlite(cli_env: None, sqlite_url: str, tmp_path: Path) -> None:
    assert cli("demo", "load").exit_code == 0
    target = tmp_path / "copy.db"

    result = cli("db", "backup", str(target))
    assert result.exit_code == 0, result.output
    assert f"to {target}" in result.stdout
    assert sqlite_rows(target) == everything(db.get_engine(sqlite_url))

    again = cli("db", "backup", str(target))
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert cli("db", "backup", str(target), "--force").exit_code == 0


def test_cli_db_backup_refuses_postgresql(cli_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLTRL_DATABASE_URL", "postgresql+psycopg://someone:secret@127.0.0.1:1/none")
    result = cli("db", "backup", str(tmp_path / "copy.db"))
    assert result.exit_code == 1
    assert "copies SQLite databases" in result.stderr and "pg_dump" in result.stderr
    assert "secret" not in result.stderr
    assert not (tmp_path / "copy.db").exists()
