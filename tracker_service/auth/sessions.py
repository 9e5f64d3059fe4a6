"""Login sessions: a random token in an HttpOnly cookie, stored hashed, with a CSRF token."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

import msgspec

from tracker_service.lib.clock import now_iso
from tracker_service.lib.db import Database

__all__ = ["SESSION_SECONDS", "Session", "SessionStore"]

SESSION_SECONDS = 12 * 3600  # one working day


class Session(msgspec.Struct, frozen=True):
    user_id: int
    username: str
    role: str
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"user:{self.username}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def create(self, username: str) -> str:
        """Start a session for ``username``; returns the cookie token (shown only now)."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            user = conn.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    _hash(token),
                    user["id"],
                    secrets.token_urlsafe(32),
                    now_iso(),
                    now + SESSION_SECONDS,
                ),
            )
        return token

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        row = (
            self._db.reader()
            .execute(
                """SELECT s.user_id, s.csrf_token, s.expires_at, u.username, u.role
               FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?""",
                (_hash(token),),
            )
            .fetchone()
        )
        if row is None or row["expires_at"] <= self._clock():
            return None
        return Session(row["user_id"], row["username"], row["role"], row["csrf_token"])

    def end(self, token: str | None) -> None:
        if token:
            with self._db.transaction() as conn:
                conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))
