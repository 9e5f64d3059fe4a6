"""The API key: generated once, stored as a SHA-256 hash, checked in constant time.

Keys are 256-bit random tokens, so a fast hash is the right tool (a slow KDF is for
low-entropy passwords). Regenerating revokes every earlier key in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from tracker_service.auth import repository as repo
from tracker_service.lib.clock import now_iso
from tracker_service.lib.db import Database

__all__ = ["ApiKeyStore", "generate_api_key", "hash_api_key"]

_PREFIX = "prt_"


def generate_api_key() -> str:
    return _PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyStore:
    """Checks presented keys against the active ones, re-reading them after any commit."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._loaded: tuple[int, tuple[tuple[bytes, str], ...]] | None = None

    def rotate(self, created_by: str) -> str:
        """Make a new key, revoke all others at once, and return the key (shown only now)."""
        key = generate_api_key()
        at = now_iso()
        with self._db.transaction() as conn:
            repo.insert_key_revoking_others(
                conn, hash_api_key(key), key[: len(_PREFIX) + 6], created_by, at
            )
        return key

    def active_prefix(self) -> str | None:
        return self._db.query(repo.active_key_prefix)

    def identify(
        self, presented: str | bytes | None, data_version: int | None = None
    ) -> str | None:
        """The actor label of a valid key (e.g. ``api-key:prt_AbC123``), else None.

        ``data_version`` lets a caller that already read it save a second look.
        """
        if not presented:
            return None
        raw = presented if isinstance(presented, bytes) else presented.encode()
        digest = hashlib.sha256(raw.strip()).digest()
        label = None
        for stored, name in self._active(data_version):
            if hmac.compare_digest(digest, stored):
                label = name
        return label

    def _active(self, data_version: int | None) -> tuple[tuple[bytes, str], ...]:
        version = self._db.data_version() if data_version is None else data_version
        loaded = self._loaded
        if loaded is not None and loaded[0] == version:
            return loaded[1]
        with self._lock:
            keys = tuple(
                (bytes.fromhex(key_hash), f"api-key:{prefix}")
                for key_hash, prefix in self._db.query(repo.active_key_hashes)
            )
            self._loaded = (version, keys)
            return keys
