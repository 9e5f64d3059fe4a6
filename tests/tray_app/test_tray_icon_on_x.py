"""The tray icon on a real X screen (Xvfb + trayer), in the app's own process layout."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import ARTIFACTS, wait_until
from tests.fakes.screen import VirtualScreen, desktop_env

HELPER = Path(__file__).with_name("x_round_trips.py")


def test_icon_updates_never_freeze_a_window_waiting_on_x(
    screen: VirtualScreen, tmp_path: Path
) -> None:
    """pystray's X backend grabbed the X server while docking; PyQt, holding the GIL, waited
    for an X reply that never came, and the whole app froze at start-up about 1 time in 10.
    Here the icon changes colour hundreds of times while the main thread makes X round trips
    holding the GIL: it must finish, the icon must still be docked, and the last colour must
    show in the tray."""
    helper = subprocess.Popen(
        [sys.executable, str(HELPER), "3"],
        env=desktop_env(screen, tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert helper.stdout is not None and helper.stdin is not None
        ready = threading.Timer(30, helper.kill)  # a deadlock never prints: fail, not hang
        ready.start()
        said = helper.stdout.readline().split()
        ready.cancel()
        assert said[:1] == ["docked"], helper.communicate(timeout=10)[1]
        assert said[1] == "True" and int(said[3]) > 100, said
        # The last colour reached the tray: the icon still follows the state.
        wait_until(lambda: screen.tray_pixels("red", ARTIFACTS / "x_tray_red.png") > 20)
        _, errors = helper.communicate("\n", timeout=30)
    finally:
        if helper.poll() is None:
            helper.kill()
    assert helper.returncode == 0, errors


NO_EVENT_THREAD = """
import time
import tray_app.x_tray as x_tray
from tray_app.icon import TrayIcon
x_tray.DISPATCH_SECONDS = 0.5
icon = TrayIcon(object())  # never started: no X event thread will answer
started = time.monotonic()
try:
    icon.icon.visible = True  # what the icon's start-up does first
except TimeoutError as exc:
    print(f"{time.monotonic() - started:.1f} {exc}")
"""


def test_an_icon_whose_x_thread_never_answers_fails_in_time(
    screen: VirtualScreen, tmp_path: Path
) -> None:
    """An icon change the X event thread never answers ends in an error after the time limit
    (the app logs it; the window's lights stay the truth) instead of waiting forever."""
    done = subprocess.run(
        [sys.executable, "-c", NO_EVENT_THREAD],
        env=desktop_env(screen, tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    seconds, message = done.stdout.split(" ", 1)
    assert 0.4 <= float(seconds) < 5, done.stdout
    assert "did not answer _PYSTRAY__UPDATE_ICON within" in message, done.stderr
