"""The tray icon: a coloured disc that follows the overall state, and its menu (docs/apexapi.md)."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Protocol

from PIL import Image, ImageDraw

from tray_app.x_tray import make_x_backend_safe

if TYPE_CHECKING:
    import pystray

__all__ = ["COLOURS", "MenuActions", "TrayIcon", "icon_image"]

log = logging.getLogger("apexapi.tray")

COLOURS = {"green": (34, 160, 72), "amber": (230, 160, 20), "red": (210, 45, 45)}
SIZE = 64


def icon_image(colour: str) -> Image.Image:
    """A filled disc in the state's colour with a white ring, readable at 16 px."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, SIZE - 3, SIZE - 3), fill=(255, 255, 255, 255))
    draw.ellipse((8, 8, SIZE - 9, SIZE - 9), fill=(*COLOURS[colour], 255))
    draw.rectangle((26, 20, 37, 43), fill=(255, 255, 255, 255))  # a bar: "one number, synced"
    return image


class MenuActions(Protocol):
    """What the tray menu calls; each returns at once (work happens on other threads)."""

    def open_dashboard(self) -> None: ...
    def open_in_browser(self) -> None: ...
    def sync_now(self) -> None: ...
    def toggle_pause(self) -> None: ...
    def refresh_mapping(self) -> None: ...
    def confirm_zeros(self) -> None: ...
    def open_logs(self) -> None: ...
    def edit_config(self) -> object: ...
    def quit(self) -> None: ...
    @property
    def engine_running(self) -> bool: ...
    @property
    def paused(self) -> bool: ...
    @property
    def held_back_zeros(self) -> int: ...


class TrayIcon:
    def __init__(self, actions: MenuActions) -> None:
        import pystray  # only the GUI needs it: --headless runs without it

        self._actions = actions
        item, separator = pystray.MenuItem, pystray.Menu.SEPARATOR

        def engine(_: pystray.MenuItem) -> bool:
            return actions.engine_running

        def pause_text(_: pystray.MenuItem) -> str:
            return "Resume Sync" if actions.paused else "Pause Sync"

        def zeros_text(_: pystray.MenuItem) -> str:
            count = actions.held_back_zeros
            return f"Push Held-Back Zeros ({count} batches)" if count else "No Zeros Held Back"

        def zeros_held(_: pystray.MenuItem) -> bool:
            return actions.engine_running and actions.held_back_zeros > 0

        menu = pystray.Menu(
            item("Open Dashboard", lambda: actions.open_dashboard(), default=True),
            item("Open in Browser", lambda: actions.open_in_browser(), enabled=engine),
            separator,
            item("Sync Now", lambda: actions.sync_now(), enabled=engine),
            item(pause_text, lambda: actions.toggle_pause(), enabled=engine),
            item("Refresh Mapping", lambda: actions.refresh_mapping(), enabled=engine),
            item(zeros_text, lambda: actions.confirm_zeros(), enabled=zeros_held),
            separator,
            item("Open Logs Folder", lambda: actions.open_logs()),
            item("Edit Config", lambda: actions.edit_config()),
            separator,
            item("Quit", lambda: actions.quit()),
        )
        self.icon: pystray.Icon = pystray.Icon(
            "ApexAPI", icon_image("amber"), "ApexAPI: starting", menu
        )
        make_x_backend_safe(self.icon)  # Linux: see tray_app/x_tray.py
        self.colour = "amber"
        self._failed = False
        self._stopping = False
        self._wanted: tuple[str, str] | None = None
        self._notices: list[tuple[str, str]] = []
        self._shown = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="apexapi-tray", daemon=True)
        self._updater = threading.Thread(
            target=self._apply_updates, name="apexapi-tray-update", daemon=True
        )

    def start(self) -> None:
        # A thread, not run_detached(): the xorg backend hangs in run_detached (ENVIRONMENT.md).
        self._thread.start()
        self._updater.start()

    @property
    def working(self) -> bool:
        return not self._failed

    def _run(self) -> None:
        def shown(icon: pystray.Icon) -> None:
            icon.visible = True  # docks the icon; only then may the updater change it
            self._shown.set()

        try:
            self.icon.run(setup=shown)
        except Exception:
            log.exception("the tray icon could not be shown; the window still works")
            self._failed = True
        finally:
            self._shown.set()

    def show_state(self, colour: str, reason: str) -> None:
        """Record the state and return at once; one updater thread draws it.

        pystray's X backend deadlocked when two threads (the window's and the engine's) updated
        the icon at the same moment, and the engine's thread must never wait on the tray."""
        with self._changed:
            self.colour = colour
            self._wanted = (colour, reason)
            self._changed.notify()

    def notify(self, title: str, message: str) -> None:
        """A notification (a Windows toast); the updater thread shows it. Where the tray
        cannot show one (the X backend), the dashboard and the log still carry it."""
        with self._changed:
            self._notices.append((title, message))
            self._changed.notify()

    def _show_notices(self, notices: list[tuple[str, str]]) -> None:
        if not notices or self._failed or not getattr(self.icon, "HAS_NOTIFICATION", False):
            return
        title, message = notices[-1]  # the newest: a burst of toasts helps nobody
        with contextlib.suppress(Exception):  # a toast that fails must not stop the icon
            self.icon.notify(message[:255], title[:63])

    def _apply_updates(self) -> None:
        # An update racing the first docking left the icon undocked now and then (X backend);
        # if docking has not happened within seconds (no tray host yet), the first update's
        # new image makes pystray look for the tray host again.
        self._shown.wait(3.0)
        drawn: str | None = None
        while True:
            with self._changed:
                while self._wanted is None and not self._notices and not self._stopping:
                    self._changed.wait()
                if self._stopping:
                    break
                wanted, self._wanted = self._wanted, None
                notices, self._notices = self._notices, []
            self._show_notices(notices)
            if self._failed or wanted is None:
                continue
            colour, reason = wanted
            try:
                if colour != drawn:  # redraw only on a real change
                    self.icon.icon = icon_image(colour)
                    drawn = colour
                self.icon.title = f"ApexAPI: {reason}"[:127]  # Windows caps tooltips at 128
                self.icon.update_menu()
            except Exception:  # a tray backend hiccup must never take the app down
                log.exception("the tray icon stopped updating; the window still works")
                self._failed = True
        with contextlib.suppress(Exception):  # from this thread too: never two at once
            self.icon.stop()

    def stop(self, timeout: float = 2.0) -> None:
        """Remove the icon; never hangs the exit (the threads are daemons)."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._shown.set()  # an icon that never showed must not hold the updater
        if self._updater.is_alive():
            self._updater.join(timeout)
            if self._updater.is_alive():
                # pystray's X backend sometimes never returns from stop(); exiting removes it.
                log.info("the tray icon did not go away in %.0f s; quitting anyway", timeout)
