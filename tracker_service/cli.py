"""``preroll-tracker``: serve the tracker, issue the API key, create logins (SPEC §2.4)."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from tracker_service.lib.errors import TrackerError

__all__ = ["default_db_path", "main"]

PASSWORD_ENV = "PREROLL_TRACKER_PASSWORD"


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/preroll-tracker/tracker.db`` (``~/.local/share`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "preroll-tracker" / "tracker.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="preroll-tracker", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_db(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--db",
            type=Path,
            default=default_db_path(),
            help="SQLite database file (default: %(default)s)",
        )
        return sub

    serve = with_db(commands.add_parser("serve", help="run the tracker web service"))
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])

    key = with_db(commands.add_parser("api-key", help="generate the API key (ends the old one)"))
    key.add_argument(
        "--new",
        action="store_true",
        required=True,
        help="generate a new key; the previous key stops working at once",
    )

    user = with_db(commands.add_parser("create-user", help="create a staff or admin login"))
    role = user.add_mutually_exclusive_group(required=True)
    role.add_argument("--admin", metavar="NAME", help="create an admin user")
    role.add_argument("--staff", metavar="NAME", help="create a staff user")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        match args.command:
            case "serve":
                return _serve(args.db, args.host, args.port, args.log_level)
            case "api-key":
                return _api_key(args.db)
            case "create-user":
                return _create_user(
                    args.db, args.admin or args.staff, "admin" if args.admin else "staff"
                )
    except TrackerError as exc:
        print(f"preroll-tracker: {exc.detail}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


def _serve(db: Path, host: str, port: int, log_level: str) -> int:
    import uvicorn

    from tracker_service.app import TrackerSettings, create_app
    from tracker_service.services import Services

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    services = Services.open(db)
    app = create_app(TrackerSettings(db_path=db), services=services)
    print(f"PreRollTracker serving {db} on http://{host}:{port}/", flush=True)
    # One process: the change feed's wake-ups and the /apex-calculate cache live in memory.
    # On Ctrl-C / SIGTERM waiting long-polls answer at once (an empty feed), so a restart
    # takes no longer than the requests in flight; 5 s is the limit for those.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            services.signal.close()

    Server(config).run()
    return 0


def _api_key(db: Path) -> int:
    from tracker_service.auth.api_keys import ApiKeyStore
    from tracker_service.lib.db import Database

    database = Database(db)
    try:
        key = ApiKeyStore(database).rotate(created_by=f"cli:{getpass.getuser()}")
    finally:
        database.close()
    print("New API key (shown only now; the previous key no longer works):", file=sys.stderr)
    print(key, flush=True)
    return 0


def _create_user(db: Path, username: str, role: str) -> int:
    from tracker_service.auth.users import UserStore
    from tracker_service.lib.db import Database

    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"Password for {username}: ")
        if password != getpass.getpass("Repeat the password: "):
            print("preroll-tracker: the passwords differ; nothing was created", file=sys.stderr)
            return 2
    database = Database(db)
    try:
        UserStore(database).create(username, password, role)
    finally:
        database.close()
    print(f"Created {role} user {username!r} in {db}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
