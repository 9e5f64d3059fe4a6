"""The one place actions are performed: PATCHes to Apex, the order-lines PUT to the tracker.

``fence`` is asked before every request, retries included: once this installation can no
longer prove it holds the sync lease, nothing more is sent (``abandoned``). A batch Apex no
longer has (404) is ``gone``: the engine drops it from the mapping. Every result is recorded:
the quantity Apex confirmed, the last push and its time; ``on_pushed`` and ``on_lines_sent``
tell the snapshot reader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import msgspec

from sync_engine.actions import HoldBack, InventoryAction, PutLines, SetQuantity
from sync_engine.clients.apex import ApexClient
from sync_engine.clients.tracker import TrackerClient
from sync_engine.errors import ApexError, Fenced
from sync_engine.snapshot import Drift
from sync_engine.state import EngineState
from sync_engine.status import StatusStore, utc_now
from sync_engine.tracker_models import OrderLinesAnswer

__all__ = ["Applier", "ApplyResult"]

log = logging.getLogger(__name__)

#: PATCHes in flight at once; the shared rate limiter still caps them per second.
_CONCURRENCY = 4
#: Corrections of hand-made Apex changes kept for the dashboard.
_DRIFT_LOG = 20


class ApplyResult(msgspec.Struct):
    changed: list[int] = msgspec.field(default_factory=list)
    failed: dict[int, str] = msgspec.field(default_factory=dict)
    gone: list[int] = msgspec.field(default_factory=list)
    abandoned: list[int] = msgspec.field(default_factory=list)
    held_back: HoldBack | None = None


class Applier:
    def __init__(
        self,
        apex: ApexClient,
        tracker: TrackerClient,
        state: EngineState,
        status: StatusStore,
        *,
        holder: str,
        fence: Callable[[], bool],
        on_pushed: Callable[[int, int | None], Drift | None] = lambda batch, shown: None,
        on_lines_sent: Callable[[OrderLinesAnswer, str], None] = lambda answer, digest: None,
    ) -> None:
        self._apex = apex
        self._tracker = tracker
        self._state = state
        self._status = status
        self._on_pushed = on_pushed
        self._on_lines_sent = on_lines_sent
        self._holder = holder
        self._fence = fence

    async def inventory(
        self, actions: Sequence[InventoryAction], *, dry_run: bool = False
    ) -> ApplyResult:
        """Perform an inventory plan: its PATCHes, or the hold-back it stands for."""
        result = ApplyResult()
        patches: list[SetQuantity] = []
        for action in actions:
            match action:
                case HoldBack():
                    result.held_back = action
                    log.warning("%s", action.reason)
                case SetQuantity():
                    patches.append(action)
        with self._status.change() as status:
            status.held_back = result.held_back.reason if result.held_back else None
            status.zero_batches = list(result.held_back.zeroing) if result.held_back else []
        if dry_run:
            for action in patches:
                log.info(
                    "dry run: would set Apex batch %s (%s %s) from %s to %s",
                    action.batch_id,
                    action.strain,
                    action.sku_key,
                    action.previous,
                    action.quantity,
                )
            return result
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def one(action: SetQuantity) -> None:
            async with gate:
                await self._set_quantity(action, result)

        try:
            await asyncio.gather(*(one(action) for action in patches))
        finally:
            self._state.flush()
        if result.abandoned:
            log.warning(
                "%d Apex update(s) not sent: this installation no longer holds the sync lease",
                len(result.abandoned),
            )
        return result

    async def _set_quantity(self, action: SetQuantity, result: ApplyResult) -> None:
        try:
            batch = await self._apex.set_batch_quantity(
                action.batch_id, action.quantity, self._fence
            )
        except Fenced:
            result.abandoned.append(action.batch_id)
            return
        except ApexError as exc:
            if exc.status == 404:
                result.gone.append(action.batch_id)
                log.warning("Apex batch %s no longer exists (404)", action.batch_id)
                return
            result.failed[action.batch_id] = str(exc)
            log.warning("Apex batch %s not updated: %s", action.batch_id, exc)
            return
        shown = None if batch.quantity is None else int(batch.quantity)
        self._state.set_confirmed(batch.id, shown)
        self._state.save_batches([batch])
        self._state.set_pushed(batch.id, action.quantity, utc_now())
        drift = self._on_pushed(batch.id, shown)
        if drift is not None:
            note = (
                f"{utc_now()}: batch {batch.id} ({action.strain} {action.sku_key}) showed "
                f"{drift.shown} in Apex, changed by hand; set back to {shown}"
            )
            log.info("%s", note)
            with self._status.change() as status:
                status.drift_corrected = [*status.drift_corrected, note][-_DRIFT_LOG:]
        result.changed.append(batch.id)
        log.info(
            "Apex batch %s (%s %s): %s -> %s",
            action.batch_id,
            action.strain,
            action.sku_key,
            action.previous,
            action.quantity,
        )

    async def put_lines(self, action: PutLines) -> OrderLinesAnswer | None:
        """Send the order lines as the lease holder; None when the tracker says the lease
        moved on (LeaseLost propagates to the caller, which stops pushing)."""
        if not self._fence():
            return None
        answer = await self._tracker.put_order_lines(self._holder, list(action.lines))
        self._on_lines_sent(answer, action.digest)
        log.info(
            "sent %d order lines to the tracker (%d could not be fully assigned)",
            len(action.lines),
            len(answer.unassigned),
        )
        return answer
