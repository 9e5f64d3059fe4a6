"""The ``/apex-calculate`` body, computed on write and served from memory on read.

Every package's entry is encoded once when it changes (found through the change feed), and the
whole body is joined only when something changed. A read costs one ``PRAGMA data_version`` (it
changes after any commit, by this process or another one, e.g. the CLI) and a clock check.

Whatever is stored, the body is built: a package whose numbers cannot be computed gets an entry
with its ``problem`` and no units (and a log line), and every other package is served as usual.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable

import msgspec

from tracker_service.finished_goods import repository as repo
from tracker_service.finished_goods.presenters import problem_calculation, to_calculation
from tracker_service.finished_goods.records import PackageRecord
from tracker_service.lib.clock import days_ago_iso, parse_iso
from tracker_service.lib.db import Conn, Database
from tracker_service.lib.repository import changes_since, current_cursor

__all__ = ["RECENTLY_RETIRED_DAYS", "ApexCalculateCache"]

#: Archived or orphaned packages stay in the answer this long, so the sync engine sees them
#: go to zero units instead of simply disappearing.
RECENTLY_RETIRED_DAYS = 30

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()
_CHANGE_BATCH = 10_000


class ApexCalculateCache:
    """Holds the current body and its ETag; safe to call from any thread."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._fragments: dict[str, bytes] = {}
        self._expires: dict[str, float] = {}
        self._cursor = -1
        self._data_version: int | None = None
        self._next_expiry = float("inf")
        self._current: tuple[bytes, str] | None = None

    def current(self, data_version: int | None = None) -> tuple[bytes, str]:
        """The body and its strong ETag, refreshed first if anything was committed."""
        version = self._db.data_version() if data_version is None else data_version
        current = self._current
        fresh = version == self._data_version and self._clock() < self._next_expiry
        if current is not None and fresh:
            return current
        with self._lock:
            return self._refresh(version)

    def _refresh(self, version: int) -> tuple[bytes, str]:
        with self._db.snapshot() as conn:  # one state for the cursor and its packages
            if self._cursor < 0:
                cursor = current_cursor(conn)
                records = repo.load_sellable_or_retired_since(
                    conn, days_ago_iso(RECENTLY_RETIRED_DAYS)
                )
                self._fragments.clear()
                self._expires.clear()
            else:
                cursor, changed = self._changed_since(conn)
                records = repo.load_packages_by_tag(conn, changed)
        changed_any = self._apply(records)
        self._cursor = cursor
        self._data_version = version
        changed_any |= self._drop_expired()
        if changed_any or self._current is None:
            body = b"{" + b",".join(self._fragments.values()) + b"}"
            etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
            self._current = (body, etag)
        return self._current

    def _changed_since(self, conn: Conn) -> tuple[int, set[str]]:
        cursor, changed = self._cursor, set[str]()
        while True:
            rows = changes_since(conn, cursor, _CHANGE_BATCH)
            if not rows:
                return cursor, changed
            changed.update(row.metrc_number for row in rows)
            cursor = rows[-1].seq

    def _apply(self, records: Iterable[PackageRecord]) -> bool:
        changed = False
        for record in records:
            tag = record.metrc_number
            self._expires.pop(tag, None)
            fragment = self._fragment(record)
            if fragment is None:
                changed |= self._fragments.pop(tag, None) is not None
            elif self._fragments.get(tag) != fragment:
                self._fragments[tag] = fragment
                changed = True
        return changed

    def _fragment(self, record: PackageRecord) -> bytes | None:
        """The package's ``"tag":{...}`` bytes; None once it retired long enough ago."""
        tag = record.metrc_number
        try:
            if record.status != "active":
                retired = parse_iso(record.status_changed_at).timestamp()
                expires = retired + RECENTLY_RETIRED_DAYS * 86400
                if expires <= self._clock():
                    return None
                self._expires[tag] = expires
            entry = to_calculation(record)
        except Exception as exc:  # whatever is stored, the other packages are served
            entry = problem_calculation(
                record.strain, record.status, f"this package's numbers cannot be computed: {exc}"
            )
        if entry.problem:
            log.warning("/apex-calculate: %s sells nothing: %s", tag, entry.problem)
        return _encoder.encode(tag) + b":" + _encoder.encode(entry)

    def _drop_expired(self) -> bool:
        now = self._clock()
        expired = [tag for tag, when in self._expires.items() if when <= now]
        for tag in expired:
            del self._expires[tag]
            del self._fragments[tag]
        self._next_expiry = min(self._expires.values(), default=float("inf"))
        return bool(expired)
