"""The PyInstaller Linux bundle: started under Xvfb, headless and with its window, it works."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningTracker, wait_until
from tests.fakes.screen import VirtualScreen, desktop_env
from tests.sync_engine.conftest import RunningApex
from tray_app.instance import NotRunning, send_command

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "dist" / "ApexAPI" / "ApexAPI"
SOURCES = ("sync_engine", "tray_app", "ui_html", "installer")


def newest_source() -> float:
    return max(p.stat().st_mtime for d in SOURCES for p in (ROOT / d).rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def bundle() -> Path:
    """``make bundle``'s output, rebuilt first when a source file is newer than it."""
    if not PROGRAM.exists() or PROGRAM.stat().st_mtime < newest_source():
        subprocess.run(["make", "bundle"], cwd=ROOT, check=True, capture_output=True, timeout=900)
    return PROGRAM


@pytest.fixture(scope="module")
def screen() -> Iterator[VirtualScreen]:
    with VirtualScreen() as running:
        yield running


def config_for(folder: Path, tracker: RunningTracker, apex: RunningApex) -> Path:
    path = folder / "apex_config.json"
    path.write_text(
        json.dumps(
            {
                "dashboard_url": tracker.base_url,
                "dashboard_api_key": tracker.api_key,
                "api_base_url": apex.base_url,
                "api_token": "sim-token",
                "batch_inventory_sync": {"enabled": True, "interval_seconds": 1},
                "auto_refresh_enabled": False,
            }
        )
    )
    return path


def test_bundle_headless_serves_dashboard_and_pushes(
    bundle: Path,
    screen: VirtualScreen,
    tracker: RunningTracker,
    apex: RunningApex,
    tmp_path: Path,
) -> None:
    """The bundled program, headless, pushes to Apex, serves its dashboard, stops on SIGTERM."""
    tracker.create("1A40603000123456", strain="Wedding Cake", grams=500)
    config = config_for(tmp_path, tracker, apex)
    process = subprocess.Popen(
        [str(bundle), "--headless", "--config", str(config)],
        env=desktop_env(screen, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("ApexAPI dashboard: http://127.0.0.1:")
        url = line.split(": ", 1)[1]
        page = httpx.get(url, follow_redirects=True, timeout=10)
        assert page.status_code == 200 and "<h1>ApexAPI</h1>" in page.text
        assert httpx.get(url.split("?")[0] + "api/status", timeout=10).status_code == 401
        wait_until(lambda: apex.state.quantity(1001) == 1000, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert process.returncode == 0
    assert "state saved, lease released" in (tmp_path / "logs" / "apexapi.log").read_text()


def test_bundle_window_shows_dashboard_and_quits(
    bundle: Path,
    screen: VirtualScreen,
    tracker: RunningTracker,
    apex: RunningApex,
    tmp_path: Path,
) -> None:
    """The bundled tray app opens its Qt window on the dashboard and quits with exit 0."""
    config = config_for(tmp_path, tracker, apex)
    process = subprocess.Popen(
        ["dbus-run-session", "--", str(bundle), "--config", str(config)],
        env=desktop_env(screen, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    folder = tmp_path / "data" / "apexapi"

    def shown() -> dict[str, object] | None:
        try:
            answer: dict[str, object] = json.loads(send_command(folder, "status"))
        except NotRunning:
            return None
        return answer if answer["heading"] == "ApexAPI" else None

    try:
        wait_until(shown, timeout=60, interval=0.2)
        quit_ = subprocess.run(
            [str(bundle), "--quit"],
            env=desktop_env(screen, tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert quit_.stdout.strip() == "ok: quitting"
        out = process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out


def test_bundle_does_not_carry_the_tracker_or_test_tools(bundle: Path) -> None:
    """Only the desktop app goes to workstations: no tracker service, no test frameworks."""
    internal = bundle.parent / "_internal"
    names = {p.name for p in internal.iterdir()}
    assert "ui_html" in names
    archive = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller.utils.cliutils.archive_viewer",
            "-l",
            "-r",
            str(bundle),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "tray_app.app" in archive and "sync_engine.engine" in archive
    assert "tracker_service" not in archive and "pytest" not in archive
