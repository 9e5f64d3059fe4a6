"""SQL for API keys, users and login sessions: typed query functions over a connection."""

from __future__ import annotations

import sqlite3

import msgspec

from tracker_service.lib.db import Conn

__all__ = [
    "SessionRow",
    "UserRow",
    "active_key_hashes",
    "active_key_prefix",
    "count_enabled_admins",
    "delete_expired_sessions",
    "delete_session",
    "delete_user_sessions",
    "insert_key_revoking_others",
    "insert_session",
    "insert_user",
    "load_session",
    "load_user",
    "load_users",
    "set_password_hash",
    "set_user_disabled",
]


class UserRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    username: str
    role: str
    password_hash: str
    created_at: str
    disabled_at: str | None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


class SessionRow(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    username: str
    role: str
    csrf_token: str
    expires_at: float
    disabled_at: str | None


# -- API keys ---------------------------------------------------------------------------------


def insert_key_revoking_others(
    conn: Conn, key_hash: str, prefix: str, created_by: str, at: str
) -> None:
    conn.execute("UPDATE api_keys SET revoked_at = ? WHERE revoked_at IS NULL", (at,))
    conn.execute(
        "INSERT INTO api_keys (key_hash, prefix, created_at, created_by) VALUES (?, ?, ?, ?)",
        (key_hash, prefix, at, created_by),
    )


def active_key_prefix(conn: Conn) -> str | None:
    row = conn.execute(
        "SELECT prefix FROM api_keys WHERE revoked_at IS NULL ORDER BY id DESC"
    ).fetchone()
    return None if row is None else str(row["prefix"])


def active_key_hashes(conn: Conn) -> list[tuple[str, str]]:
    """(SHA-256 hex, prefix) of every key not revoked."""
    rows = conn.execute("SELECT key_hash, prefix FROM api_keys WHERE revoked_at IS NULL")
    return [(str(row["key_hash"]), str(row["prefix"])) for row in rows]


# -- users ------------------------------------------------------------------------------------


def _user(row: sqlite3.Row) -> UserRow:
    return UserRow(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        password_hash=row["password_hash"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )


def insert_user(conn: Conn, username: str, password_hash: str, role: str, at: str) -> bool:
    """False when the username (any case) is taken."""
    try:
        conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
            (username, password_hash, role, at),
        )
    except sqlite3.IntegrityError:
        return False
    return True


def load_user(conn: Conn, username: str) -> UserRow | None:
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return None if row is None else _user(row)


def load_users(conn: Conn) -> list[UserRow]:
    return [_user(row) for row in conn.execute("SELECT * FROM users ORDER BY username")]


def count_enabled_admins(conn: Conn) -> int:
    row = conn.execute(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL"
    ).fetchone()
    return int(row[0])


def set_user_disabled(conn: Conn, user_id: int, disabled_at: str | None) -> None:
    conn.execute("UPDATE users SET disabled_at = ? WHERE id = ?", (disabled_at, user_id))


def set_password_hash(conn: Conn, user_id: int, password_hash: str) -> None:
    conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


# -- sessions ---------------------------------------------------------------------------------


def delete_expired_sessions(conn: Conn, now: float) -> None:
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))


def insert_session(
    conn: Conn, token_hash: str, user_id: int, csrf_token: str, at: str, expires_at: float
) -> None:
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (token_hash, user_id, csrf_token, at, expires_at),
    )


def load_session(conn: Conn, token_hash: str) -> SessionRow | None:
    row = conn.execute(
        """SELECT s.user_id, s.csrf_token, s.expires_at, u.username, u.role, u.disabled_at
           FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?""",
        (token_hash,),
    ).fetchone()
    if row is None:
        return None
    return SessionRow(
        user_id=row["user_id"],
        username=row["username"],
        role=row["role"],
        csrf_token=row["csrf_token"],
        expires_at=row["expires_at"],
        disabled_at=row["disabled_at"],
    )


def delete_session(conn: Conn, token_hash: str) -> None:
    conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))


def delete_user_sessions(conn: Conn, user_id: int, keep_token_hash: str | None = None) -> None:
    """End every session of a user, except the one given (a user changing their password)."""
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?",
        (user_id, keep_token_hash),
    )
