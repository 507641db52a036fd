"""The one gateway to the database: settings, engines, sessions and migrations.

* ``MLTRL_DATABASE_URL`` picks the database (default ``sqlite:///data/mltrl.db``, relative to the
  working directory; its folder is created when missing). PostgreSQL URLs work the same way.
* SQLite connections run with WAL, foreign keys on, a 5 s busy timeout and ``synchronous=NORMAL``.
* ``get_engine`` migrates the database to the newest Alembic revision the first time a process
  asks for it, so the app and the CLI never run on an old schema.
* Sessions are short-lived, one per use case (``session_scope``); never cache a Session.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from mltrl import models
from mltrl.domain.policy import DEFAULT_CARD_STALE_DAYS

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"
DEFAULT_URL = "sqlite:///data/mltrl.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MLTRL_")

    database_url: str = DEFAULT_URL
    # A card not saved for more than this many days is stale (MLTRL_CARD_STALE_DAYS).
    card_stale_days: int = Field(default=DEFAULT_CARD_STALE_DAYS, ge=1, le=3650)
    # Where the dashboard is served (MLTRL_BASE_URL, e.g. https://mltrl.example.org): exported
    # cards link their cross-references there; without it they are marked but not linked.
    base_url: str = ""
    # Signs backups (MLTRL_BACKUP_KEY): when set, `export` adds an HMAC-SHA256 signature and
    # `import` refuses a file without a valid one (see docs/BACKUPS.md). Empty: unsigned backups.
    backup_key: SecretStr = SecretStr("")
    # The day a server lives on (MLTRL_TODAY, YYYY-MM-DD): for reproducible demos and screenshots,
    # with `mltrl demo load --as-of` the same day. Unset: the clock. Only server.py applies it.
    today: date | None = None


def settings() -> Settings:
    """The one settings object: read from the environment once and shared, until the ``MLTRL_``
    variables change (a test, or a CLI run with other options, sees its own values)."""
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("MLTRL_"))))


@functools.lru_cache(maxsize=8)
def _settings_for(environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


def database_url() -> str:
    return settings().database_url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def safe_url(url: str) -> str:
    """``url`` with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _ensure_sqlite_folder(url: str) -> None:
    db = make_url(url).database
    if db and db != ":memory:" and not db.startswith("file:"):
        Path(db).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, foreign_keys: bool = True, **kwargs) -> Engine:
    """A new engine for ``url``; SQLite gets the pragmas this project relies on."""
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
    engine = create_engine(url, **kwargs)
    if is_sqlite(url):
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    return engine


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_db(url: str, revision: str = "head") -> None:
    """Migrate ``url`` to ``revision``. On SQLite, foreign keys are off during the migration
    (batch table rebuilds need that) and checked afterwards."""
    engine = make_engine(url, foreign_keys=False, poolclass=NullPool)
    try:
        cfg = alembic_config(url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        if is_sqlite(url):
            with engine.connect() as conn:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
    finally:
        engine.dispose()


def schema_heads(connection) -> tuple[set[str], set[str]]:
    """The database's Alembic revisions and the code's heads: equal when the schema is current."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(ScriptDirectory.from_config(alembic_config(str(connection.engine.url))).get_heads())
    return current, heads


def downgrade_db(url: str, revision: str = "base") -> None:
    engine = make_engine(url, foreign_keys=False, poolclass=NullPool)
    try:
        cfg = alembic_config(url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
    finally:
        engine.dispose()


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (default: the configured one), migrated on first use."""
    url = url or database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            upgrade_db(url)
            engine = make_engine(url)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A short-lived session. Services commit; closing it ends (rolls back) anything left open,
    and the rows read stay readable after the block."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def data_version(session: Session) -> int:
    """A number that every write moves on: the newest audit row's id (every write is audited).

    Pages cache heavy reads keyed on it, so a rerun after a click does not recompute.
    """
    return session.exec(select(func.coalesce(func.max(models.AuditEntry.id), 0))).one()[0]
