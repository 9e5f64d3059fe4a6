"""Run the dashboard server inside the engine's event loop, on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator

import uvicorn

from sync_engine.dashboard.logbuffer import LogBuffer
from sync_engine.dashboard.server import DashboardKeys, create_dashboard_app
from sync_engine.engine import SyncEngine
from sync_engine.errors import ConfigError

__all__ = ["Dashboard", "start_dashboard"]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the app that runs the engine owns Ctrl-C and SIGTERM, not the dashboard


class Dashboard:
    def __init__(
        self, server: _Server, task: asyncio.Task[None], port: int, keys: DashboardKeys
    ) -> None:
        self._server, self._task = server, task
        self.port, self._keys = port, keys
        #: The first link (printed or opened at start).
        self.url = self.new_link()

    @property
    def secret(self) -> str:
        """This launch's key, for programs on this computer (``X-Dashboard-Key``)."""
        return self._keys.secret

    def new_link(self) -> str:
        """An address to open once: its key is exchanged for a cookie, then it stops working
        (safe from any thread)."""
        return f"http://127.0.0.1:{self.port}/?key={self._keys.new_link_key()}"

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task


def _listen(port: int) -> socket.socket:
    """Bind here, not in uvicorn: a taken port then gives a sentence, not ``SystemExit(3)``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if os.name != "nt":  # a restart within TIME_WAIT may take its own port again (not on
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # Windows: it would steal)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"ui_port: 127.0.0.1:{port} cannot be used ({exc.strerror}); another program "
            "(or another ApexAPI) has it: set ui_port to 0 for any free port, or to another"
        ) from None
    return sock


async def start_dashboard(engine: SyncEngine, logs: LogBuffer, port: int = 0) -> Dashboard:
    keys = DashboardKeys()
    config = uvicorn.Config(
        create_dashboard_app(engine, keys, logs),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[_listen(port)]), name="dashboard")
    while not server.started:
        if task.done():
            task.result()  # raises the reason it could not start (e.g. the port is taken)
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return Dashboard(server, task, int(bound), keys)
