"""Wire shapes both applications read or write (docs/api.md): one Struct per direction.

Inputs refuse unknown fields (a typo must not pass silently) and carry their limits in ``Meta``,
so every door that decodes through them applies the same rules. Answers ignore fields they do
not know, so the tracker may add fields without breaking an older ApexAPI.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from preroll_contract._grams import mg_from_grams

__all__ = [
    "NOT_LEASE_HOLDER",
    "ApexCalculation",
    "Change",
    "ChangeFeed",
    "CustomSkuRead",
    "Input",
    "LeaseGrant",
    "LeaseRequest",
    "LinePartRead",
    "LineResult",
    "LineState",
    "OrderLine",
    "OrderLineRead",
    "OrderLinesPut",
    "OrderLinesResult",
    "UnassignedLine",
]

#: The ``error`` code of a 409 to an order-lines PUT from an installation without the lease.
NOT_LEASE_HOLDER: Final = "not_lease_holder"

Count = Annotated[int, Meta(ge=0, le=10_000_000)]
Id = Annotated[int, Meta(ge=0, le=2**62)]
Holder = Annotated[str, Meta(min_length=1, max_length=200)]
LineState = Literal["open", "shipped", "cancelled"]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies refuse fields they do not know: a typo must not pass silently."""


class ApexCalculation(msgspec.Struct, frozen=True, omit_defaults=True):
    """One package's entry of ``GET /apex-calculate``.

    ``problem`` is present only when the package's numbers cannot be computed (its units are
    then all 0); the rest of the answer is unaffected. ``custom_skus`` is present when the
    package has any, so one answer says everything a sync needs.
    """

    strain: str
    status: str
    available_grams: float
    units: dict[str, int]
    problem: str | None = None
    custom_skus: dict[str, CustomSkuRead] = msgspec.field(default_factory=dict)


class CustomSkuRead(msgspec.Struct, frozen=True):
    name: str
    grams_per_unit: float
    pack_size: int

    @property
    def mg_per_unit(self) -> int:
        return mg_from_grams(self.grams_per_unit)


class Change(msgspec.Struct, frozen=True):
    metrc_number: str
    kind: str


class ChangeFeed(msgspec.Struct, frozen=True):
    cursor: int
    changes: list[Change]


class LeaseRequest(Input, kw_only=True):
    holder: Holder
    ttl_seconds: Annotated[int, Meta(ge=1, le=3600)] = 30


class LeaseGrant(msgspec.Struct, frozen=True):
    holder: str
    expires_at: str
    ttl_seconds: int


class OrderLine(Input, kw_only=True):
    """One Apex order line as ApexAPI reports it."""

    order_id: Id
    item_id: Id
    invoice_number: Annotated[str, Meta(max_length=100)]
    store: Annotated[str, Meta(max_length=200)]
    strain: Annotated[str, Meta(max_length=100)]
    sku: Annotated[str, Meta(max_length=64)]
    units_ordered: Count
    units_packed: Count
    metrc_number: Annotated[str, Meta(max_length=64)] | None = None
    state: LineState


class OrderLinesPut(Input, kw_only=True):
    """``PUT /api/sync/order-lines``: every line ApexAPI knows, sent by the lease holder."""

    holder: Holder
    lines: Annotated[list[OrderLine], Meta(max_length=50_000)]


class LineResult(msgspec.Struct, frozen=True):
    """Where a line's grams are: ``metrc_number`` is its first package (a line the strain
    cannot cover from one package spreads over several); ``short_units`` are the units no
    package covers."""

    item_id: int
    state: str
    metrc_number: str | None
    reserved_grams: float
    packed_grams: float
    shipped_grams: float
    short_units: int = 0


class UnassignedLine(msgspec.Struct, frozen=True):
    """A line the tracker could not fully cover, and why; ``short_units`` are the units no
    package covers."""

    item_id: int
    strain: str
    sku: str
    reason: str
    short_units: int = 0


class OrderLinesResult(msgspec.Struct, frozen=True):
    lines: list[LineResult]
    unassigned: list[UnassignedLine]
    #: Lines whose reservation this PUT ended (cancelled).
    released: list[int]
    reserved_grams: float
    packed_grams: float
    shipped_grams: float
    #: Open lines absent from this PUT: they keep their grams until staff release them.
    missing: list[int] = msgspec.field(default_factory=list)


class LinePartRead(msgspec.Struct, frozen=True):
    """The grams one package holds for an order line."""

    metrc_number: str
    reserved_grams: float
    packed_grams: float
    shipped_grams: float


class OrderLineRead(msgspec.Struct, frozen=True, kw_only=True):
    """A stored order line (``GET /api/sync/order-lines``)."""

    item_id: int
    order_id: int
    invoice_number: str
    store: str
    strain: str
    sku: str
    units_ordered: int
    units_packed: int
    metrc_number: str | None
    state: str
    reserved_grams: float
    packed_grams: float
    shipped_grams: float
    missing_since: str | None
    released_by: str | None
    released_at: str | None
    reported_after_release_at: str | None
    updated_at: str
    short_units: int = 0
    packages: list[LinePartRead] = msgspec.field(default_factory=list)
