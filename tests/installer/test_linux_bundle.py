"""The PyInstaller Linux bundle: started under Xvfb, headless and with its window, it works."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunningTracker, wait_until
from tests.fakes.screen import DesktopRun, VirtualScreen, app_status, desktop_env
from tests.installer.conftest import check_headless_run
from tests.sync_engine.conftest import RunningApex, write_engine_config

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


def test_bundle_headless_serves_dashboard_and_pushes(
    bundle: Path,
    screen: VirtualScreen,
    tracker: RunningTracker,
    apex: RunningApex,
    tmp_path: Path,
) -> None:
    """The bundled program, headless, pushes to Apex, serves its dashboard, stops on SIGTERM."""
    tracker.create("1A40603000123456", strain="Wedding Cake", grams=500)
    config = write_engine_config(tmp_path, tracker, apex)
    process = subprocess.Popen(
        [str(bundle), "--headless", "--config", str(config)],
        env=desktop_env(screen, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        check_headless_run(process, apex, timeout=30)
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
    config = write_engine_config(tmp_path, tracker, apex)

    def shown() -> bool:
        answer = app_status(tmp_path)
        return answer is not None and answer["heading"] == "ApexAPI"

    args = ("--config", str(config))
    with DesktopRun.started(screen, tmp_path, command=(str(bundle),), args=args) as app:
        wait_until(shown, timeout=60, interval=0.2)
        quit_ = subprocess.run(
            [str(bundle), "--quit"],
            env=desktop_env(screen, tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert quit_.stdout.strip() == "ok: quitting"
        code, out = app.wait(30)
        assert code == 0, out


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
