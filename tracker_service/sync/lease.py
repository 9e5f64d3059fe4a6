"""The sync lease: at most one ApexAPI installation pushes quantities (and order lines) at a
time. Writes that only the holder may make check it inside their own transaction (fencing)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from preroll_contract import NOT_LEASE_HOLDER
from tracker_service.lib.clock import iso
from tracker_service.lib.db import Conn, Database
from tracker_service.lib.errors import Conflict
from tracker_service.sync import repository as repo

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
            row = repo.load_lease(conn)
            if row is not None and row.holder != holder and row.expires_at > now:
                raise Conflict(f"the sync lease is held by {row.holder}", holder=row.holder)
            expires = now + ttl_seconds
            repo.save_lease(conn, holder, expires)
        return holder, iso(datetime.fromtimestamp(expires, UTC))

    def release(self, holder: str) -> bool:
        """Release the lease if ``holder`` has it; False when nobody held it."""
        holder = holder.strip()
        with self._db.transaction() as conn:
            row = repo.load_lease(conn)
            if row is None or row.expires_at <= self._clock():
                repo.delete_lease(conn)
                return False
            if row.holder != holder:
                raise Conflict(f"the sync lease is held by {row.holder}", holder=row.holder)
            repo.delete_lease(conn)
            return True

    def require_holder(self, conn: Conn, holder: str) -> None:
        """Inside a write: refuse (409 ``not_lease_holder``) unless ``holder`` holds the lease
        now, so an installation that lost it cannot undo its successor's work."""
        row = repo.load_lease(conn)
        current = row.holder if row is not None and row.expires_at > self._clock() else None
        if current != holder.strip():
            who = f"{current} holds it" if current else "nobody holds it now"
            raise Conflict(
                f"{holder.strip()!r} does not hold the sync lease ({who}); nothing was changed. "
                "Take the lease (POST /api/sync/lease) before sending order lines",
                code=NOT_LEASE_HOLDER,
                holder=current,
            )
