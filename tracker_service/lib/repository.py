"""SQL of the tables every feature shares: the change feed and the settings."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from tracker_service.lib.db import Conn

__all__ = [
    "ChangeRow",
    "append_change",
    "changes_since",
    "current_cursor",
    "load_settings",
    "save_setting",
]


class ChangeRow(msgspec.Struct, frozen=True):
    seq: int
    metrc_number: str
    kind: str


def append_change(conn: Conn, metrc_number: str, kind: str, at: str) -> None:
    conn.execute(
        "INSERT INTO changes (metrc_number, kind, at) VALUES (?, ?, ?)", (metrc_number, kind, at)
    )


def current_cursor(conn: Conn) -> int:
    row = conn.execute("SELECT MAX(seq) FROM changes").fetchone()
    return int(row[0] or 0)


def changes_since(conn: Conn, since: int, limit: int) -> list[ChangeRow]:
    rows = conn.execute(
        "SELECT seq, metrc_number, kind FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
        (since, limit),
    )
    return [ChangeRow(*row) for row in rows]


def load_settings(conn: Conn, keys: Iterable[str]) -> dict[str, str]:
    wanted = list(keys)
    marks = ",".join("?" * len(wanted))
    rows = conn.execute(f"SELECT key, value FROM settings WHERE key IN ({marks})", wanted)
    return {str(key): str(value) for key, value in rows}


def save_setting(conn: Conn, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
