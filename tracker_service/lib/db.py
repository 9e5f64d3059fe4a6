"""SQLite access: one serialised writer, per-thread readers, schema migrations.

All SQL of the tracker goes through :class:`Database` (and the repositories that take it), so a
PostgreSQL backend can replace this module without touching services or routes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tracker_service.lib.schema import MIGRATIONS

__all__ = ["Database", "SchemaTooNew"]


class SchemaTooNew(RuntimeError):
    """The database was written by a newer tracker than this one."""


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    # FULL: an acknowledged change survives power loss, not just a process crash.
    conn.execute("PRAGMA synchronous = FULL")
    return conn


class Database:
    """A tracker database file. Writes are serialised; each one is a single transaction."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.Lock()
        self._writer = _connect(self.path)
        self._writer.execute("PRAGMA journal_mode = WAL")
        self._local = threading.local()
        self._all_readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._migrate()
        # A connection that never writes: its data_version changes whenever anyone commits.
        self._watcher = _connect(self.path)

    def _migrate(self) -> None:
        with self._write_lock:
            version = self._writer.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise SchemaTooNew(
                    f"{self.path} has schema version {version}, newer than this tracker "
                    f"({len(MIGRATIONS)}); upgrade preroll-tracker"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                self._writer.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(script):
                        self._writer.execute(statement)
                    self._writer.execute(f"PRAGMA user_version = {number}")
                    self._writer.execute("COMMIT")
                except BaseException:
                    self._writer.execute("ROLLBACK")
                    raise

    @property
    def schema_version(self) -> int:
        return int(self.reader().execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (WAL lets it read while a write is in progress)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            self._local.conn = conn
            with self._readers_lock:
                self._all_readers.append(conn)
        return conn

    def data_version(self) -> int:
        """A number that changes after any commit, by this process or another one."""
        return int(self._watcher.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._all_readers:
                conn.close()
            self._all_readers.clear()
        self._watcher.close()
        with self._write_lock:
            self._writer.close()


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
