"""SQLite access: one serialised writer, per-thread readers, schema migrations.

All SQL of the tracker goes through :class:`Database` and the feature repositories that take its
connections (``*/repository.py``), so a PostgreSQL backend can replace them without touching
services, routes or pages. A write that the storage cannot take (disk full, read-only file, I/O
error) is rolled back and raised as :class:`StorageUnavailable` (503); reads go on meanwhile.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeAlias, TypeVar

from preroll_contract import strain_key
from tracker_service.lib.errors import StorageUnavailable
from tracker_service.lib.schema import MIGRATIONS

__all__ = ["Conn", "Database", "FileCheck", "SchemaTooNew", "check_file", "copy_database"]

log = logging.getLogger(__name__)

#: What repositories take: a connection inside a transaction (writes) or a reader.
Conn: TypeAlias = sqlite3.Connection
P = ParamSpec("P")
T = TypeVar("T")

#: Primary result codes that mean "the storage cannot take this write now" (sqlite3.h).
_CAUSES = {
    5: ("busy", "the database is locked by another program; try again in a moment"),
    6: ("busy", "the database is locked by another program; try again in a moment"),
    8: (
        "read_only",
        "the database file is read-only: make it and its -wal and -shm files writable by the "
        "service user on the server",
    ),
    10: ("io_error", "the disk reported an I/O error; check the server's disk"),
    11: ("corrupt", "the database file is damaged; restore it from a backup"),
    13: ("disk_full", "the disk (or the database's size limit) is full; free space on the server"),
    14: ("cannot_open", "the database file cannot be opened; check that its folder exists"),
    22: ("disk_full", "the database file is too large for the file system"),
    26: ("corrupt", "the database file is damaged; restore it from a backup"),
}
#: Causes after which every connection is opened again: SQLite keeps a file it could only
#: open read-only read-only while any connection of the process still has it open.
_REOPEN = {"read_only", "cannot_open", "io_error"}


class SchemaTooNew(RuntimeError):
    """The database was written by a newer tracker than this one."""


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite gives its -wal and -shm
    files the same permissions), in a folder only the owner can list."""
    if path.exists() or str(path) == ":memory:":
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.create_function("strain_key", 1, strain_key, deterministic=True)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    # FULL: an acknowledged change survives power loss, not just a process crash.
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def storage_failure(exc: sqlite3.Error) -> StorageUnavailable | None:
    """The 503 error for a failure of the storage itself, None for anything else."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    cause = _CAUSES.get(code & 0xFF)
    if cause is None:
        return None
    kind, advice = cause
    return StorageUnavailable(
        f"the change was not saved: {advice} ({exc}). Reading still works.", cause=kind
    )


class Database:
    """A tracker database file. Writes are serialised; each one is a single transaction.

    Reads take a connection from a small pool (:meth:`read`, :meth:`query`); each connection
    belongs to a generation, and a storage failure that needs fresh file handles (a file that
    was read-only) starts a new one: older connections are closed as soon as they are idle.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        _create_private(self.path)
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = self._open_writer()
        self._generation = 0
        self._pool: list[tuple[int, sqlite3.Connection]] = []
        self._pool_lock = threading.Lock()
        self._migrate()
        # A connection that never writes: its data_version changes whenever anyone commits.
        self._watch_lock = threading.Lock()
        self._watcher: tuple[int, sqlite3.Connection] | None = None

    def _open_writer(self) -> sqlite3.Connection:
        conn = _connect(self.path)
        conn.execute("PRAGMA journal_mode = WAL")
        return conn

    def _migrate(self) -> None:
        assert self._writer is not None
        version = self._writer.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise SchemaTooNew(
                f"{self.path} has schema version {version}, newer than this tracker "
                f"({len(MIGRATIONS)}); upgrade preroll-tracker"
            )
        if version == len(MIGRATIONS):
            return  # nothing to write: a read-only file still opens for reading
        with self.transaction(migrating=True) as conn:
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self, *, migrating: bool = False) -> Iterator[Conn]:
        """One write transaction: committed on success, rolled back on any exception.

        A storage failure (also at COMMIT) leaves nothing half-written and raises
        :class:`StorageUnavailable`; the next write tries the storage again.
        """
        with self._write_lock:
            try:
                conn = self._writable()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:  # SQLite may have rolled back already
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                failure = storage_failure(exc)
                if failure is None or migrating:
                    raise
                log.error("write refused by the storage: %s", exc)
                if failure.extra["cause"] in _REOPEN and self._writer is not None:
                    self._writer.close()
                    self._writer = None
                raise failure from exc

    def _writable(self) -> sqlite3.Connection:
        """Under the write lock: the writer, opened again after a storage failure."""
        if self._writer is None:
            # Handles opened while the file was read-only would keep it read-only for the
            # whole process: close every idle one first.
            self._drop_readers()
            self._writer = self._open_writer()
        return self._writer

    def _drop_readers(self) -> None:
        """Close idle read connections and the watcher; busy ones close when handed back."""
        with self._pool_lock:
            self._generation += 1
            idle, self._pool = self._pool, []
        for _, conn in idle:
            conn.close()
        with self._watch_lock:
            if self._watcher is not None:
                self._watcher[1].close()
                self._watcher = None

    @contextmanager
    def read(self) -> Iterator[Conn]:
        """A read connection from the pool (WAL lets it read while a write is in progress)."""
        with self._pool_lock:
            generation = self._generation
            conn = self._pool.pop()[1] if self._pool else None
        if conn is None:
            conn = _connect(self.path)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            with self._pool_lock:
                fresh = generation == self._generation
                if fresh:
                    self._pool.append((generation, conn))
            if not fresh:
                conn.close()

    def query(self, fn: Callable[Concatenate[Conn, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(connection, ...)`` on a read connection: how services call their repositories."""
        with self.read() as conn:
            return fn(conn, *args, **kwargs)

    @contextmanager
    def snapshot(self) -> Iterator[Conn]:
        """A read connection inside one read transaction: every query sees one state."""
        with self.read() as conn:
            conn.execute("BEGIN")
            yield conn

    def data_version(self) -> int:
        """A number that changes after any commit, by this process or another one."""
        with self._watch_lock:
            if self._watcher is None:
                self._watcher = (self._generation, _connect(self.path))
            generation, watcher = self._watcher
            version = int(watcher.execute("PRAGMA data_version").fetchone()[0])
        # A new watcher counts from the start again: the generation keeps numbers unique.
        return generation << 40 | version

    def close(self) -> None:
        self._drop_readers()
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


class FileCheck:
    """What :func:`check_file` found: ``problem`` is None for a sound tracker database."""

    def __init__(self, schema_version: int, problem: str | None) -> None:
        self.schema_version = schema_version
        self.problem = problem


def copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup of ``source`` into a new file ``target`` (owner-only): a
    consistent copy as of one moment, taken while the service goes on writing."""
    _create_private(target)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    writer = sqlite3.connect(target, timeout=30)
    try:
        reader.backup(writer, pages=1024)
        # One self-contained file (no -wal beside it), whatever mode the source was in.
        writer.execute("PRAGMA journal_mode = DELETE")
    finally:
        writer.close()
        reader.close()


def check_file(path: Path) -> FileCheck:
    """``PRAGMA integrity_check`` and the schema version of a database file, read-only."""
    if not path.is_file():
        return FileCheck(0, f"{path} does not exist")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return FileCheck(0, f"{path} is not a readable SQLite database ({exc})")
    if rows != ["ok"]:
        return FileCheck(version, f"{path} fails SQLite's integrity check: {'; '.join(rows[:3])}")
    if version < 1 or "packages" not in tables:
        return FileCheck(version, f"{path} is not a PreRollTracker database")
    if version > len(MIGRATIONS):
        return FileCheck(
            version,
            f"{path} has schema version {version}, newer than this tracker ({len(MIGRATIONS)})",
        )
    return FileCheck(version, None)
