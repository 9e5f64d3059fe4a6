"""A virtual X screen (Xvfb) with a tray host, for running the real desktop app in tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType

from PIL import Image, ImageGrab

__all__ = ["VirtualScreen", "close_window", "desktop_env"]


class VirtualScreen:
    """``Xvfb`` on a display it picks itself, plus ``trayer`` so the tray icon can dock."""

    def __init__(self, size: str = "1280x800x24") -> None:
        self.size = size
        self.display = ""
        self._processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> VirtualScreen:
        for program in ("Xvfb", "dbus-run-session", "trayer"):
            if shutil.which(program) is None:
                raise RuntimeError(f"{program} is missing: run `make desktop-deps` (apt packages)")
        read, write = os.pipe()
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", self.size, "-nolisten", "tcp"],
            pass_fds=(write,),
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        self._processes.append(xvfb)
        with os.fdopen(read) as pipe:
            self.display = f":{pipe.readline().strip()}"
        tray = subprocess.Popen(
            [
                "trayer",
                "--edge",
                "top",
                "--align",
                "right",
                "--height",
                "24",
                "--widthtype",
                "pixel",
                "--width",
                "120",
            ],
            env=os.environ | {"DISPLAY": self.display},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._processes.append(tray)
        time.sleep(0.3)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for process in reversed(self._processes):
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()

    def screenshot(self, path: Path) -> Image.Image:
        image = ImageGrab.grab(xdisplay=self.display)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        return image


def desktop_env(screen: VirtualScreen, home: Path) -> dict[str, str]:
    """Environment for one desktop-app run: its own screen, data and config folders."""
    return os.environ | {
        "DISPLAY": screen.display,
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "QT_QPA_PLATFORM": "xcb",
    }


def close_window(display: str, title: str) -> bool:
    """Ask the window titled ``title`` to close, as a window manager's close button does."""
    from Xlib import X, protocol  # pystray's own X library
    from Xlib import display as xdisplay

    screen = xdisplay.Display(display)
    try:
        delete = screen.intern_atom("WM_DELETE_WINDOW")
        protocols = screen.intern_atom("WM_PROTOCOLS")
        pending = [screen.screen().root]
        while pending:
            window = pending.pop()
            if window.get_wm_name() == title:
                event = protocol.event.ClientMessage(
                    window=window,
                    client_type=protocols,
                    data=(32, [delete, X.CurrentTime, 0, 0, 0]),
                )
                window.send_event(event, event_mask=X.NoEventMask)
                screen.flush()
                return True
            pending.extend(window.query_tree().children)
        return False
    finally:
        screen.close()
