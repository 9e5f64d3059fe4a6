"""The desktop app: tray icon + dashboard window over the sync engine, one per user.

Threads: the window owns the main thread (pywebview needs it), the engine runs on its own
loop (``EngineHost``), the tray icon and the control channel each on a daemon thread. Closing
the window hides it; Quit (menu or ``apexapi --quit``) stops the engine cleanly and exits 0.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import subprocess
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync_engine.config import config_template
from sync_engine.errors import ConfigError
from sync_engine.kinds import Command
from sync_engine.runner import logs_dir, setup_logging, start_logging
from sync_engine.status import Notice, Overall
from tray_app.engine_host import EngineHost, EngineStartError
from tray_app.instance import ControlCommand, ControlServer
from ui_html import UI_DIR

if TYPE_CHECKING:
    import webview

    from tray_app.icon import TrayIcon

__all__ = ["TrayApp", "first_run_html", "open_path"]

log = logging.getLogger("apexapi.tray")

WINDOW_SIZE = (1100, 720)  # fits a 1366x768 laptop screen
CONFIG_WATCH_SECONDS = 1.0
_READ_PAGE = """({
  heading: document.querySelector("h1").textContent,
  lights: Array.from(document.querySelectorAll(".light")).map(l => l.className + ": " + l.innerText)
})"""


def open_path(path: Path) -> None:
    """Open a folder in the file manager, a file in a text editor; a failure is logged."""
    try:
        if os.name == "nt":
            if path.is_dir():
                os.startfile(path)  # type: ignore[attr-defined]  # Windows only
            else:  # .json often has no editor associated; Notepad is always there
                subprocess.Popen(["notepad.exe", str(path)])
        else:
            opener = "open" if sys.platform == "darwin" else "xdg-open"
            subprocess.Popen([opener, str(path)], start_new_session=True)
    except OSError as exc:
        log.error("could not open %s (%s); open it by hand", path, exc)


def first_run_html(problem: str, config_path: Path) -> str:
    """The set-up page shown instead of the dashboard while the config is missing or invalid."""
    page = (UI_DIR / "first_run.html").read_text(encoding="utf-8")
    return page.replace("{{problem}}", html.escape(problem)).replace(
        "{{config_path}}", html.escape(str(config_path))
    )


class FirstRunApi:
    """What the set-up page's buttons call (pywebview exposes these public methods to JS)."""

    def __init__(self, app: TrayApp) -> None:
        self._app = app

    def edit_config(self) -> str:
        return self._app.edit_config()

    def check_again(self) -> str:
        return self._app.check_again()


