"""``apexapi``: the tray app and dashboard window; ``--headless`` runs the engine with no GUI.

A second ``apexapi`` brings the running one's window forward; ``--quit`` and ``--status``
talk to the running one the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sync_engine.config import find_config, user_data_dir
from sync_engine.errors import ConfigError
from tray_app.instance import ControlCommand, InstanceLock, NotRunning, send_command

__all__ = ["main"]

#: A second launch may race the first one's start-up: it waits this long for an answer.
FORWARD_WAIT_SECONDS = 15.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="apexapi", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        help="apex_config.json (default: next to the program, else the user's config folder)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--headless", action="store_true", help="run the engine without tray icon or window"
    )
    mode.add_argument("--quit", action="store_true", help="stop the running ApexAPI cleanly")
    mode.add_argument(
        "--status", action="store_true", help="print the running ApexAPI's state as JSON"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.headless:
        return _headless(find_config(args.config))
    command = (
        ControlCommand.QUIT
        if args.quit
        else ControlCommand.STATUS
        if args.status
        else ControlCommand.SHOW
    )
    return _desktop(args.config, command)


def _headless(config_path: Path) -> int:
    from sync_engine.runner import run_headless

    try:
        return asyncio.run(run_headless(config_path))
    except ConfigError as exc:
        print(f"apexapi: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _desktop(config: Path | None, command: ControlCommand) -> int:
    folder = user_data_dir()
    lock = InstanceLock(folder)
    if not lock.acquire():
        return _forward(folder, command)
    try:
        if command != ControlCommand.SHOW:
            print("apexapi: ApexAPI is not running", file=sys.stderr)
            return 1
        try:
            from tray_app.app import TrayApp
            from tray_app.instance import ControlServer
        except ImportError as exc:  # pragma: no cover - a server install without the GUI extra
            print(
                f"apexapi: the window needs the GUI packages ({exc.name}); "
                "install preroll-suite[gui] or run with --headless",
                file=sys.stderr,
            )
            return 2
        app = TrayApp(find_config(config))
        control = ControlServer(folder, app.handle_command)
        try:
            return app.run(control)
        finally:
            control.close()
    finally:
        lock.release()


def _forward(folder: Path, command: ControlCommand) -> int:
    deadline = time.monotonic() + FORWARD_WAIT_SECONDS
    while True:
        try:
            answer = send_command(folder, command)
            break
        except NotRunning as exc:
            if time.monotonic() > deadline:
                print(f"apexapi: another ApexAPI holds the lock but {exc}", file=sys.stderr)
                return 1
            time.sleep(0.2)
    if command == ControlCommand.SHOW:
        print("apexapi: ApexAPI is already running; its window was brought forward")
    else:
        print(answer)
    return 0 if not answer.startswith("error") else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
