"""A throwaway PostgreSQL server for the tests and the benchmark: Debian's binaries, a temporary
directory, a free loopback port.

* The binaries come from ``/usr/lib/postgresql/<version>/bin`` (the newest version present);
  ``make postgres`` installs Debian's ``postgresql`` package when there are none. The system
  cluster is never used or started.
* ``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` OS user
  (``runuser -u postgres --``) in a directory chowned to it.
* The cluster is made with ``--locale=C --encoding=UTF8 -A trust``: ``ORDER BY code`` sorts
  byte-wise, as SQLite does. It listens on 127.0.0.1 only, keeps its unix socket inside the
  temporary directory, and runs with ``fsync``, ``synchronous_commit`` and ``full_page_writes``
  off: a test server trades durability for speed.
* ``template_url()`` migrates one template database to head once; ``fresh_database()`` copies it
  (``CREATE DATABASE t_N TEMPLATE mltrl_template``) in a few milliseconds, and
  ``drop_database()`` removes a copy (``WITH (FORCE)``, so a connection left open cannot block it).
  With ``start(spares=N)`` (the tests) a background thread keeps N copies ready and drops used
  ones, so a test does not wait for CREATE DATABASE; the benchmark starts without spares.

Used by ``tests/conftest.py`` (session fixture ``pg_server``) and ``bench/writes.py``::

    with PostgresServer.start() as pg:
        url = pg.fresh_database()
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

PG_ROOT = "/usr/lib/postgresql"
OS_USER = "postgres"
TEMPLATE = "mltrl_template"
SUPERUSER = "mltrl"
INSTALL_HINT = (
    "PostgreSQL's server binaries are missing (no {root}/<version>/bin/initdb). "
    "The test suite runs every database test on SQLite and on PostgreSQL: run `make postgres` "
    "(it installs Debian's package: apt-get install postgresql), or `make test`, which does it."
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path:
    """The ``bin`` folder of the newest PostgreSQL installed under /usr/lib/postgresql."""
    found = []
    for initdb in glob.glob(f"{PG_ROOT}/*/bin/initdb"):
        version = Path(initdb).parent.parent.name
        key = tuple(int(p) for p in re.findall(r"\d+", version)) or (0,)
        found.append((key, Path(initdb).parent))
    if not found:
        raise PostgresUnavailable(INSTALL_HINT.format(root=PG_ROOT))
    return max(found)[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One running server; ``start()`` makes it, ``stop()`` (or leaving ``with``) ends it."""

    def __init__(self, bindir: Path, base: Path, port: int, spares: int = 0):
        self.bindir = bindir
        self.base = base
        self.data = base / "data"
        self.sockets = base / "sock"
        self.log = base / "server.log"
        self.port = port
        self._as_root = os.geteuid() == 0
        self._counter = itertools.count(1)
        self._template_ready = False
        self._stopped = False
        self._admin = None  # a psycopg connection to the ``postgres`` database, in autocommit
        self._admin_lock = threading.Lock()
        self.spares = spares
        self._spares: queue.Queue[str] = queue.Queue()
        self._to_drop: queue.Queue[str] = queue.Queue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._spare_thread: threading.Thread | None = None
        self._spare_error: Exception | None = None

    # --- life cycle -----------------------------------------------------------------------------

    @classmethod
    def start(cls, *, spares: int = 0, attempts: int = 3) -> PostgresServer:
        """Start a server; ``spares`` > 0 keeps that many migrated databases ready (tests)."""
        bindir = find_bindir()
        last: Exception | None = None
        for _ in range(attempts):  # a port taken between free_port() and the bind: try another
            base = Path(tempfile.mkdtemp(prefix="mltrl-pg-"))
            server = cls(bindir, base, free_port(), spares)
            try:
                server._init_and_start()
            except Exception as exc:
                last = exc
                server.stop()
                continue
            atexit.register(server.stop)
            return server
        raise RuntimeError(f"could not start PostgreSQL from {bindir}: {last}") from last

    def _run(self, *argv: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in argv]
        if self._as_root:
            cmd = ["runuser", "-u", OS_USER, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, cwd=self.base,
                              stdin=subprocess.DEVNULL)

    def _init_and_start(self) -> None:
        self.sockets.mkdir()
        if self._as_root:
            user = pwd.getpwnam(OS_USER)
            for path in (self.base, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
            self.base.chmod(0o700)
        try:
            self._run(self.bindir / "initdb", "-D", self.data, "--locale=C", "--encoding=UTF8",
                      "-A", "trust", "-U", SUPERUSER, "--no-sync")
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"initdb failed: {exc.stderr or exc.stdout}") from exc
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# tests/pg.py: a throwaway server for tests\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.sockets}'\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 200\n"
                "shared_buffers = 64MB\n"
                "log_min_messages = warning\n"
                "autovacuum = off\n"  # hundreds of short-lived databases: nothing worth vacuuming
                "jit = off\n"  # compiling a big query costs more than it saves here
                "wal_level = minimal\n"
                "max_wal_senders = 0\n"
            )
        proc = self._run(self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                         "start", check=False)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {proc.stderr or proc.stdout}\n{log}")

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        self._wake.set()
        if self._spare_thread is not None:
            self._spare_thread.join(timeout=30)
        if self._admin is not None:
            self._admin.close()
        if (self.data / "postmaster.pid").exists():
            self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- databases ------------------------------------------------------------------------------

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _connect(self):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                               autocommit=True)

    def admin(self, *statements: str) -> None:
        """Run statements on the ``postgres`` database, outside a transaction (CREATE DATABASE)."""
        with self._admin_lock:
            if self._admin is None or self._admin.closed:
                self._admin = self._connect()
            for sql in statements:
                self._admin.execute(sql)

    @property
    def major_version(self) -> int:
        return int(re.findall(r"\d+", self.bindir.parent.name)[0])

    def template_url(self) -> str:
        """The template database, migrated to head (the first call creates it)."""
        if not self._template_ready:
            from mltrl import db

            self.admin(f"CREATE DATABASE {TEMPLATE}")
            db.upgrade_db(self.url(TEMPLATE))  # NullPool: nothing stays connected to the template
            self._template_ready = True
        return self.url(TEMPLATE)

    def _create(self, conn, name: str, template: str) -> None:
        # FILE_COPY (PostgreSQL 15+) copies the files after a checkpoint: faster than the default
        # WAL_LOG for a small database, and checkpoints cost little with fsync off.
        strategy = " STRATEGY FILE_COPY" if self.major_version >= 15 else ""
        for attempt in range(40):
            try:
                conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}{strategy}")
                return
            except Exception as exc:  # the template is briefly in use (a connection closing)
                if "being accessed by other users" not in str(exc) or attempt == 39:
                    raise
                time.sleep(0.05)

    def fresh_database(self, *, migrated: bool = True, prefix: str = "t") -> str:
        """A new database (a copy of the migrated template, or empty) and its URL."""
        if migrated:
            self.template_url()
            if self.spares:
                return self.url(self._take_spare())
        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with self._admin_lock:
            if self._admin is None or self._admin.closed:
                self._admin = self._connect()
            self._create(self._admin, name, TEMPLATE if migrated else "template0")
        return self.url(name)

    def copy_database(self, template: str, *, prefix: str = "c") -> str:
        """A new database copied from ``template`` (one a test suite built, e.g. with the demo
        loaded) and its URL; drop it with ``drop_database``."""
        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with self._admin_lock:
            if self._admin is None or self._admin.closed:
                self._admin = self._connect()
            self._create(self._admin, name, template)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        if self._spare_thread is not None and self._spare_thread.is_alive():
            self._to_drop.put(name)  # dropped in the background, before the next spare is made
            self._wake.set()
            return
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    # --- spare databases, made in the background ---------------------------------------------------
    # With ``spares`` > 0 a thread keeps that many migrated copies ready and drops used ones, so a
    # test takes a database at once instead of waiting ~20-100 ms for CREATE DATABASE (the server
    # does that work on another core while the test runs).

    def _take_spare(self) -> str:
        if self._spare_thread is None:
            self._spare_thread = threading.Thread(target=self._spare_loop, name="pg-spares", daemon=True)
            self._spare_thread.start()
        self._wake.set()
        deadline = time.monotonic() + 120
        while True:
            try:
                name = self._spares.get(timeout=0.5)
                self._wake.set()
                return name
            except queue.Empty:
                if self._spare_error is not None:
                    raise RuntimeError(f"making a spare database failed: {self._spare_error}") \
                        from self._spare_error
                if not self._spare_thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("no spare database came in 120 s") from None

    def _spare_loop(self) -> None:
        try:
            conn = self._connect()
        except Exception as exc:
            self._spare_error = exc
            return
        try:
            while not self._stopping.is_set():
                while True:
                    try:
                        name = self._to_drop.get_nowait()
                    except queue.Empty:
                        break
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                if self._spares.qsize() < self.spares:
                    name = f"t_{os.getpid()}_{next(self._counter)}"
                    self._create(conn, name, TEMPLATE)
                    self._spares.put(name)
                    continue
                self._wake.wait(0.5)
                self._wake.clear()
        except Exception as exc:
            if not self._stopping.is_set():
                self._spare_error = exc
        finally:
            conn.close()
