"""This installation's hold on the tracker's sync lease, as far as it can prove it.

The lease is held from the moment a grant was *asked for* until that time plus its TTL (the
tracker counts from later, so we never believe longer than it does). A renewal that fails
leaves the lease to run out; once it has, nothing may be pushed: :attr:`LeaseKeeper.held` is
the fence every Apex update and order-line PUT checks, retries included.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sync_engine.clients.tracker import TrackerClient
from sync_engine.errors import LeaseHeld, TrackerError

__all__ = ["LeaseKeeper"]

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(
        self,
        tracker: TrackerClient,
        holder: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tracker = tracker
        self.holder = holder
        self.ttl = ttl_seconds
        self._clock = clock
        self._expires = 0.0
        #: Who holds it instead, when the tracker said so.
        self.other: str | None = None

    @property
    def held(self) -> bool:
        return self._clock() < self._expires

    async def renew(self) -> bool:
        """Take or renew the lease; True when it was newly taken. A tracker that cannot be
        reached raises TrackerError and the lease simply runs out."""
        was_held, asked = self.held, self._clock()
        try:
            await self._tracker.take_lease(self.holder, int(self.ttl))
        except LeaseHeld as refused:
            if was_held or self.other != refused.holder:
                log.info("sync handled by %s", refused.holder)
            self.lost(refused.holder)
            return False
        except TrackerError:
            if was_held and not self.held:
                log.warning("sync lease ran out: the tracker could not renew it; pushing stops")
            raise
        self._expires, self.other = asked + self.ttl, None
        if not was_held:
            log.info("sync lease taken by %s", self.holder)
        return not was_held

    def lost(self, holder: str | None) -> None:
        """The tracker says another installation (or nobody) holds the lease now."""
        self._expires, self.other = 0.0, holder

    async def release(self) -> None:
        if self.held:
            try:
                await self._tracker.release_lease(self.holder)
            except TrackerError as exc:
                log.warning("the sync lease was not released (%s); it runs out by itself", exc)
            self._expires = 0.0
