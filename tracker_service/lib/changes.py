"""The change feed: every committed package change gets a sequence number (the cursor).

Writers append rows inside their transaction and call :meth:`ChangeSignal.notify` after the
commit; long-polling readers wait on the signal instead of polling the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading

__all__ = ["ChangeSignal", "append_change", "changes_since", "current_cursor"]


def append_change(conn: sqlite3.Connection, metrc_number: str, kind: str, at: str) -> None:
    conn.execute(
        "INSERT INTO changes (metrc_number, kind, at) VALUES (?, ?, ?)", (metrc_number, kind, at)
    )


def current_cursor(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(seq) FROM changes").fetchone()
    return int(row[0] or 0)


def changes_since(conn: sqlite3.Connection, since: int, limit: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT seq, metrc_number, kind FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
        (since, limit),
    ).fetchall()


class ChangeSignal:
    """Wakes every waiting coroutine when a change is committed (from any thread)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._lock = threading.Lock()
        #: Set when the server is stopping: waiting long-polls answer at once.
        self.closing = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._loop = loop
            self._event = asyncio.Event()

    def notify(self) -> None:
        with self._lock:
            loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def close(self) -> None:
        """The server is stopping: wake every waiter, and let none wait from now on."""
        self.closing = True
        self.notify()

    def _wake(self) -> None:
        if self._event is not None:
            event, self._event = self._event, asyncio.Event()
            event.set()

    def next_change(self) -> asyncio.Event:
        """An event set by the next notify; take it *before* looking for changes."""
        if self._event is None:
            self.bind(asyncio.get_running_loop())
        assert self._event is not None
        return self._event

    @staticmethod
    async def wait(event: asyncio.Event, timeout: float) -> None:
        """Return when ``event`` is set, or after ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
