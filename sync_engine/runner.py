"""Run the engine without any GUI: config, logging, clients, state, until stopped.

``apexapi --headless --config PATH`` lands here (the tray app drives the same engine).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import secrets
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from sync_engine.clients.apex import ApexClient
from sync_engine.clients.tracker import TrackerClient
from sync_engine.config import Config, data_dir_for, load_config
from sync_engine.dashboard.logbuffer import LogBuffer
from sync_engine.dashboard.serve import start_dashboard
from sync_engine.engine import SyncEngine
from sync_engine.state import EngineState

__all__ = ["build_engine", "run_headless", "setup_logging"]

log = logging.getLogger("apexapi")

STATE_FILE = "apexapi_state.json"
LOG_FILE = "apexapi.log"


def setup_logging(config: Config, config_path: Path) -> Path:
    """Rotating file in ``logs/`` (next to the config, or the user's data folder) + console."""
    folder = Path(config.log_dir) if config.log_dir else data_dir_for(config_path) / "logs"
    if not folder.is_absolute():
        folder = data_dir_for(config_path) / folder
    folder.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(config.log_level.upper())
    for handler in list(root.handlers):
        if handler.get_name() == "apexapi":
            root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(
        folder / LOG_FILE, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    console = logging.StreamHandler()
    for handler in (file_handler, console):
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.set_name("apexapi")
        root.addHandler(handler)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it would log every request URL
    return folder


def workstation_holder(state: EngineState) -> str:
    """This installation's lease holder name: the computer's name plus a stable install id."""
    install_id = state.meta("install_id")
    if install_id is None:
        install_id = secrets.token_hex(3)
        state.set_meta("install_id", install_id)
        state.flush()
    return f"{socket.gethostname()} ({install_id})"


@asynccontextmanager
async def build_engine(
    config: Config,
    state_path: Path | None,
    http: httpx.AsyncClient | None = None,
    config_dir: Path | None = None,
) -> AsyncIterator[SyncEngine]:
    """Clients, state and engine; the workbook and credentials resolve against ``config_dir``
    (default: the state file's folder)."""
    own_http = http is None
    client = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
    state = EngineState(state_path)
    try:
        engine = SyncEngine(
            config,
            TrackerClient(client, config.dashboard_url, config.dashboard_api_key),
            ApexClient(client, config.api_base_url, config.api_token),
            state,
            holder=workstation_holder(state),
            config_dir=config_dir or (state_path.parent if state_path else Path()),
        )
        yield engine
    finally:
        state.flush()
        state.close()
        if own_http:
            await client.aclose()


async def run_headless(
    config_path: Path, *, on_ready: Callable[[SyncEngine], None] | None = None
) -> int:
    config = load_config(config_path)
    logs = setup_logging(config, config_path)
    log.info("ApexAPI engine starting; config %s; logs in %s", config_path, logs)
    log.info("config: %s", config.redacted())
    if not config.batch_inventory_sync.enabled:
        log.warning(
            "batch_inventory_sync.enabled is false: Apex quantities are not updated "
            "(connections are still checked)"
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows or outside the main thread: Ctrl-C still ends asyncio.run.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    recent = LogBuffer()
    logging.getLogger().addHandler(recent)
    state_path = data_dir_for(config_path) / STATE_FILE
    async with build_engine(config, state_path, config_dir=config_path.resolve().parent) as engine:
        dashboard = await start_dashboard(engine, recent, config.ui_port)
        # The key is printed, never logged: the log file may be read by others.
        print(f"ApexAPI dashboard: {dashboard.url}", flush=True)
        log.info(
            "dashboard on http://127.0.0.1:%s/ (its key is printed on the console)", dashboard.port
        )
        if on_ready is not None:
            on_ready(engine)
        try:
            await engine.run(stop)
        finally:
            await dashboard.stop()
            logging.getLogger().removeHandler(recent)
    log.info("ApexAPI engine stopped; state saved, lease released")
    return 0
