"""Perform a plan: PATCH each batch and record the quantity Apex confirmed.

``fence`` is asked before every request, retries included: once this installation can no
longer prove it holds the sync lease, nothing more is sent (``abandoned``). A batch Apex no
longer has (404) is ``gone``: the engine drops it from the mapping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec

from sync_engine.clients.apex import ApexClient
from sync_engine.errors import ApexError, Fenced
from sync_engine.inventory.planner import Plan, SetQuantity
from sync_engine.state import EngineState

__all__ = ["ApplyResult", "apply_plan"]

log = logging.getLogger(__name__)

#: PATCHes in flight at once; the shared rate limiter still caps them per second.
_CONCURRENCY = 4


class ApplyResult(msgspec.Struct):
    changed: list[int] = msgspec.field(default_factory=list)
    failed: dict[int, str] = msgspec.field(default_factory=dict)
    gone: list[int] = msgspec.field(default_factory=list)
    abandoned: list[int] = msgspec.field(default_factory=list)


async def apply_plan(
    plan: Plan,
    apex: ApexClient,
    state: EngineState,
    *,
    dry_run: bool = False,
    fence: Callable[[], bool] | None = None,
) -> ApplyResult:
    result = ApplyResult()
    if dry_run:
        for action in plan.actions:
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
            try:
                batch = await apex.set_batch_quantity(action.batch_id, action.quantity, fence)
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
            state.set_confirmed(batch.id, batch.quantity)
            result.changed.append(batch.id)
            log.info(
                "Apex batch %s (%s %s): %s -> %s",
                action.batch_id,
                action.strain,
                action.sku_key,
                action.previous,
                action.quantity,
            )

    try:
        await asyncio.gather(*(one(action) for action in plan.actions))
    finally:
        state.flush()
    if result.abandoned:
        log.warning(
            "%d Apex update(s) not sent: this installation no longer holds the sync lease",
            len(result.abandoned),
        )
    return result
