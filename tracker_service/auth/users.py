"""Staff logins: usernames with a role, passwords hashed with Argon2id (memory-hard)."""

from __future__ import annotations

import re
import sqlite3

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tracker_service.lib.clock import now_iso
from tracker_service.lib.db import Database
from tracker_service.lib.errors import Conflict, InvalidInput

__all__ = ["ROLES", "UserStore"]

ROLES = ("admin", "staff")
_USERNAME = re.compile(r"^[A-Za-z0-9._-]{2,50}$")
MIN_PASSWORD_LENGTH = 8


class UserStore:
    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._hasher = hasher or PasswordHasher()

    def create(self, username: str, password: str, role: str) -> None:
        if not _USERNAME.match(username):
            raise InvalidInput("username", "must be 2-50 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise InvalidInput("role", f"must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
        hashed = self._hasher.hash(password)
        try:
            with self._db.transaction() as conn:
                conn.execute(
                    "INSERT INTO users (username, password_hash, role, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (username, hashed, role, now_iso()),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"user {username!r} already exists", username=username) from exc

    def verify(self, username: str, password: str) -> str | None:
        """The user's role when the password is right, else None."""
        row = (
            self._db.reader()
            .execute("SELECT password_hash, role FROM users WHERE username = ?", (username,))
            .fetchone()
        )
        if row is None:
            return None
        try:
            self._hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            return None
        return str(row["role"])

    def list_users(self) -> list[sqlite3.Row]:
        return (
            self._db.reader()
            .execute("SELECT id, username, role, created_at FROM users ORDER BY username")
            .fetchall()
        )
