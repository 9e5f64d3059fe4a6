"""The sync lease: at most one ApexAPI installation pushes quantities to Apex at a time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from tracker_service.lib.clock import iso
from tracker_service.lib.db import Database
from tracker_service.lib.errors import Conflict

__all__ = ["LeaseService"]


class LeaseService:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def acquire(self, holder: str, ttl_seconds: int) -> tuple[str, str]:
        """Grant or renew the lease for ``holder``; Conflict names the current holder."""
        holder = holder.strip()
        now = self._clock()
        with self._db.transaction() as conn:
            row = conn.execute("SELECT holder, expires_at FROM sync_lease WHERE id = 1").fetchone()
            if row is not None and row["holder"] != holder and row["expires_at"] > now:
                raise Conflict(f"the sync lease is held by {row['holder']}", holder=row["holder"])
            expires = now + ttl_seconds
            conn.execute(
                "INSERT INTO sync_lease (id, holder, expires_at) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET holder = excluded.holder,"
                " expires_at = excluded.expires_at",
                (holder, expires),
            )
        return holder, iso(datetime.fromtimestamp(expires, UTC))

    def release(self, holder: str) -> bool:
        """Release the lease if ``holder`` has it; False when nobody held it."""
        holder = holder.strip()
        with self._db.transaction() as conn:
            row = conn.execute("SELECT holder, expires_at FROM sync_lease WHERE id = 1").fetchone()
            if row is None or row["expires_at"] <= self._clock():
                conn.execute("DELETE FROM sync_lease")
                return False
            if row["holder"] != holder:
                raise Conflict(f"the sync lease is held by {row['holder']}", holder=row["holder"])
            conn.execute("DELETE FROM sync_lease")
            return True
