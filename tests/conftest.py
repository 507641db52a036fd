"""Shared fixtures: a fresh, migrated database per test, on SQLite and on PostgreSQL.

Every test that asks for ``db_url`` (or ``engine``/``session``, which build on it) runs twice:
``test_x[sqlite]`` over a temp SQLite file and ``test_x[postgresql]`` over a fresh copy of a
migrated template database on a throwaway PostgreSQL server (``tests/pg.py``), started once per
session and stopped at its end. Tests about one backend ask for ``sqlite_url`` (SQLite only);
``empty_db_url`` is an unmigrated database on both (the migration tests start from nothing).

Without PostgreSQL's binaries the PostgreSQL half fails (never skips) and says to run
``make postgres``.

Builders in ``tests/factories.py`` go through the services, like a user would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine
from sqlmodel import Session

from mltrl import db
from mltrl.services import Actor
from tests.pg import PostgresServer, PostgresUnavailable

# One hypothesis profile for the whole suite, loaded before any test module builds its @settings:
# no deadline and no "too slow" health check, since CI runs on a busy 2-core machine and a test must
# not depend on the machine's speed; under CI=true the examples are also derandomised (the same run
# on every try), with the failing example's blob printed so a failure can be replayed locally.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of our own for the whole session (asked for lazily: only when a
    ``[postgresql]`` test runs)."""
    try:
        server = PostgresServer.start(spares=2)
    except PostgresUnavailable as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing:  # fail, never skip: a run without PostgreSQL tested only half the product
        where = "CI (CI=true)" if os.environ.get("CI", "").lower() == "true" else "this machine"
        pytest.fail(f"{missing} [on {where}]", pytrace=False)
    try:
        yield server
    finally:
        db.dispose_engines()
        server.stop()


@contextmanager
def _database(request: pytest.FixtureRequest, backend: str, tmp_path: Path, *, migrated: bool) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'mltrl.db'}"
        return
    pg: PostgresServer = request.getfixturevalue("pg_server")
    url = pg.fresh_database(migrated=migrated)
    try:
        yield url
    finally:
        db.dispose_engines()  # close this test's pooled connections before the drop
        pg.drop_database(url)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database URL, also exported as MLTRL_DATABASE_URL for the CLI and the app.

    SQLite: a new file, migrated on first use. PostgreSQL: a new database, already migrated (a
    copy of the template); ``get_engine`` finds it at head and migrates nothing.
    """
    with _database(request, request.param, tmp_path, migrated=True) as url:
        monkeypatch.setenv("MLTRL_DATABASE_URL", url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """For tests about SQLite itself (pragmas, the file's folder): a fresh SQLite file's URL."""
    url = f"sqlite:///{tmp_path / 'mltrl.db'}"
    monkeypatch.setenv("MLTRL_DATABASE_URL", url)
    return url


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database on each backend (for the migration tests)."""
    with _database(request, request.param, tmp_path, migrated=False) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = db.get_engine(db_url)
    yield eng
    db.dispose_engines()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with db.session_scope(engine) as s:
        yield s


@pytest.fixture
def actor() -> Actor:
    return Actor("tester")


@pytest.fixture(scope="session")
def mlflow_server():
    """A real MLflow tracking server for the session (``tests/mlflow_server.py``), started when a
    test first asks for it."""
    from tests.mlflow_server import mlflow_server_or_skip

    server = mlflow_server_or_skip()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mlflow_seed(mlflow_server):
    """Writes registry content (runs, models, versions, aliases) into the session's server."""
    from tests.mlflow_server import Seeder

    return Seeder(mlflow_server.uri)
