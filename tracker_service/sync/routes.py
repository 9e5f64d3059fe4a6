"""HTTP routes the sync engine uses: change feed, lease, order lines."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import JSONBody, Parameter

from tracker_service.lib.changes import changes_since, current_cursor
from tracker_service.lib.deps import ServicesDep
from tracker_service.lib.guards import actor_of
from tracker_service.sync.schemas import (
    Change,
    ChangeFeed,
    LeaseGrant,
    LeaseRequest,
    OrderLinesPut,
    OrderLinesResult,
)

__all__ = ["SyncController", "changes"]

MAX_WAIT_SECONDS = 30.0
#: Also look in the database this often while waiting, for writes made by other processes.
_RECHECK_SECONDS = 1.0
_PAGE = 1000


@get("/api/changes", summary="Long-poll change feed of finished-goods packages")
async def changes(
    services: ServicesDep,
    since: Annotated[int, Parameter(ge=0, le=2**62)] = 0,
    wait: Annotated[float, Parameter(ge=0, le=3600)] = 0.0,
) -> ChangeFeed:
    """Answers at once when something changed after ``since``; else waits up to ``wait`` s."""
    conn = services.db.reader()
    latest = current_cursor(conn)
    if since == 0 or since > latest:
        return ChangeFeed(cursor=latest, changes=[])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(wait, MAX_WAIT_SECONDS)
    while True:
        event = services.signal.next_change()
        rows = changes_since(conn, since, _PAGE)
        if rows:
            seen: dict[tuple[str, str], Change] = {}
            for row in rows:
                seen.setdefault((row["metrc_number"], row["kind"]), Change(*row[1:3]))
            return ChangeFeed(cursor=rows[-1]["seq"], changes=list(seen.values()))
        remaining = deadline - loop.time()
        if remaining <= 0 or services.signal.closing:  # closing: a restart must not wait
            return ChangeFeed(cursor=since, changes=[])
        await services.signal.wait(event, min(remaining, _RECHECK_SECONDS))


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]  # noqa: RUF012

    @post("/lease", status_code=200, sync_to_thread=True)
    def take_lease(self, services: ServicesDep, data: JSONBody[LeaseRequest]) -> LeaseGrant:
        holder, expires_at = services.lease.acquire(data.holder, data.ttl_seconds)
        return LeaseGrant(holder=holder, expires_at=expires_at, ttl_seconds=data.ttl_seconds)

    @delete("/lease", status_code=200, sync_to_thread=True)
    def release_lease(
        self,
        services: ServicesDep,
        holder: Annotated[str, Parameter(min_length=1, max_length=200)],
    ) -> dict[str, Any]:
        return {"holder": holder, "released": services.lease.release(holder)}

    @put("/order-lines", sync_to_thread=True)
    def order_lines(
        self, request: Request[Any, Any, Any], services: ServicesDep, data: JSONBody[OrderLinesPut]
    ) -> OrderLinesResult:
        return services.order_lines.replace(data.lines, actor_of(request))
