"""``BatchMappingService``: keeps the Apex batch mapping fresh, downloading only what changed.

Refreshed every ``mapping_ttl_seconds`` or at once on demand. Batches are fetched from the
newest ``updated_at`` already seen minus an overlap (Apex timestamps are whole seconds), and
products only for batches whose product is not cached yet or changed.

Batches deleted in Apex (docs/apexapi.md, "Apex batches that disappear"): incremental fetches
cannot see a deletion, so every six ``mapping_ttl_seconds``, and at once after a 404, the whole
list is fetched and batches absent from it are dropped. A batch that a PATCH found gone is
dropped at once. When a batch seen for the first time makes a product ambiguous, the batches
involved are read again first: one that is gone is dropped instead of blocking its replacement.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sync_engine.apex_models import ApexBatch
from sync_engine.clients.apex import ApexClient
from sync_engine.mapping.mapping import BatchMapping, build_mapping
from sync_engine.state import EngineState

__all__ = ["FULL_LISTING_EVERY", "BatchMappingService"]

log = logging.getLogger(__name__)

_EPOCH = "2000-01-01 00:00:00"
#: A full listing of batches at least every this many mapping lifetimes.
FULL_LISTING_EVERY = 6
_OVERLAP = timedelta(seconds=2)


def _since_stamp(newest: str) -> str:
    """An ``updated_at_from`` a little before ``newest`` (an Apex timestamp)."""
    moment = datetime.strptime(newest[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return (moment - _OVERLAP).strftime("%Y-%m-%d %H:%M:%S")


def _since(batches: list[ApexBatch], previous: str) -> str:
    newest = max((b.updated_at for b in batches), default=None)
    return previous if newest is None else _since_stamp(newest)


class BatchMappingService:
    def __init__(
        self,
        apex: ApexClient,
        state: EngineState,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._apex = apex
        self._state = state
        self._ttl = ttl_seconds
        self._clock = clock
        self._refreshed: float | None = None
        self._listed: float | None = None  # the last full listing
        self.mapping: BatchMapping | None = None
        self.refreshed_at: str | None = None
        self.full_listings = 0
        #: The batches the last refresh brought back (new or changed in Apex).
        self.listed: list[ApexBatch] = []

    def stale(self) -> bool:
        return self._refreshed is None or self._clock() - self._refreshed >= self._ttl

    def invalidate(self) -> None:
        """Refresh on the next cycle (the dashboard's "Refresh Mapping")."""
        self._refreshed = None

    def _full_due(self) -> bool:
        return self._listed is None or (
            self._clock() - self._listed >= self._ttl * FULL_LISTING_EVERY
        )

    def drop(self, batch_ids: Iterable[int]) -> None:
        """Apex answered 404 for these batches: never update them again, and list every batch
        at the next refresh (a replacement may exist); the refresh is due at once."""
        gone = set(batch_ids)
        self._state.forget_batches(gone)
        if self.mapping is not None:
            self.mapping = build_mapping(self._state.batches().values(), self._state.products())
        self._listed = self._refreshed = None
        log.info("Apex batch(es) %s no longer exist: dropped from the mapping", sorted(gone))

    async def refresh(self) -> BatchMapping:
        full = self._full_due()
        since = _EPOCH if full else self._state.meta("batches_since", _EPOCH)
        fresh = await self._apex.list_batches(since)
        known = set(self._state.batches())
        if full:
            gone = known - {b.id for b in fresh}
            if gone:
                self._state.forget_batches(gone)
                log.info("Apex batch(es) %s are no longer listed: dropped", sorted(gone))
            self._listed = self._clock()
            self.full_listings += 1
        self._state.save_batches(fresh)
        self.listed = fresh
        for batch in fresh:  # what Apex holds now is what it last confirmed
            self._state.set_confirmed(batch.id, batch.quantity)
        await self._refresh_products()
        self._state.set_meta("batches_since", _since(fresh, since))
        mapping = build_mapping(self._state.batches().values(), self._state.products())
        mapping = await self._recheck_ambiguous(mapping, {b.id for b in fresh} - known)
        self.mapping = mapping
        self._refreshed = self._clock()
        self.refreshed_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._state.flush()
        return self.mapping

    async def _refresh_products(self) -> None:
        batches = self._state.batches()
        known = self._state.products()
        missing = {b.product_id for b in batches.values() if b.product_id not in known}
        if missing:
            self._state.save_products(await self._apex.list_products(missing))
        elif batches:  # one request: only products renamed since the newest one we know
            products_since = self._state.meta("products_since", _EPOCH)
            self._state.save_products(
                await self._apex.list_products(updated_at_from=products_since)
            )
        stamps = [p.updated_at for p in self._state.products().values() if p.updated_at]
        if stamps:
            self._state.set_meta("products_since", _since_stamp(max(stamps)))

    async def _recheck_ambiguous(self, mapping: BatchMapping, new: set[int]) -> BatchMapping:
        """Read again (one GET each) the batches of an ambiguity a new batch caused; the ones
        Apex no longer has are dropped before anything is reported."""
        involved = {
            info.batch_id
            for strain, batches in mapping.by_strain.items()
            for info in batches
            if (strain, info.sku_key) in mapping.ambiguous
        }
        suspects = involved if involved & new else set()
        gone = {
            batch_id for batch_id in sorted(suspects) if not await self._apex.get_batch(batch_id)
        }
        if not gone:
            return mapping
        self._state.forget_batches(gone)
        log.info("Apex batch(es) %s no longer exist: dropped from the mapping", sorted(gone))
        return build_mapping(self._state.batches().values(), self._state.products())
