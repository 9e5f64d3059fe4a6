"""ApexAPI on the desktop: launch to dashboard shown, and CPU while nothing changes.

Runs the real tray app under Xvfb against a tracker process and the Apex simulator. Baseline,
measured in the same run: a bare pywebview window (same Qt web engine) showing a one-line page,
which is the least any webview app can cost.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._harness import publish
from bench.sync_engine import tracker
from simulators.apex.app import create_apex_app
from simulators.apex.seed import seed_apex
from simulators.apex.state import ApexState
from simulators.serve import ServerThread
from tests.fakes.screen import (
    DesktopRun,
    VirtualScreen,
    app_status,
    close_window,
    descendants,
    desktop_env,
    process_table,
)
from tray_app.instance import ControlCommand, send_command

RUNS = int(os.environ.get("BENCH_STARTUP_RUNS", "5"))
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "60"))
SETTLE_SECONDS = 10.0
TICK = os.sysconf("SC_CLK_TCK")

BARE_WINDOW = """
import sys, time, webview
window = webview.create_window("bare", html="<h1>bare</h1>", width=1100, height=720)
window.events.loaded += lambda: print(time.time(), flush=True)
webview.start(gui="qt")
"""


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and every process below it."""
    table = process_table()
    members = {pid} | descendants(pid, table)
    return sum(table[m][1] for m in members if m in table) / TICK


def idle_cpu_percent(pid: int, seconds: float) -> float:
    before, started = tree_cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (tree_cpu_seconds(pid) - before) / (time.monotonic() - started)


def write_config(folder: Path, tracker_url: str, key: str, apex_url: str) -> Path:
    path = folder / "apex_config.json"
    path.write_text(
        json.dumps(
            {
                "dashboard_url": tracker_url,
                "dashboard_api_key": key,
                "api_base_url": apex_url,
                "api_token": "sim-token",
                "batch_inventory_sync": {"enabled": True},  # defaults: 5 s cycle, 300 s mapping
                "order_refresh_seconds": 120,
            }
        )
    )
    return path


def wait(predicate: Callable[[], object], timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise RuntimeError("timed out; see app-output-*.txt in the run's folder")
        time.sleep(0.02)
    return value


def launch_app(screen: VirtualScreen, home: Path, config: Path) -> tuple[DesktopRun, float]:
    """Start the tray app; return it and seconds from launch until the dashboard rendered.
    Its output stays in ``home`` (bench/results/) for a failed launch."""
    started = time.time()
    app = DesktopRun(screen, home, args=("--config", str(config)))

    def rendered() -> dict[str, Any] | None:
        state = app_status(home, timeout=2)
        return state if state and state["heading"] == "ApexAPI" else None

    state = wait(rendered)
    return app, float(state["loaded_at"]) - started  # type: ignore[index]


def quit_app(home: Path, app: DesktopRun) -> None:
    send_command(home / "data" / "apexapi", ControlCommand.QUIT)
    app.wait(30)


def launch_bare(screen: VirtualScreen, home: Path) -> tuple[subprocess.Popen[str], float]:
    started = time.time()
    process = subprocess.Popen(
        ["dbus-run-session", "--", sys.executable, "-c", BARE_WINDOW],
        env=desktop_env(screen, home) | {"QTWEBENGINE_DISABLE_SANDBOX": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    return process, float(process.stdout.readline()) - started


def stop_bare(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(30)


def main() -> None:
    tmp = Path(__file__).parent / "results" / "desktop-run"  # kept: each launch's output
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with (
        VirtualScreen() as screen,
        ServerThread(create_apex_app(seed_apex(ApexState()))) as apex_url,
        tracker(tmp, [(f"1A40603000{i:06d}", "Wedding Cake", 500) for i in range(20)]) as (
            url,
            key,
        ),
    ):
        config = write_config(tmp, url, key, f"{apex_url}/api")
        ours, bare = [], []
        for run in range(RUNS):
            app, seconds = launch_app(screen, tmp / f"app{run}", config)
            ours.append(seconds)
            quit_app(tmp / f"app{run}", app)
            plain, seconds = launch_bare(screen, tmp / f"bare{run}")
            bare.append(seconds)
            stop_bare(plain)

        app, _ = launch_app(screen, tmp / "idle", config)
        time.sleep(SETTLE_SECONDS)
        app_cpu = idle_cpu_percent(app.pid, IDLE_SECONDS)
        assert close_window(screen.display, "ApexAPI")  # closing it leaves the tray running
        time.sleep(2)
        hidden_cpu = idle_cpu_percent(app.pid, IDLE_SECONDS)
        quit_app(tmp / "idle", app)
        plain, _ = launch_bare(screen, tmp / "bare-idle")
        time.sleep(SETTLE_SECONDS)
        bare_cpu = idle_cpu_percent(plain.pid, IDLE_SECONDS)
        stop_bare(plain)
        headless = subprocess.Popen(
            [sys.executable, "-m", "tray_app", "--headless", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(SETTLE_SECONDS)
        engine_cpu = idle_cpu_percent(headless.pid, IDLE_SECONDS)
        headless.terminate()
        headless.wait(30)

    p50, worst, base = statistics.median(ours), max(ours), statistics.median(bare)
    publish(
        "desktop",
        "\n".join(
            [
                f"ApexAPI desktop under Xvfb ({os.cpu_count()} cores), {RUNS} launches each",
                "Launch -> dashboard rendered in the window (target <= 2 s):",
                f"  ours p50 {p50:.2f} s, max {worst:.2f} s; bare pywebview window p50 {base:.2f} s"
                f" -> ours/bare {p50 / base:.2f}x",
                f"Idle CPU over {IDLE_SECONDS:.0f} s, nothing changing (target: engine < 1 %):",
                f"  engine alone (--headless) {engine_cpu:.2f} %",
                f"  tray app with its window open {app_cpu:.2f} %; bare pywebview window"
                f" {bare_cpu:.2f} % -> app minus bare {app_cpu - bare_cpu:.2f} points",
                f"  tray app with its window closed (tray only) {hidden_cpu:.2f} %",
            ]
        ),
    )


if __name__ == "__main__":
    main()
