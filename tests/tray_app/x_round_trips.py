"""Run by test_tray_icon_on_x: the tray icon changes colour while this (main) thread makes X
round trips holding the GIL, as PyQt does while it creates or shows the window. Then it turns
the icon red, prints ``docked <bool> round-trips <n>`` and waits for a line on stdin (the test
looks at the tray meanwhile) before removing the icon. A deadlock never prints."""

from __future__ import annotations

import ctypes
import sys
import threading
import time

from tray_app.icon import TrayIcon


class Actions:
    engine_running = True
    paused = False

    def __getattr__(self, name: str) -> object:
        return lambda *args: None


def main(seconds: float) -> None:
    icon = TrayIcon(Actions())  # type: ignore[arg-type]  # the menu is not used here
    icon.start()
    x11 = ctypes.PyDLL("libX11.so.6")  # PyDLL keeps the GIL held during each call
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    display = x11.XOpenDisplay(None)
    done = threading.Event()

    def change_colours() -> None:
        for turn in range(1_000_000):
            if done.is_set():
                return
            icon.show_state(("green", "red")[turn % 2], "flipping")
            time.sleep(0.001)

    threading.Thread(target=change_colours, daemon=True).start()
    round_trips, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        x11.XSync(display, 0)
        round_trips += 1
    done.set()
    time.sleep(0.2)
    icon.show_state("red", "done")
    window = icon.icon._window  # type: ignore[attr-defined]
    docked = window.query_tree().parent != icon.icon._display.screen().root  # type: ignore[attr-defined]
    print(f"docked {docked} round-trips {round_trips}", flush=True)
    sys.stdin.readline()
    icon.stop()


if __name__ == "__main__":
    main(float(sys.argv[1]))
