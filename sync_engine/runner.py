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
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from sync_engine.clients.apex import ApexClient
from sync_engine.clients.tracker import TrackerClient
from sync_engine.config import Config, data_dir_for, load_config
from sync_engine.dashboard.logbuffer import LogBuffer
from sync_engine.dashboard.serve import Dashboard, start_dashboard
from sync_engine.engine import SyncEngine
from sync_engine.state import EngineState

__all__ = [
    "build_engine",
    "logs_dir",
    "run_headless",
    "serve_engine",
    "setup_logging",
    "start_logging",
]

log = logging.getLogger("apexapi")

STATE_FILE = "apexapi_state.json"
LOG_FILE = "apexapi.log"


def logs_dir(config: Config | None, config_path: Path) -> Path:
    """``log_dir`` from the config, else ``logs/`` next to the config (or the data folder)."""
    folder = Path(config.log_dir) if config and config.log_dir else Path("logs")
    return folder if folder.is_absolute() else data_dir_for(config_path) / folder


def setup_logging(config: Config | None, config_path: Path) -> Path:
    """Rotating file in ``logs/`` (next to the config, or the user's data folder) + console.

    ``config`` is None when the file is missing or invalid: the tray app still logs why."""
    folder = logs_dir(config, config_path)
    folder.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(config.log_level.upper() if config else "INFO")
    for handler in list(root.handlers):
        if handler.get_name() == "apexapi":
            root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(
        folder / LOG_FILE, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handlers: list[logging.Handler] = [file_handler]
    if sys.stderr is not None:  # None in a windowed Windows program: no console to write to
        handlers.append(logging.StreamHandler())
    for handler in handlers:
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


def start_logging(config_path: Path) -> Config:
    """Load the config, start the rotating log and say what this run will do."""
    config = load_config(config_path)
    logs = setup_logging(config, config_path)
    log.info("ApexAPI engine starting; config %s; logs in %s", config_path, logs)
    log.info("config: %s", config.redacted())
    if not config.batch_inventory_sync.enabled:
        log.warning(
            "batch_inventory_sync.enabled is false: Apex quantities are not updated "
            "(connections are still checked)"
        )
    return config


async def serve_engine(
    config: Config,
    config_path: Path,
    stop: asyncio.Event,
    on_ready: Callable[[SyncEngine, Dashboard], None],
) -> None:
    """Engine and dashboard until ``stop`` is set; state saved and lease released on the way out."""
    recent = LogBuffer()
    logging.getLogger().addHandler(recent)
    state_path = data_dir_for(config_path) / STATE_FILE
    try:
        async with build_engine(
            config, state_path, config_dir=config_path.resolve().parent
        ) as engine:
            dashboard = await start_dashboard(engine, recent, config.ui_port)
            log.info("dashboard on http://127.0.0.1:%s/ (its key is never logged)", dashboard.port)
            on_ready(engine, dashboard)
            try:
                await engine.run(stop)
            finally:
                await dashboard.stop()
    finally:
        logging.getLogger().removeHandler(recent)
    log.info("ApexAPI engine stopped; state saved, lease released")


async def run_headless(config_path: Path) -> int:
    config = start_logging(config_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows or outside the main thread: Ctrl-C still ends asyncio.run.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    def announce(engine: SyncEngine, dashboard: Dashboard) -> None:
        # The key is printed, never logged: the log file may be read by others.
        print(f"ApexAPI dashboard: {dashboard.url}", flush=True)

    await serve_engine(config, config_path, stop, announce)
    return 0
