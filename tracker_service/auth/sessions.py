"""Login sessions: a random token in an HttpOnly cookie, stored hashed, with a CSRF token.

A session ends when it expires, when its user signs out, and at once when an admin disables
the user or resets their password.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

import msgspec

from tracker_service.auth import repository as repo
from tracker_service.lib.clock import now_iso
from tracker_service.lib.db import Database
from tracker_service.lib.errors import NotFound

__all__ = ["SESSION_SECONDS", "Session", "SessionStore", "token_hash"]

SESSION_SECONDS = 12 * 3600  # one working day


class Session(msgspec.Struct, frozen=True):
    user_id: int
    username: str
    role: str
    csrf_token: str
    #: The hash of this session's cookie token (to keep it when the user changes password).
    token_hash: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"user:{self.username}"


def token_hash(token: str) -> str:
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
            repo.delete_expired_sessions(conn, now)
            user = repo.load_user(conn, username)
            if user is None:
                raise NotFound(f"no user {username!r}")
            repo.insert_session(
                conn,
                token_hash(token),
                user.id,
                secrets.token_urlsafe(32),
                now_iso(),
                now + SESSION_SECONDS,
            )
        return token

    def get(self, token: str | None) -> Session | None:
        """The live session of ``token``; None when expired, ended or its user is disabled."""
        if not token:
            return None
        hashed = token_hash(token)
        row = self._db.query(repo.load_session, hashed)
        if row is None or row.expires_at <= self._clock() or row.disabled_at is not None:
            return None
        return Session(row.user_id, row.username, row.role, row.csrf_token, hashed)

    def end(self, token: str | None) -> None:
        if token:
            with self._db.transaction() as conn:
                repo.delete_session(conn, token_hash(token))
