"""Run the sync engine and its dashboard on a background thread with its own event loop.

The tray menu and the window live on other threads: every command reaches the engine through
``loop.call_soon_threadsafe``, and the engine reports its overall colour back through a callback.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sync_engine.config import Config
from sync_engine.dashboard.serve import Dashboard
from sync_engine.engine import SyncEngine
from sync_engine.kinds import Command
from sync_engine.runner import serve_engine
from sync_engine.status import Notice, Overall, overall_state

__all__ = ["EngineHost", "EngineStartError"]

log = logging.getLogger("apexapi.tray")

#: The longest the tray waits for news before looking again anyway.
STATE_WAIT_SECONDS = 30.0


class EngineStartError(Exception):
    """The engine or its dashboard could not start; the message says why."""


class EngineHost:
    def __init__(
        self,
        config: Config,
        config_path: Path,
        on_state: Callable[[Overall], None],
        on_notice: Callable[[Notice], None] = lambda notice: None,
    ) -> None:
        self.config, self._config_path, self._on_state = config, config_path, on_state
        self._on_notice = on_notice
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._engine: SyncEngine | None = None
        self._error: BaseException | None = None
        self.dashboard_url: str | None = None
        self._dashboard: Dashboard | None = None
        self.paused = False
        self.held_back_zeros = 0
        self._thread = threading.Thread(target=self._main, name="apexapi-engine", daemon=True)

    def start(self, timeout: float = 30.0) -> str:
        """Start the engine; return the dashboard URL (with this launch's key) once it answers."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise EngineStartError(f"the engine did not start within {timeout:.0f} s")
        if self._error is not None or self.dashboard_url is None:
            raise EngineStartError(str(self._error or "the engine stopped while starting"))
        return self.dashboard_url

    def new_link(self) -> str | None:
        """A fresh one-time dashboard link (each link works once: a browser needs its own)."""
        return None if self._dashboard is None else self._dashboard.new_link()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and self.dashboard_url is not None

    def command(self, command: Command) -> None:
        """Have the engine do ``command``, on its own loop (engine commands are not
        thread-safe)."""
        loop, engine = self._loop, self._engine
        if loop is not None and engine is not None and not loop.is_closed():
            loop.call_soon_threadsafe(engine.command, command)

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self.command(Command.PAUSE if self.paused else Command.RESUME)

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop the engine cleanly (state flushed, lease released); False if it did not stop."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the engine thread -----------------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start() or logged; the thread must end
            self._error = exc
            log.exception("the sync engine stopped with an error")
            if self._ready.is_set():  # it had started: the icon must not stay green
                self._on_state(Overall("red", f"The sync engine stopped ({exc}); see the log"))
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        watcher: list[asyncio.Task[None]] = []

        def ready(engine: SyncEngine, dashboard: Dashboard) -> None:
            self._engine, self._dashboard, self.dashboard_url = engine, dashboard, dashboard.url
            watcher.append(asyncio.create_task(self._watch_state(engine), name="tray-state"))
            self._ready.set()

        try:
            await serve_engine(self.config, self._config_path, self._stop, ready)
        finally:
            for task in watcher:
                task.cancel()

    async def _watch_state(self, engine: SyncEngine) -> None:
        """Follow the engine's status as it changes (the store wakes this; nothing polls)."""
        store = engine.status_store
        last: Overall | None = None
        told: set[tuple[str, str, str]] | None = None
        while True:
            seen = store.version
            with store.inspect() as status:
                now = overall_state(status)
                self.paused = status.paused
                self.held_back_zeros = len(status.zero_batches)
                notices = list(status.notices)
            fresh = [n for n in notices if (n.kind, n.at, n.message) not in (told or set())]
            if told is None:
                fresh = notices  # those of this launch: none were shown yet
            told = {(n.kind, n.at, n.message) for n in notices}
            try:
                if now != last:
                    last = now
                    self._on_state(now)
                for notice in fresh:
                    self._on_notice(notice)
            except Exception:  # a tray backend hiccup must never stop the engine
                log.exception("could not update the tray icon")
            await store.changed_since(seen, STATE_WAIT_SECONDS)
