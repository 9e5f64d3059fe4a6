"""The base of every service that changes data: one transaction per change, then the
``on_commit`` hook (recompute /apex-calculate, wake the change feed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tracker_service.lib.clock import now_iso
from tracker_service.lib.db import Conn, Database

__all__ = ["WritingService"]


class WritingService:
    def __init__(self, db: Database, on_commit: Callable[[], None]) -> None:
        self.db = db
        self._on_commit = on_commit

    @contextmanager
    def _write(self) -> Iterator[tuple[Conn, str]]:
        """A transaction and its timestamp; ``on_commit`` runs only after a commit."""
        with self.db.transaction() as conn:
            yield conn, now_iso()
        self._on_commit()
