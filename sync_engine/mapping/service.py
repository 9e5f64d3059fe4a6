"""``BatchMappingService``: keeps the Apex batch mapping fresh, downloading only what changed.

Refreshed every ``mapping_ttl_seconds`` or at once on demand. Batches are fetched from the
newest ``updated_at`` already seen minus an overlap (Apex timestamps are whole seconds), and
products only for batches whose product is not cached yet or changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sync_engine.apex_models import ApexBatch
from sync_engine.clients.apex import ApexClient
from sync_engine.mapping.mapping import BatchMapping, build_mapping
from sync_engine.state import EngineState

__all__ = ["BatchMappingService"]

_EPOCH = "2000-01-01 00:00:00"
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
        self.mapping: BatchMapping | None = None
        self.refreshed_at: str | None = None

    def stale(self) -> bool:
        return self._refreshed is None or self._clock() - self._refreshed >= self._ttl

    def invalidate(self) -> None:
        """Refresh on the next cycle (the dashboard's "Refresh Mapping")."""
        self._refreshed = None

    async def refresh(self) -> BatchMapping:
        since = self._state.meta("batches_since", _EPOCH)
        fresh = await self._apex.list_batches(since)
        self._state.save_batches(fresh)
        for batch in fresh:  # what Apex holds now is what it last confirmed
            self._state.set_confirmed(batch.id, batch.quantity)
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
        self._state.set_meta("batches_since", _since(fresh, since))
        stamps = [p.updated_at for p in self._state.products().values() if p.updated_at]
        if stamps:
            self._state.set_meta("products_since", _since_stamp(max(stamps)))
        self.mapping = build_mapping(batches.values(), self._state.products())
        self._refreshed = self._clock()
        self.refreshed_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._state.flush()
        return self.mapping
