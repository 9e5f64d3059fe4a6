"""The real tray + window process under Xvfb: dashboard shown, one instance, hide, quit cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ARTIFACTS, RunningTracker, wait_until
from tests.fakes.screen import (
    DesktopRun,
    VirtualScreen,
    app_status,
    close_window,
    descendants,
    desktop_env,
    window_mapped,
)
from tests.sync_engine.conftest import RunningApex, write_engine_config
from tray_app.instance import send_command


def tray_shows(screen: VirtualScreen, colour: str) -> bool:
    """The tray icon is docked and drawn in ``colour`` (screen kept as an artifact)."""
    return screen.tray_pixels(colour, ARTIFACTS / f"tray_icon_{colour}.png") > 20


def green_lights(home: Path) -> list[str] | None:
    """The window's green connection lights, read from the page once both are green."""
    shown = app_status(home) or {}
    green = [text.split(": ", 1)[1] for text in shown.get("lights") or [] if "green" in text]
    return green if len(green) == 2 else None


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_tray_app_shows_dashboard_stays_single_and_quits_cleanly(
    screen: VirtualScreen, tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Dashboard in the window; closing hides; a 2nd launch shows it; Quit: exit 0, no leftover."""
    tracker.create("1A40603000123456", strain="Wedding Cake", grams=500)
    config = write_engine_config(tmp_path, tracker, apex)
    with DesktopRun.started(screen, tmp_path, args=("--config", str(config))) as app:
        now = wait_until(
            lambda: (
                (s := app_status(tmp_path))
                and s["page"] == "dashboard"
                and s["colour"] == "green"
                and s
            ),
            timeout=60,
            interval=0.2,
        )
        assert now["heading"] == "ApexAPI" and now["tray_icon"] and now["engine_running"]
        wait_until(lambda: apex.state.quantity(1001) == 1000, timeout=20)
        lights = wait_until(lambda: green_lights(tmp_path), timeout=10)
        assert lights == ["PreRollTracker\nConnected", "Apex Trading\nConnected"]
        time.sleep(1)  # let the web engine paint the frame the DOM already holds
        image = screen.screenshot(ARTIFACTS / "tray_dashboard.png")
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50  # drawn, not blank

        wait_until(lambda: tray_shows(screen, "green"), timeout=10)  # docked, green

        assert close_window(screen.display, "ApexAPI")
        assert app_status(tmp_path)["window_visible"] is False  # type: ignore[index]
        assert app.process.poll() is None  # hidden, not ended
        apex.state.tokens.clear()  # Apex now refuses the token: the icon must turn red
        tracker.client.post(
            "/api/finished-goods/1A40603000123456/apex-decrement",
            json={"sku": "singles_0_5g", "units": 10, "idempotency_key": "hidden-1"},
        ).raise_for_status()
        red = wait_until(lambda: (s := app_status(tmp_path)) and s["colour"] == "red" and s)
        assert "Apex Trading" in red["reason"]
        wait_until(lambda: tray_shows(screen, "red"), timeout=10)  # the tray turned red
        apex.state.tokens.add("sim-token")
        wait_until(lambda: apex.state.quantity(1001) == 990, timeout=30)  # still syncing
        wait_until(lambda: app_status(tmp_path)["colour"] == "green", timeout=10)  # type: ignore[index]
        wait_until(lambda: tray_shows(screen, "green"), timeout=10)

        second = DesktopRun(screen, tmp_path, args=("--config", str(config)))  # the shortcut
        code, out = second.wait(60)
        assert code == 0, out
        assert "already running; its window was brought forward" in out
        assert app_status(tmp_path)["window_visible"] is True  # type: ignore[index]
        assert wait_until(lambda: window_mapped(screen.display, "ApexAPI"), timeout=10)

        helpers = descendants(app.pid)
        assert helpers  # dbus-run-session, python, the web engine's processes
        quit_ = subprocess.run(
            [sys.executable, "-m", "tray_app", "--quit"],
            env=desktop_env(screen, tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert quit_.stdout.strip() == "ok: quitting", quit_.stderr
        code, out = app.wait(30)
        assert code == 0, out
    wait_until(lambda: not any(alive(pid) for pid in helpers), timeout=10)
    lease = tracker.client.post("/api/sync/lease", json={"holder": "someone-else"})
    assert lease.status_code == 200  # released on the way out
    log = (tmp_path / "logs" / "apexapi.log").read_text()
    assert "state saved, lease released" in log and "ApexAPI quit" in log
    assert not (tmp_path / "data" / "apexapi" / "instance.json").exists()


def test_missing_config_opens_set_up_page_and_starts_once_saved(
    screen: VirtualScreen, tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """No config, then a typo: a red set-up page naming each problem; a good config starts it."""
    config = tmp_path / "apex_config.json"
    with DesktopRun.started(screen, tmp_path, args=("--config", str(config))) as app:
        first = wait_until(
            lambda: (s := app_status(tmp_path)) and s["page"] == "first-run" and s,
            timeout=60,
            interval=0.2,
        )
        assert first["heading"] == "ApexAPI needs its settings"
        assert first["colour"] == "red" and "not found" in first["reason"]
        assert not first["engine_running"]
        screen.screenshot(ARTIFACTS / "tray_first_run.png")

        config.write_text('{"dashboard_url": "http://127.0.0.1:9", "dashbord_api_key": "x"}')
        typo = wait_until(
            lambda: (s := app_status(tmp_path)) and "dashbord_api_key" in s["reason"] and s,
            timeout=30,
            interval=0.2,
        )
        assert typo["page"] == "first-run" and typo["colour"] == "red"
        assert "unknown field `dashbord_api_key`" in typo["reason"]

        write_engine_config(tmp_path, tracker, apex)
        started = wait_until(
            lambda: (
                (s := app_status(tmp_path))
                and s["page"] == "dashboard"
                and s["heading"] == "ApexAPI"
                and s
            ),
            timeout=30,
            interval=0.2,
        )
        assert started["engine_running"]
        send_command(tmp_path / "data" / "apexapi", "quit")
        code, out = app.wait(30)
        assert code == 0, out
    assert os.path.exists(tmp_path / "logs" / "apexapi.log")


def test_without_a_web_view_it_keeps_syncing_and_uses_the_browser(
    screen: VirtualScreen, tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """No usable web view (Qt hidden here; WebView2 missing on Windows): the engine still runs
    from the tray, the dashboard opens in the browser, and Quit still exits 0."""
    tracker.create("1A40603000123456", strain="Wedding Cake", grams=500)
    config = write_engine_config(tmp_path, tracker, apex)
    hidden = tmp_path / "no-qt"
    for package in ("PyQt6", "qtpy"):
        (hidden / package).mkdir(parents=True)
        (hidden / package / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    opened = tmp_path / "browser.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    without_qt = {"PYTHONPATH": str(hidden), "BROWSER": str(browser)}
    with DesktopRun.started(
        screen, tmp_path, args=("--config", str(config)), env=without_qt
    ) as app:
        now = wait_until(
            lambda: (s := app_status(tmp_path)) and s["page"] == "browser" and s, timeout=60
        )
        assert now["engine_running"] and now["window_visible"] is False
        wait_until(lambda: apex.state.quantity(1001) == 1000, timeout=20)
        link = wait_until(lambda: opened.exists() and opened.read_text().strip(), timeout=10)
        assert link.startswith("http://127.0.0.1:") and "?key=" in link
        send_command(tmp_path / "data" / "apexapi", "quit")
        code, out = app.wait(30)
        assert code == 0, out
    assert "the dashboard window cannot open" in out
