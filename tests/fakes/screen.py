"""A virtual X screen (Xvfb) with a tray host, for running the real desktop app in tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from PIL import Image, ImageGrab

__all__ = [
    "DesktopRun",
    "VirtualScreen",
    "app_status",
    "close_window",
    "descendants",
    "desktop_env",
    "kill_group",
    "process_table",
    "window_mapped",
]


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
        self._wait_for_tray_host()
        return self

    def _wait_for_tray_host(self, timeout: float = 15.0) -> None:
        """pystray docks only if the tray host already owns the tray selection when the app
        starts (it does not retry), so the screen is ready only once trayer does."""
        from Xlib import X
        from Xlib import display as xdisplay

        screen = xdisplay.Display(self.display)
        try:
            selection = screen.intern_atom("_NET_SYSTEM_TRAY_S0")
            deadline = time.monotonic() + timeout
            while screen.get_selection_owner(selection) == X.NONE:
                if time.monotonic() > deadline:
                    raise RuntimeError("trayer did not take the system tray selection")
                time.sleep(0.05)
        finally:
            screen.close()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for process in reversed(self._processes):
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()

    def tray_pixels(self, colour: str, path: Path) -> int:
        """Pixels of a state's icon colour in the tray (trayer: the top-right corner); the
        screen is saved to ``path``."""
        from tray_app.icon import COLOURS

        image = self.screenshot(path).convert("RGB")
        corner = image.crop((image.width - 160, 0, image.width, 30))
        wanted = COLOURS[colour]
        return sum(
            count
            for count, rgb in corner.getcolors(1 << 16) or []
            if all(abs(a - b) <= 12 for a, b in zip(rgb, wanted, strict=True))
        )

    def screenshot(self, path: Path) -> Image.Image:
        image = ImageGrab.grab(xdisplay=self.display)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        return image


class DesktopRun:
    """One run of the desktop app in its own session bus and process group.

    Its output goes to a file, never to a pipe nobody reads (a full pipe would block the app
    mid-start); a test that fails while it runs gets that output and the app's log in its
    message, and the whole process group ended."""

    def __init__(
        self,
        screen: VirtualScreen,
        home: Path,
        command: Sequence[str] = (sys.executable, "-m", "tray_app"),
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.output_path = home / f"app-output-{time.monotonic_ns()}.txt"
        with self.output_path.open("wb") as output:
            self.process = subprocess.Popen(
                ["dbus-run-session", "--", *command, *args],
                env=desktop_env(screen, home) | (env or {}),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill_group ends all of it
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.output_path.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout: float = 30.0) -> tuple[int, str]:
        """Its exit code and everything it printed, once it has exited."""
        return self.process.wait(timeout), self.output()

    def report(self) -> str:
        """What it printed and the tail of its log: the message a failed test needs."""
        log = self.home / "logs" / "apexapi.log"
        tail = log.read_text(errors="replace")[-6000:] if log.exists() else "(no log file)"
        return (
            f"--- app output ---\n{self.output()[-6000:]}\n--- apexapi.log (end) ---\n{tail}\n"
            f"--- its Python threads ---\n{self.thread_dump()}"
        )

    def thread_dump(self) -> str:
        """Every thread's stack in the app's Python process (py-spy), to see where it hangs."""
        spy = Path(sys.executable).with_name("py-spy")
        table = process_table()
        pythons = [
            pid
            for pid in descendants(self.pid, table)
            if _program(pid).startswith(("python", "apexapi"))
        ]
        if not spy.exists() or not pythons:
            return "(py-spy or the process is missing)"
        dumps = []
        for pid in pythons:
            done = subprocess.run(
                [str(spy), "dump", "--native", "--pid", str(pid)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            dumps.append(done.stdout + done.stderr)
        return "\n".join(dumps)

    @classmethod
    @contextlib.contextmanager
    def started(cls, *args: Any, **kwargs: Any) -> Iterator[DesktopRun]:
        run = cls(*args, **kwargs)
        try:
            yield run
        except Exception as exc:
            report = run.report()  # before ending it: the thread dump needs it alive
            kill_group(run.process)
            raise AssertionError(f"{exc}\n{report}") from exc
        finally:
            if run.process.poll() is None:  # the test ended without quitting it
                kill_group(run.process)


def kill_group(process: subprocess.Popen[Any]) -> None:
    """End a desktop run started with ``start_new_session=True`` and everything it started
    (dbus-run-session's child, the web engine's helpers), so no pipe is left held open."""
    if process.poll() is None or _group_alive(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def app_status(home: Path, timeout: float = 10.0) -> dict[str, Any] | None:
    """``apexapi --status`` of the app run with ``desktop_env(screen, home)``; None if none."""
    from tray_app.instance import ControlCommand, NotRunning, send_command

    try:
        answer: dict[str, Any] = json.loads(
            send_command(home / "data" / "apexapi", ControlCommand.STATUS, timeout=timeout)
        )
    except NotRunning:
        return None
    return answer


def process_table() -> dict[int, tuple[int, int]]:
    """Every process: pid -> (parent pid, user + system CPU in clock ticks)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # ended while we looked
            table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def descendants(pid: int, table: dict[int, tuple[int, int]] | None = None) -> set[int]:
    """Every process below ``pid`` (a web view's helper processes included)."""
    children: dict[int, list[int]] = {}
    for child, (parent, _) in (table or process_table()).items():
        children.setdefault(parent, []).append(child)
    found, pending = set(), [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def _program(pid: int) -> str:
    """The file name of the program ``pid`` runs ("" if it has ended)."""
    try:
        return Path(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()).name
    except OSError:
        return ""


def desktop_env(screen: VirtualScreen, home: Path) -> dict[str, str]:
    """Environment for one desktop-app run: its own screen, data and config folders."""
    return os.environ | {
        "DISPLAY": screen.display,
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "QT_QPA_PLATFORM": "xcb",
    }


def close_window(display: str, title: str, timeout: float = 15.0) -> bool:
    """Click the window's close button, as a window manager would: send WM_DELETE_WINDOW.

    True once the window is no longer shown (hidden or gone). Without a window manager an
    early request is now and then dropped, so it is sent again each second, as a user would
    click again."""
    from Xlib import X, protocol  # pystray's own X library
    from Xlib import display as xdisplay
    from Xlib.error import BadWindow

    screen = xdisplay.Display(display)
    try:
        delete = screen.intern_atom("WM_DELETE_WINDOW")
        protocols = screen.intern_atom("WM_PROTOCOLS")
        window = _find_window(screen, title)
        if window is None:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if window.get_attributes().map_state != X.IsViewable:
                    return True
                event = protocol.event.ClientMessage(
                    window=window,
                    client_type=protocols,
                    data=(32, [delete, X.CurrentTime, 0, 0, 0]),
                )
                window.send_event(event, event_mask=X.NoEventMask)
                screen.flush()
            except BadWindow:
                return True  # destroyed
            time.sleep(1.0)
        return False
    finally:
        screen.close()


def window_mapped(display: str, title: str) -> bool:
    """Whether the window titled ``title`` is on screen."""
    from Xlib import X
    from Xlib import display as xdisplay

    screen = xdisplay.Display(display)
    try:
        window = _find_window(screen, title)
        return window is not None and window.get_attributes().map_state == X.IsViewable
    finally:
        screen.close()


def _find_window(screen: Any, title: str) -> Any:
    pending = [screen.screen().root]
    while pending:
        window = pending.pop()
        # The tray icon is an X window of the same name: only a real (large) window counts.
        if window.get_wm_name() == title and window.get_geometry().width >= 200:
            return window
        pending.extend(window.query_tree().children)
    return None
