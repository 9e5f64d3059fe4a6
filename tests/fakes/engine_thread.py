"""Run a SyncEngine on its own thread and event loop, as the headless app runs it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from sync_engine.config import Config
from sync_engine.dashboard.logbuffer import LogBuffer
from sync_engine.dashboard.serve import start_dashboard
from sync_engine.engine import SyncEngine
from sync_engine.runner import build_engine

__all__ = ["EngineThread"]


class EngineThread:
    """A SyncEngine running in its own event loop and thread, as the headless app runs it."""

    def __init__(
        self,
        config: Config,
        state_path: Path | None,
        *,
        long_poll: float = 5.0,
        change_feed: bool = True,
        dashboard: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        lease_ttl: float | None = None,
        setup: Callable[[SyncEngine], None] | None = None,
    ) -> None:
        self.config = config
        self.state_path = state_path
        self.long_poll = long_poll
        self.change_feed = change_feed
        self.with_dashboard = dashboard
        self.transport = transport
        self.lease_ttl = lease_ttl
        self.setup = setup
        self.dashboard_url: str | None = None
        self.dashboard_secret: str | None = None
        self.engine: SyncEngine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.error: BaseException | None = None

    async def _main(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            http = None
            if self.transport is not None:
                http = httpx.AsyncClient(transport=self.transport, timeout=10.0)
            async with build_engine(self.config, self.state_path, http) as engine:
                engine.long_poll_seconds = self.long_poll
                engine.use_change_feed = self.change_feed
                if self.lease_ttl is not None:
                    engine.lease.ttl = self.lease_ttl
                if self.setup is not None:
                    self.setup(engine)
                dashboard = None
                if self.with_dashboard:
                    dashboard = await start_dashboard(engine, LogBuffer())
                    self.dashboard_url = dashboard.url
                    self.dashboard_secret = dashboard.secret
                self.engine = engine
                try:
                    await engine.run(self._stop)
                finally:
                    if dashboard is not None:
                        await dashboard.stop()
            if http is not None:
                await http.aclose()
        except BaseException as exc:  # surfaced by stop()
            self.error = exc
            raise

    def call(self, fn: Any) -> None:
        """Run ``fn(engine)`` on the engine's own loop (commands like pause, sync now)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(fn, self.engine)

    def __enter__(self) -> EngineThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while self.engine is None and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=15)
        assert not self._thread.is_alive(), "engine did not stop"
        if self.error is not None:
            raise self.error

    def __exit__(self, *_: object) -> None:
        self.stop()