class TrayApp:
    def __init__(
        self,
        config_path: Path,
        opener: Callable[[Path], None] = open_path,
        browse: Callable[[str], object] = webbrowser.open,
    ) -> None:
        self.config_path = config_path
        self._open, self._browse = opener, browse
        self.host: EngineHost | None = None
        self.problem: str | None = None
        self.overall = Overall("amber", "starting")
        self.window: webview.Window | None = None
        self.icon: TrayIcon | None = None
        self.window_visible = False
        self.page = "none"  # "dashboard" or "first-run" once the window has loaded one
        self.started_at = time.time()
        self.loaded_at: float | None = None
        self._quitting = False
        self._quit_requested = threading.Event()
        self._starting = threading.Lock()
        #: The notices shown this run (``apexapi --status`` lists them).
        self.notices: list[Notice] = []

    # -- the engine --------------------------------------------------------------------------

    def start_engine(self) -> str | None:
        """Start the engine from the config; the dashboard URL, or None (``problem`` says why)."""
        try:
            config = start_logging(self.config_path)
            self.host = EngineHost(config, self.config_path, self.show_state, self.show_notice)
            url = self.host.start()
        except (ConfigError, EngineStartError) as exc:
            self.host = None
            self.problem = str(exc)
            if isinstance(exc, ConfigError):
                setup_logging(None, self.config_path)
            log.error("ApexAPI cannot start the sync engine: %s", exc)
            self.show_state(Overall("red", f"Needs set-up: {exc}"))
            return None
        self.problem = None
        return url

    def show_state(self, overall: Overall) -> None:
        self.overall = overall
        if self.icon is not None:
            self.icon.show_state(overall.colour, overall.reason)

    def show_notice(self, notice: Notice) -> None:
        """A person is needed: a toast where the tray can show one (the log has it too)."""
        self.notices.append(notice)
        if self.icon is not None:
            self.icon.notify(notice.title, notice.message)

    # -- menu actions (tray_app.icon.MenuActions) ----------------------------------------

    @property
    def engine_running(self) -> bool:
        return self.host is not None and self.host.running

    @property
    def paused(self) -> bool:
        return self.host is not None and self.host.paused

    @property
    def held_back_zeros(self) -> int:
        """How many Apex batches a held-back cycle would set to 0 (0: nothing held back)."""
        return self.host.held_back_zeros if self.host is not None else 0

    def open_dashboard(self) -> None:
        if self.page == "browser":  # no web view on this machine: the browser shows it
            self.open_in_browser()
        elif self.window is not None:
            self.window.show()
            self.window.restore()
            self.window_visible = True

    def open_in_browser(self) -> None:
        link = self.host.new_link() if self.host is not None else None
        if link:
            self._browse(link)

    def sync_now(self) -> None:
        if self.host is not None:
            self.host.command(Command.SYNC_NOW)

    def toggle_pause(self) -> None:
        if self.host is not None:
            self.host.toggle_pause()

    def refresh_mapping(self) -> None:
        if self.host is not None:
            self.host.command(Command.REFRESH_MAPPING)

    def confirm_zeros(self) -> None:
        """A person confirms the held-back cycle (the dashboard lists its batches)."""
        if self.host is not None:
            self.host.command(Command.CONFIRM_ZERO)

    def open_logs(self) -> None:
        folder = logs_dir(self.host.config if self.host else None, self.config_path)
        folder.mkdir(parents=True, exist_ok=True)
        self._open(folder)

    def edit_config(self) -> str:
        """Open the config in the editor, creating it from the template when it is missing."""
        if not self.config_path.exists():
            self.config_path.parent.mkdir(parents=True, exist_ok=True)
            # It is going to hold the API key and token: readable by this user only.
            descriptor = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(config_template())
            log.info("created %s from the template", self.config_path)
        self._open(self.config_path)
        return f"Opened {self.config_path}: save it and ApexAPI starts by itself."

    def quit(self) -> None:
        self._quitting = True
        self._quit_requested.set()
        log.info("Quit chosen: stopping the sync engine")
        if self.window is not None:
            self.window.destroy()  # webview.start() returns on the main thread, which cleans up

    # -- the set-up page -----------------------------------------------------------------

    def check_again(self) -> str:
        if not self._starting.acquire(blocking=False):
            return "Already starting…"
        try:
            if self.engine_running:
                return "The engine is already running."
            url = self.start_engine()
            if url is None:
                return f"Still a problem: {self.problem}"
            if self.window is not None:
                self.window.load_url(url)
            return "Started; opening the dashboard…"
        finally:
            self._starting.release()

    def _watch_config(self) -> None:
        """While the set-up page shows, start as soon as the config file is saved again."""
        seen = _mtime(self.config_path)
        while not self._quitting and not self.engine_running:
            time.sleep(CONFIG_WATCH_SECONDS)
            now = _mtime(self.config_path)
            if now == seen:
                continue
            seen = now
            log.info("%s changed: checking it again", self.config_path)
            self.check_again()
            if self.problem is not None and self.window is not None:
                self.window.load_html(first_run_html(self.problem, self.config_path))

    # -- the window ------------------------------------------------------------------------

    def _on_closing(self) -> bool:
        if self._quitting:
            return True
        # Closing the window only hides it: the engine keeps syncing from the tray.
        log.info("window closed: hidden; ApexAPI keeps syncing (Quit is in the tray menu)")
        threading.Thread(target=self._hide, daemon=True).start()
        return False

    def _hide(self) -> None:
        if self.window is not None:
            self.window.hide()
            self.window_visible = False

    def _on_loaded(self) -> None:
        self.page = "dashboard" if self.engine_running else "first-run"
        if self.loaded_at is None:
            self.loaded_at = time.time()
            log.info(
                "window shows the %s %.2f s after launch",
                self.page,
                self.loaded_at - self.started_at,
            )

    def handle_command(self, command: ControlCommand) -> str:
        """Commands from a later launch (``apexapi``, ``apexapi --quit``) or a script."""
        match command:
            case ControlCommand.SHOW:
                self.open_dashboard()
                return "ok: window brought forward"
            case ControlCommand.QUIT:
                threading.Thread(target=self.quit, daemon=True).start()
                return "ok: quitting"
            case ControlCommand.STATUS:
                return json.dumps(self.describe())

    def describe(self) -> dict[str, Any]:
        shown = self._read_page() if self.page in ("dashboard", "first-run") else {}
        return {
            "heading": shown.get("heading"),
            "lights": shown.get("lights"),
            "colour": self.overall.colour,
            "reason": self.overall.reason,
            "engine_running": self.engine_running,
            "page": self.page,
            "window_visible": self.window_visible,
            "started_at": self.started_at,
            "loaded_at": self.loaded_at,
            "tray_icon": self.icon is not None and self.icon.working,
            "notices": [f"{n.title}: {n.message}" for n in self.notices[-5:]],
            "pid": os.getpid(),
        }

    def _read_page(self, timeout: float = 3.0) -> dict[str, Any]:
        """What the window shows, read from the page itself (proves the web view renders what
        the engine serves); {} while a page is loading: a status answer must never hang."""
        window = self.window
        answer: dict[str, Any] = {}
        if window is None:
            return {}

        def read() -> None:
            with contextlib.suppress(Exception):
                answer.update(window.evaluate_js(_READ_PAGE) or {})

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        return answer if not reader.is_alive() else {}

    def run(self, control: ControlServer) -> int:
        """Show everything and block until Quit; 0 when the engine stopped cleanly."""
        if sys.platform.startswith("linux") and os.geteuid() == 0:
            # Chromium's sandbox refuses to run as root (containers, CI); say so instead of dying.
            os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
            log.warning("running as root: the web view runs without its sandbox")
        self.icon = _try_tray_icon(self)
        url = self.start_engine()
        if self.icon is not None:
            self.icon.show_state(self.overall.colour, self.overall.reason)
        control.start()
        if url is None:
            threading.Thread(target=self._watch_config, name="config-watch", daemon=True).start()
        try:
            self._open_window(url)
        except Exception as exc:  # no usable web view here (Qt or WebView2 missing or broken)
            self.window, self.window_visible, self.page = None, False, "browser"
            log.error(
                "the dashboard window cannot open (%s): ApexAPI keeps running in the tray and "
                "opens the dashboard in the web browser instead",
                exc,
            )
            self.open_in_browser()
            self._quit_requested.wait()
        return self.shutdown()

    def _open_window(self, url: str | None) -> None:
        """Create the window and run the GUI loop on this (the main) thread until Quit."""
        import webview

        window = self.window = webview.create_window(
            "ApexAPI",
            url=url,
            html=None if url else first_run_html(self.problem or "", self.config_path),
            js_api=None if url else FirstRunApi(self),
            width=WINDOW_SIZE[0],
            height=WINDOW_SIZE[1],
        )
        if window is None:
            raise RuntimeError("pywebview did not create the window")
        window.events.closing += self._on_closing
        window.events.loaded += self._on_loaded
        self.window_visible = True
        webview.start(gui="qt" if sys.platform.startswith("linux") else None)

    def shutdown(self) -> int:
        clean = self.host.stop() if self.host is not None else True
        if self.icon is not None:
            self.icon.stop()
        log.info("ApexAPI quit%s", "" if clean else ": the engine did not stop in time")
        return 0 if clean else 1


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _try_tray_icon(app: TrayApp) -> TrayIcon | None:
    try:
        from tray_app.icon import TrayIcon

        icon = TrayIcon(app)
        icon.start()
        return icon
    except Exception:  # no tray on this desktop: the window and the engine still work
        log.exception("the tray icon is not available")
        return None
