"""Run the dashboard server inside the engine's event loop, on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator

import uvicorn

from sync_engine.dashboard.logbuffer import LogBuffer
from sync_engine.dashboard.server import create_dashboard_app
from sync_engine.engine import SyncEngine

__all__ = ["Dashboard", "start_dashboard"]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the app that runs the engine owns Ctrl-C and SIGTERM, not the dashboard


class Dashboard:
    def __init__(self, server: _Server, task: asyncio.Task[None], port: int, secret: str) -> None:
        self._server, self._task = server, task
        self.port, self.secret = port, secret

    @property
    def url(self) -> str:
        """The address to open; it carries this launch's key."""
        return f"http://127.0.0.1:{self.port}/?key={self.secret}"

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task


async def start_dashboard(engine: SyncEngine, logs: LogBuffer, port: int = 0) -> Dashboard:
    secret = secrets.token_urlsafe(24)
    config = uvicorn.Config(
        create_dashboard_app(engine, secret, logs),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(), name="dashboard")
    while not server.started:
        if task.done():
            task.result()  # raises the reason it could not start (e.g. the port is taken)
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return Dashboard(server, task, int(bound), secret)
