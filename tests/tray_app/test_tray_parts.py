"""The tray app's parts without a screen: state colour, icon, menu, single instance, set-up."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sync_engine.config import config_template
from sync_engine.sheets.service import SheetsStatus
from sync_engine.status import ConnectionStatus, EngineStatus, Overall, overall_state
from tests.conftest import wait_until
from tray_app.app import TrayApp, first_run_html, open_path
from tray_app.icon import COLOURS, icon_image
from tray_app.instance import ControlServer, InstanceLock, NotRunning, send_command


def status(**changes: object) -> EngineStatus:
    fine = EngineStatus(
        tracker=ConnectionStatus("connected"),
        apex=ConnectionStatus("connected"),
        sheets=SheetsStatus(state="connected"),
        sync_enabled=True,
    )
    for name, value in changes.items():
        setattr(fine, name, value)
    return fine


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, Overall("green", "All connections fine")),
        ({"sheets": SheetsStatus(state="off")}, Overall("green", "All connections fine")),
        ({"paused": True}, Overall("amber", "Batch sync is paused")),
        (
            {"sheets": SheetsStatus(state="fallback", reason="403")},
            Overall("amber", "Using the Excel workbook: 403"),
        ),
        ({"apex": ConnectionStatus("unknown")}, Overall("amber", "Connecting")),
        (
            {"sync_enabled": False},
            Overall("amber", "Batch inventory sync is off (batch_inventory_sync.enabled)"),
        ),
        (
            {"tracker": ConnectionStatus("failing", "Cannot reach PreRollTracker"), "paused": True},
            Overall("red", "Tracker: Cannot reach PreRollTracker"),
        ),
        (
            {
                "apex": ConnectionStatus("failing", "401: check api_token"),
                "sheets": SheetsStatus(state="failing", reason="sheet not found"),
            },
            Overall("red", "Apex Trading: 401: check api_token; Google Sheets: sheet not found"),
        ),
    ],
)
def test_overall_state_colours(changes: dict[str, object], expected: Overall) -> None:
    """Red for a failing connection, amber for degraded/paused/waiting, green when all is fine."""
    assert overall_state(status(**changes)) == expected


def test_icon_is_a_disc_in_the_state_colour() -> None:
    """The icon's centre carries the colour; its corners are transparent."""
    for colour, rgb in COLOURS.items():
        image = icon_image(colour)
        assert image.size == (64, 64)
        assert image.getpixel((14, 32)) == (*rgb, 255)
        assert image.getpixel((0, 0)) == (0, 0, 0, 0)


class RecordingActions:
    """Stands in for the app behind the menu: records which action each item runs."""

    def __init__(self, running: bool = True, paused: bool = False, zeros: int = 2) -> None:
        self.calls: list[str] = []
        self.engine_running, self.paused, self.held_back_zeros = running, paused, zeros

    def __getattr__(self, name: str) -> object:
        return lambda: self.calls.append(name)


def menu(actions: RecordingActions) -> list[Any]:
    """The menu's items, separators left out (pystray's dummy backend: no screen needed)."""
    # pystray picks its backend once, at its first import; the variable must not stay set,
    # or every app this test process starts later would get the dummy backend too.
    os.environ["PYSTRAY_BACKEND"] = "dummy"
    try:
        import pystray
    finally:
        del os.environ["PYSTRAY_BACKEND"]

    from tray_app.icon import TrayIcon

    items = TrayIcon(actions).icon.menu.items  # type: ignore[arg-type]
    return [item for item in items if item is not pystray.Menu.SEPARATOR]


def test_menu_has_the_spec_items_and_each_runs_its_action() -> None:
    """Open Dashboard (default), Sync Now, Pause/Resume, Refresh Mapping, Logs, Config, Quit."""
    actions = RecordingActions()
    items = [item for item in menu(actions)]
    assert [item.text for item in items] == [
        "Open Dashboard",
        "Open in Browser",
        "Sync Now",
        "Pause Sync",
        "Refresh Mapping",
        "Push Held-Back Zeros (2 batches)",
        "Open Logs Folder",
        "Edit Config",
        "Quit",
    ]
    assert items[0].default
    for item in items:
        item(None)
    assert actions.calls == [
        "open_dashboard",
        "open_in_browser",
        "sync_now",
        "toggle_pause",
        "refresh_mapping",
        "confirm_zeros",
        "open_logs",
        "edit_config",
        "quit",
    ]


def test_menu_says_resume_when_paused_and_greys_engine_items_without_an_engine() -> None:
    """The pause item names what it will do; engine commands wait for a running engine."""
    paused = menu(RecordingActions(paused=True))
    assert paused[3].text == "Resume Sync"
    nothing_held = {item.text: item.enabled for item in menu(RecordingActions(zeros=0))}
    assert nothing_held["No Zeros Held Back"] is False
    idle = {item.text: item.enabled for item in menu(RecordingActions(running=False))}
    assert idle == {
        "Open Dashboard": True,
        "Open in Browser": False,
        "Sync Now": False,
        "Pause Sync": False,
        "Refresh Mapping": False,
        "Push Held-Back Zeros (2 batches)": False,
        "Open Logs Folder": True,
        "Edit Config": True,
        "Quit": True,
    }


