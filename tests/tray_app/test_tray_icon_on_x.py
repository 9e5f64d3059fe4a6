"""The tray icon on a real X screen (Xvfb + trayer), in the app's own process layout."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.screen import VirtualScreen, desktop_env

HELPER = Path(__file__).with_name("x_round_trips.py")


@pytest.fixture(scope="module")
def screen() -> Iterator[VirtualScreen]:
    with VirtualScreen() as running:
        yield running


def test_icon_updates_never_freeze_a_window_waiting_on_x(
    screen: VirtualScreen, tmp_path: Path
) -> None:
    """pystray's X backend grabbed the X server while docking; PyQt, holding the GIL, waited
    for an X reply that never came, and the whole app froze at start-up about 1 time in 10.
    Here the icon changes colour hundreds of times while the main thread makes X round trips
    holding the GIL: it must finish, and the icon must still be docked in the tray."""
    done = subprocess.run(
        [sys.executable, str(HELPER), "3"],
        env=desktop_env(screen, tmp_path) | {"PYTHONPATH": str(Path.cwd())},
        capture_output=True,
        text=True,
        timeout=30,  # a deadlock fails here
    )
    assert done.returncode == 0, done.stderr
    docked, round_trips = done.stdout.split()[1], int(done.stdout.split()[3])
    assert docked == "True", done.stdout
    assert round_trips > 100
