"""Wire shapes of the sync endpoints (SPEC §2.4, §3.4)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from tracker_service.lib.wire import Input

__all__ = [
    "Change",
    "ChangeFeed",
    "LeaseGrant",
    "LeaseRequest",
    "LineResult",
    "OrderLine",
    "OrderLinesPut",
    "OrderLinesResult",
    "UnassignedLine",
]

Count = Annotated[int, Meta(ge=0, le=10_000_000)]
Id = Annotated[int, Meta(ge=0, le=2**62)]


class LeaseRequest(Input, kw_only=True):
    holder: Annotated[str, Meta(min_length=1, max_length=200)]
    ttl_seconds: Annotated[int, Meta(ge=1, le=3600)] = 30


class LeaseGrant(msgspec.Struct):
    holder: str
    expires_at: str
    ttl_seconds: int


class Change(msgspec.Struct):
    metrc_number: str
    kind: str


class ChangeFeed(msgspec.Struct):
    cursor: int
    changes: list[Change]


class OrderLine(Input, kw_only=True):
    order_id: Id
    item_id: Id
    invoice_number: Annotated[str, Meta(max_length=100)]
    store: Annotated[str, Meta(max_length=200)]
    strain: Annotated[str, Meta(max_length=100)]
    sku: Annotated[str, Meta(max_length=64)]
    units_ordered: Count
    units_packed: Count
    metrc_number: Annotated[str, Meta(max_length=64)] | None = None
    state: Literal["open", "shipped", "cancelled"]


class OrderLinesPut(Input, kw_only=True):
    lines: Annotated[list[OrderLine], Meta(max_length=50_000)]


class LineResult(msgspec.Struct):
    item_id: int
    state: str
    metrc_number: str | None
    reserved_grams: float
    packed_grams: float
    shipped_grams: float


class UnassignedLine(msgspec.Struct):
    item_id: int
    strain: str
    sku: str
    reason: str


class OrderLinesResult(msgspec.Struct):
    lines: list[LineResult]
    unassigned: list[UnassignedLine]
    released: list[int]
    reserved_grams: float
    packed_grams: float
    shipped_grams: float
