"""Fixtures for the engine: the Apex simulator on loopback, and engines in their own threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sync_engine.config import Config, decode_config
from sync_engine.engine import SyncEngine
from sync_engine.runner import build_engine
from tests.conftest import RunningTracker, ServerThread, wait_until
from tests.fakes.apex_seed import seed_apex
from tests.fakes.apex_sim import create_apex_app
from tests.fakes.apex_state import ApexState


@dataclass
class RunningApex:
    base_url: str  # what apex_config.json's api_base_url holds
    state: ApexState


@pytest.fixture
def apex() -> Iterator[RunningApex]:
    state = seed_apex(ApexState())
    with ServerThread(create_apex_app(state)) as url:
        yield RunningApex(f"{url}/api", state)


def engine_config(tracker: RunningTracker, apex: RunningApex, **sync: Any) -> Config:
    settings = {"enabled": True, "interval_seconds": 0.5, "mapping_ttl_seconds": 300} | sync
    return decode_config(
        msgspec.json.encode(
            {
                "dashboard_url": tracker.base_url,
                "dashboard_api_key": tracker.api_key,
                "api_base_url": apex.base_url,
                "api_token": "sim-token",
                "batch_inventory_sync": settings,
            }
        )
    )


class EngineThread:
    """A SyncEngine running in its own event loop and thread, as the headless app runs it."""

    def __init__(self, config: Config, state_path: Path | None, long_poll: float = 5.0) -> None:
        self.config = config
        self.state_path = state_path
        self.long_poll = long_poll
        self.engine: SyncEngine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.error: BaseException | None = None

    async def _main(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with build_engine(self.config, self.state_path) as engine:
                engine.long_poll_seconds = self.long_poll
                self.engine = engine
                await engine.run(self._stop)
        except BaseException as exc:  # surfaced by stop()
            self.error = exc
            raise

    def call(self, fn: Any) -> None:
        """Run ``fn(engine)`` on the engine's own loop (commands like pause, sync now)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(fn, self.engine)

    def __enter__(self) -> EngineThread:
        self._thread.start()
        wait_until(lambda: self.engine is not None or self.error is not None)
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
