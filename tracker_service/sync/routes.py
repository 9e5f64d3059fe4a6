"""HTTP routes the sync engine uses: change feed, lease, order lines."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, post, put
from litestar.params import JSONBody, Parameter, QueryParameter

from tracker_service.lib.deps import ServicesDep
from tracker_service.lib.grams import mg_to_grams
from tracker_service.lib.guards import actor_of
from tracker_service.lib.repository import changes_since, current_cursor
from tracker_service.services import Services
from tracker_service.sync.repository import StoredLine
from tracker_service.sync.schemas import (
    Change,
    ChangeFeed,
    LeaseGrant,
    LeaseRequest,
    LinePartRead,
    OrderLineRead,
    OrderLinesPut,
    OrderLinesResult,
)

__all__ = ["SyncController", "changes", "to_line_read"]

MAX_WAIT_SECONDS = 30.0
#: Also look in the database this often while waiting, for writes made by other processes.
_RECHECK_SECONDS = 1.0
_PAGE = 1000

AnyRequest = Request[Any, Any, Any]


@get("/api/changes", summary="Long-poll change feed of finished-goods packages")
async def changes(
    request: AnyRequest,
    services: ServicesDep,
    since: Annotated[int, Parameter(ge=0, le=2**62)] = 0,
    wait: Annotated[float, Parameter(ge=0, le=3600)] = 0.0,
) -> ChangeFeed:
    """Answers at once when something changed after ``since``; else waits up to ``wait`` s."""
    latest = services.db.query(current_cursor)
    if since == 0 or since > latest:
        return ChangeFeed(cursor=latest, changes=[])
    with services.waits.slot(actor_of(request)):
        return await _wait_for_changes(services, since, min(wait, MAX_WAIT_SECONDS))


async def _wait_for_changes(services: Services, since: int, wait: float) -> ChangeFeed:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        event = services.signal.next_change()
        rows = services.db.query(changes_since, since, _PAGE)
        if rows:
            seen: dict[tuple[str, str], Change] = {}
            for row in rows:
                seen.setdefault((row.metrc_number, row.kind), Change(row.metrc_number, row.kind))
            return ChangeFeed(cursor=rows[-1].seq, changes=list(seen.values()))
        remaining = deadline - loop.time()
        if remaining <= 0 or services.signal.closing:  # closing: a restart must not wait
            return ChangeFeed(cursor=since, changes=[])
        await services.signal.wait(event, min(remaining, _RECHECK_SECONDS))


def to_line_read(line: StoredLine) -> OrderLineRead:
    return OrderLineRead(
        item_id=line.item_id,
        order_id=line.order_id,
        invoice_number=line.invoice_number,
        store=line.store,
        strain=line.strain,
        sku=line.sku,
        units_ordered=line.units_ordered,
        units_packed=line.units_packed,
        metrc_number=line.metrc_number,
        state=line.state,
        reserved_grams=mg_to_grams(line.reserved_mg),
        packed_grams=mg_to_grams(line.packed_mg),
        shipped_grams=mg_to_grams(line.shipped_mg),
        missing_since=line.missing_since,
        released_by=line.released_by,
        released_at=line.released_at,
        reported_after_release_at=line.reported_after_release_at,
        updated_at=line.updated_at,
        short_units=line.short_units,
        packages=[
            LinePartRead(
                part.metrc_number,
                mg_to_grams(part.reserved_mg),
                mg_to_grams(part.packed_mg),
                mg_to_grams(part.shipped_mg),
            )
            for part in line.parts
        ],
    )


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
    def put_order_lines(
        self, request: AnyRequest, services: ServicesDep, data: JSONBody[OrderLinesPut]
    ) -> OrderLinesResult:
        return services.order_lines.replace(data, actor_of(request))

    @get("/order-lines", sync_to_thread=True)
    def list_order_lines(
        self,
        services: ServicesDep,
        line_state: Annotated[
            Literal["held", "open", "missing", "short", "released", "shipped", "cancelled"],
            QueryParameter(name="state"),
        ] = "held",
    ) -> list[OrderLineRead]:
        """Stored order lines; ``missing``: open lines ApexAPI no longer reports; ``short``:
        open lines the strain's packages cannot fully cover."""
        return [to_line_read(line) for line in services.order_lines.lines(line_state)]
