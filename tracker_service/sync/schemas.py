"""Wire shapes of the sync endpoints (docs/api.md): the shared contract's."""

from __future__ import annotations

from preroll_contract import (
    Change,
    ChangeFeed,
    LeaseGrant,
    LeaseRequest,
    LinePartRead,
    LineResult,
    OrderLine,
    OrderLineRead,
    OrderLinesPut,
    OrderLinesResult,
    UnassignedLine,
)

__all__ = [
    "Change",
    "ChangeFeed",
    "LeaseGrant",
    "LeaseRequest",
    "LinePartRead",
    "LineResult",
    "OrderLine",
    "OrderLineRead",
    "OrderLinesPut",
    "OrderLinesResult",
    "UnassignedLine",
]
