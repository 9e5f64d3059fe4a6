"""The change feed's wake-up: every committed package change gets a sequence number (the
cursor, kept by ``lib/repository.py``); writers call :meth:`ChangeSignal.notify` after the
commit, and long-polling readers wait on the signal instead of polling the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from tracker_service.lib.errors import TooManyRequests

__all__ = ["ChangeSignal", "WaitSlots"]


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


class WaitSlots:
    """At most ``per_caller`` long-polls waiting at once per API key (docs/api.md).

    ApexAPI keeps one; a caller stuck in a loop of new long-polls gets 429 instead of tying up
    the server. Used from the event loop only.
    """

    def __init__(self, per_caller: int = 4) -> None:
        self.per_caller = per_caller
        self._waiting: dict[str, int] = {}

    @contextlib.contextmanager
    def slot(self, caller: str) -> Iterator[None]:
        count = self._waiting.get(caller, 0)
        if count >= self.per_caller:
            raise TooManyRequests(
                f"{count} change-feed requests of this API key are already waiting; wait for "
                "one to answer before sending another",
                retry_after=1,
                code="too_many_waits",
            )
        self._waiting[caller] = count + 1
        try:
            yield
        finally:
            left = self._waiting[caller] - 1
            if left:
                self._waiting[caller] = left
            else:
                del self._waiting[caller]
