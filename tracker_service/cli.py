"""``preroll-tracker``: serve the tracker, issue the API key, manage logins, back up and
restore the database (README).

Every command that takes a value checks it like the web forms do and exits 2 with one line
naming what is wrong, changing nothing.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import logging
import os
import socket
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from tracker_service.lib.errors import TrackerError

if TYPE_CHECKING:
    from tracker_service.auth.users import UserStore

__all__ = ["default_db_path", "main"]

PASSWORD_ENV = "PREROLL_TRACKER_PASSWORD"
#: uvicorn's own default: a proxy on the same machine may say the request came over HTTPS.
DEFAULT_TRUSTED_PROXIES = "127.0.0.1"


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/preroll-tracker/tracker.db`` (``~/.local/share`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "preroll-tracker" / "tracker.db"


def _host(text: str) -> str:
    try:
        socket.getaddrinfo(text, None)
    except (OSError, UnicodeError) as exc:
        raise argparse.ArgumentTypeError(f"cannot listen on {text!r}: {exc}") from None
    return text


def _proxies(text: str) -> str:
    """Comma-separated addresses or networks (``10.0.0.0/8``), ``*`` for any, or nothing."""
    for item in filter(None, (part.strip() for part in text.split(","))):
        if item != "*":
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"{item!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)"
                ) from None
    return text


def _keep(text: str) -> int:
    try:
        keep = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= keep <= 10_000:
        raise argparse.ArgumentTypeError("must be between 1 and 10000")
    return keep


def _backup(db: Path, folder: Path, keep: int) -> int:
    from tracker_service.backups.service import backup

    target = backup(db, folder, keep)
    print(f"backed up {db} to {target} (integrity check: ok)")
    return 0


def _restore(db: Path, source: Path) -> int:
    from tracker_service.backups.service import restore

    kept = restore(db, source)
    kept_as = f"; the replaced database is kept as {kept}" if kept else ""
    print(f"restored {db} from {source}{kept_as}")
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 1 to 65535, not {port}")
    return port


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
    serve.add_argument("--host", type=_host, default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    serve.add_argument(
        "--trusted-proxies",
        type=_proxies,
        default=os.environ.get("PREROLL_TRACKER_TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES),
        metavar="ADDRESSES",
        help="comma-separated addresses of TLS proxies whose X-Forwarded-Proto/-For are "
        "believed (sign-in cookies become Secure behind HTTPS); '' trusts none "
        "(default: %(default)s)",
    )

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

    with_db(commands.add_parser("list-users", help="list logins with role and status"))
    saving = with_db(
        commands.add_parser("backup", help="copy the database while it runs, checked, rotated")
    )
    saving.add_argument("--to", type=Path, required=True, metavar="DIR", dest="folder")
    saving.add_argument("--keep", type=_keep, default=14, metavar="N")
    back = with_db(
        commands.add_parser("restore", help="replace the database with a backup (service stopped)")
    )
    back.add_argument("--from", type=Path, required=True, metavar="FILE", dest="source")
    for name, text in (
        ("disable-user", "disable a login; its sessions end at once"),
        ("enable-user", "enable a disabled login"),
        ("reset-password", "set a login's password (asked for, or from the environment)"),
    ):
        with_db(commands.add_parser(name, help=text)).add_argument("username", metavar="NAME")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        match args.command:
            case "serve":
                return _serve(args.db, args.host, args.port, args.log_level, args.trusted_proxies)
            case "api-key":
                return _api_key(args.db)
            case "create-user":
                return _create_user(
                    args.db, args.admin or args.staff, "admin" if args.admin else "staff"
                )
            case "list-users":
                return _with_users(args.db, _list_users)
            case "disable-user" | "enable-user":
                enabled = args.command == "enable-user"
                return _with_users(
                    args.db, lambda users: _set_enabled(users, args.username, enabled)
                )
            case "reset-password":
                return _reset_password(args.db, args.username)
            case "backup":
                return _backup(args.db, args.folder, args.keep)
            case "restore":
                return _restore(args.db, args.source)
    except TrackerError as exc:
        print(f"preroll-tracker: {exc.detail}", file=sys.stderr)
        return 2
    except (sqlite3.Error, OSError) as exc:
        print(f"preroll-tracker: cannot use the database {args.db}: {exc}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


def _serve(db: Path, host: str, port: int, log_level: str, trusted_proxies: str) -> int:
    from tracker_service.backups.service import serving_lock

    os.umask(0o077)  # the database, its journal and anything else written is the owner's only
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    # Held while serving: a restore refuses meanwhile, and so does a second server.
    with serving_lock(db, "start this one again"):
        return _serve_locked(db, host, port, log_level, trusted_proxies)


def _serve_locked(db: Path, host: str, port: int, log_level: str, trusted_proxies: str) -> int:
    import uvicorn

    from tracker_service.app import TrackerSettings, create_app
    from tracker_service.lib.db import SchemaTooNew
    from tracker_service.services import Services

    try:
        services = Services.open(db)
    except SchemaTooNew as exc:
        print(f"preroll-tracker: {exc}", file=sys.stderr)
        return 2
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
        proxy_headers=bool(trusted_proxies.strip()),
        forwarded_allow_ips=trusted_proxies.strip() or None,
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            services.signal.close()

    server = Server(config)
    server.run()
    # uvicorn reports a port it could not bind and returns without serving.
    return 0 if server.started else 1


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


def _password(username: str) -> str | None:
    """The password from the environment, or asked for twice; None when none was given or
    the two differ (said on stderr)."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        try:
            password = getpass.getpass(f"Password for {username}: ")
            again = getpass.getpass("Repeat the password: ")
        except (EOFError, KeyboardInterrupt):
            print(
                f"\npreroll-tracker: no password given (type it, or set {PASSWORD_ENV}); "
                "nothing was changed",
                file=sys.stderr,
            )
            return None
        if password != again:
            print("preroll-tracker: the passwords differ; nothing was changed", file=sys.stderr)
            return None
    return password


def _with_users(db: Path, do: Callable[[UserStore], int]) -> int:
    from tracker_service.auth.users import UserStore
    from tracker_service.lib.db import Database

    database = Database(db)
    try:
        return do(UserStore(database))
    finally:
        database.close()


def _create_user(db: Path, username: str, role: str) -> int:
    from tracker_service.auth.users import check_username

    check_username(username)  # before asking for a password
    password = _password(username)
    if password is None:
        return 2

    def create(users: UserStore) -> int:
        users.create(username, password, role)
        print(f"Created {role} user {username!r} in {db}")
        return 0

    return _with_users(db, create)


def _list_users(users: UserStore) -> int:
    for user in users.list_users():
        status = "enabled" if user.disabled_at is None else f"disabled {user.disabled_at[:10]}"
        print(f"{user.username}\t{user.role}\t{status}")
    return 0


def _set_enabled(users: UserStore, username: str, enabled: bool) -> int:
    user = users.set_enabled(username, enabled)
    if enabled:
        print(f"Enabled {user.username}")
    else:
        print(f"Disabled {user.username}; their sessions have ended")
    return 0


def _reset_password(db: Path, username: str) -> int:
    def reset(users: UserStore) -> int:
        users.get(username)  # an unknown name is refused before a password is asked for
        password = _password(username)
        if password is None:
            return 2
        users.reset_password(username, password)
        print(f"Password of {username} reset; their sessions have ended")
        return 0

    return _with_users(db, reset)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
