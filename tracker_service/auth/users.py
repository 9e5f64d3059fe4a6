"""Staff logins: usernames with a role, passwords hashed with Argon2id (memory-hard).

At most :data:`CONCURRENT_HASHES` passwords are hashed or checked at once (each Argon2id check
takes 64 MiB), and a name that does not exist costs the same check as a wrong password, so the
time of an answer does not tell which usernames exist.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tracker_service.auth import repository as repo
from tracker_service.auth.repository import UserRow
from tracker_service.auth.schemas import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from tracker_service.lib.clock import now_iso
from tracker_service.lib.db import Database
from tracker_service.lib.errors import Conflict, InvalidInput, NotFound, TooManyRequests

__all__ = ["CONCURRENT_HASHES", "ROLES", "UserStore", "check_username"]

ROLES = ("admin", "staff")
CONCURRENT_HASHES = 2
_HASH_WAIT_SECONDS = 15
_USERNAME = re.compile(r"^[A-Za-z0-9._-]{2,50}$")


def check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise InvalidInput("username", "must be 2-50 letters, digits, '.', '_' or '-'")


def _check_password(password: str, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(field, f"must be at most {MAX_PASSWORD_LENGTH} characters")


class UserStore:
    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._hasher = hasher or PasswordHasher()
        self._hashing = threading.BoundedSemaphore(CONCURRENT_HASHES)
        self._dummy_hash: str | None = None

    @contextmanager
    def _hash_slot(self) -> Iterator[None]:
        if not self._hashing.acquire(timeout=_HASH_WAIT_SECONDS):
            raise TooManyRequests(
                "the server is busy checking other sign-ins; try again in a few seconds",
                retry_after=5,
            )
        try:
            yield
        finally:
            self._hashing.release()

    def _hash(self, password: str) -> str:
        with self._hash_slot():
            return self._hasher.hash(password)

    def _matches(self, stored_hash: str | None, password: str) -> bool:
        """Check a password; with no stored hash, check a dummy one (the same cost)."""
        with self._hash_slot():
            if stored_hash is None:
                if self._dummy_hash is None:
                    self._dummy_hash = self._hasher.hash("no such user: same cost")
                stored_hash = self._dummy_hash
            try:
                self._hasher.verify(stored_hash, password[:MAX_PASSWORD_LENGTH])
            except (VerificationError, InvalidHashError):
                return False
            return True

    # -- reads -------------------------------------------------------------------------------

    def get(self, username: str) -> UserRow:
        user = self._db.query(repo.load_user, username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        return user

    def list_users(self) -> list[UserRow]:
        return self._db.query(repo.load_users)

    def verify(self, username: str, password: str) -> UserRow | None:
        """The user when the password is right (disabled or not), else None."""
        user = self._db.query(repo.load_user, username)
        ok = self._matches(None if user is None else user.password_hash, password)
        return user if ok and user is not None else None

    # -- writes ------------------------------------------------------------------------------

    def create(self, username: str, password: str, role: str) -> None:
        check_username(username)
        if role not in ROLES:
            raise InvalidInput("role", f"must be one of {', '.join(ROLES)}")
        _check_password(password, "password")
        hashed = self._hash(password)
        with self._db.transaction() as conn:
            if not repo.insert_user(conn, username, hashed, role, now_iso()):
                raise Conflict(f"user {username!r} already exists", username=username)

    def set_enabled(self, username: str, enabled: bool, *, by: str | None = None) -> UserRow:
        """Enable or disable a login; disabling ends all of its sessions at once."""
        with self._db.transaction() as conn:
            user = repo.load_user(conn, username)
            if user is None:
                raise NotFound(f"no user {username!r}")
            if not enabled:
                if by is not None and by.casefold() == user.username.casefold():
                    raise Conflict("you cannot disable your own login")
                if user.role == "admin" and user.enabled and repo.count_enabled_admins(conn) <= 1:
                    raise Conflict(
                        f"{user.username} is the last enabled admin; enable or create another "
                        "admin first"
                    )
            if user.enabled != enabled:
                repo.set_user_disabled(conn, user.id, None if enabled else now_iso())
            if not enabled:
                repo.delete_user_sessions(conn, user.id)
            found = repo.load_user(conn, username)
            assert found is not None
            return found

    def reset_password(self, username: str, new_password: str) -> None:
        """Set a user's password (an admin, or the CLI); ends all of that user's sessions."""
        _check_password(new_password, "new_password")
        self._store_password(username, self._hash(new_password), keep_session=None)

    def change_own_password(
        self, username: str, current: str, new: str, *, keep_session: str
    ) -> None:
        """A user's own change: the current password first; their other sessions end."""
        if self.verify(username, current) is None:
            raise InvalidInput("current_password", "is not your current password")
        _check_password(new, "new_password")
        if new == current:
            raise InvalidInput("new_password", "must differ from the current password")
        self._store_password(username, self._hash(new), keep_session=keep_session)

    def _store_password(self, username: str, hashed: str, *, keep_session: str | None) -> None:
        """The new hash, and every session of the user ended but ``keep_session``."""
        with self._db.transaction() as conn:
            user = repo.load_user(conn, username)
            if user is None:
                raise NotFound(f"no user {username!r}")
            repo.set_password_hash(conn, user.id, hashed)
            repo.delete_user_sessions(conn, user.id, keep_token_hash=keep_session)