def test_second_process_cannot_take_the_lock_until_the_first_dies(tmp_path: Path) -> None:
    """One instance per user: the lock is exclusive across processes and freed on exit."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pathlib import Path; from tray_app.instance import InstanceLock;"
            f"lock = InstanceLock(Path({str(tmp_path)!r})); assert lock.acquire();"
            "print('held', flush=True);"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not InstanceLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = InstanceLock(tmp_path)
    assert lock.acquire()  # a killed holder leaves no stale lock
    lock.release()


def test_control_channel_needs_the_token_and_knows_its_commands(tmp_path: Path) -> None:
    """Commands with the right token reach the handler; others are refused; no file, no answer;
    a flood of bytes or of silent connections is turned away without holding the channel."""
    with pytest.raises(NotRunning):
        send_command(tmp_path, "show")
    seen: list[str] = []
    server = ControlServer(tmp_path, lambda command: seen.append(command) or f"did {command}")
    server.start()
    try:
        assert (tmp_path / "instance.json").stat().st_mode & 0o777 == 0o600
        assert send_command(tmp_path, "show") == "did show"
        assert send_command(tmp_path, "reboot") == "error: unknown command 'reboot'"
        info = json.loads((tmp_path / "instance.json").read_text())
        (tmp_path / "instance.json").write_text(json.dumps(info | {"token": "guess"}))
        assert send_command(tmp_path, "quit") == "error: wrong token"
        assert seen == ["show"]
        port = int(info["port"])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as flood:
            flood.sendall(b"x" * 100_000 + b"\n")  # no end of line for a long while
            assert flood.makefile("rb").readline() == b"error: line too long\n"
        silent = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as fifth:
            assert fifth.makefile("rb").readline() == b"error: busy\n"
        for connection in silent:
            connection.close()
        (tmp_path / "instance.json").write_text(json.dumps(info))
        assert wait_until(lambda: send_command(tmp_path, "show") == "did show")
    finally:
        server.close()


def test_edit_config_creates_the_template_then_opens_it(tmp_path: Path) -> None:
    """A missing config is created from the template (never overwritten) and opened."""
    opened: list[Path] = []
    config = tmp_path / "ApexAPI" / "apex_config.json"
    app = TrayApp(config, opener=opened.append)
    assert "save it and ApexAPI starts by itself" in app.edit_config()
    assert config.read_text() == config_template()
    assert config.stat().st_mode & 0o777 == 0o600  # it will hold the API key and token
    config.write_text("{}")
    app.edit_config()
    assert config.read_text() == "{}"
    app.open_logs()
    assert opened == [config, config, tmp_path / "ApexAPI" / "logs"]
    assert (tmp_path / "ApexAPI" / "logs").is_dir()


def test_set_up_page_names_the_problem_and_escapes_it(tmp_path: Path) -> None:
    """The problem and the config path appear as text, never as markup."""
    page = first_run_html("api_token: <script>alert(1)</script>", tmp_path / "a&b.json")
    assert "api_token: &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f"{tmp_path}/a&amp;b.json" in page
    assert "{{" not in page


def test_status_before_any_window_reports_the_start_up_state(tmp_path: Path) -> None:
    """``apexapi --status`` answers even before the window has loaded a page."""
    app = TrayApp(tmp_path / "apex_config.json")
    assert app.start_engine() is None
    described = json.loads(app.handle_command("status"))
    assert described["colour"] == "red" and "not found" in described["reason"]
    assert described["page"] == "none" and described["engine_running"] is False


def test_opening_a_path_without_a_desktop_opener_logs_instead_of_crashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A menu click never kills the tray thread: a missing xdg-open is logged with the path."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no xdg-open anywhere
    open_path(tmp_path)
    assert f"could not open {tmp_path}" in caplog.text


def test_a_dashboard_port_in_use_is_a_start_problem_not_a_crash(tmp_path: Path) -> None:
    """``ui_port`` taken by another program: the app reports it (red, set-up page) and lives."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        config = tmp_path / "apex_config.json"
        config.write_text(
            json.dumps(
                {
                    "dashboard_url": "http://127.0.0.1:9",
                    "dashboard_api_key": "k" * 20,
                    "api_token": "t" * 20,
                    "api_base_url": "http://127.0.0.1:9/api",
                    "ui_port": port,
                }
            )
        )
        app = TrayApp(config)
        assert app.start_engine() is None
    assert app.problem is not None and app.problem.startswith(f"ui_port: 127.0.0.1:{port} cannot")
    assert "set ui_port to 0" in app.problem
    assert app.overall.colour == "red" and not app.engine_running


def test_a_tray_backend_that_fails_never_takes_the_app_down() -> None:
    """No usable tray (pystray's dummy backend cannot run): the failure is logged, state
    updates return at once and are skipped, and stopping still works."""
    actions = RecordingActions()
    menu(actions)  # imports pystray with the dummy backend
    from tray_app.icon import TrayIcon

    icon = TrayIcon(actions)
    icon.start()
    icon.show_state("red", "Tracker: down")
    wait_until(lambda: not icon.working, timeout=5)
    icon.show_state("green", "All connections fine")
    assert icon.colour == "green"
    icon.stop()
