"""Wire shapes of the sync endpoints (SPEC §2.4, §3.4, §10.2): the shared contract's."""

from __future__ import annotations

from preroll_contract import (
    Change,
    ChangeFeed,
    LeaseGrant,
    LeaseRequest,
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
    "LineResult",
    "OrderLine",
    "OrderLineRead",
    "OrderLinesPut",
    "OrderLinesResult",
    "UnassignedLine",
]
