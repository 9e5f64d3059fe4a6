"""Wire shapes of the finished-goods API: one struct per direction (docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from preroll_contract import ApexCalculation, CustomSkuRead
from tracker_service.finished_goods.units import MAX_PACK_SIZE, MAX_UNITS
from tracker_service.lib.wire import Grams, Input, PositiveGrams, SignedGrams

__all__ = [
    "AdjustRequest",
    "ApexCalculation",
    "CustomSkuBody",
    "CustomSkuKey",
    "CustomSkuRead",
    "DecrementRequest",
    "DecrementResult",
    "HistoryEntry",
    "HoldCreate",
    "HoldRead",
    "HoldRelease",
    "PackageCreate",
    "PackageRead",
    "PackageUpdate",
    "SkuSettingRead",
    "SkuSettingUpdate",
]

MetrcTag = Annotated[str, Meta(min_length=1, max_length=64)]
Strain = Annotated[str, Meta(min_length=1, max_length=100)]
Status = Literal["active", "archived", "orphaned"]
Text = Annotated[str, Meta(max_length=500)]


class PackageCreate(Input, kw_only=True):
    metrc_number: MetrcTag
    strain: Strain
    initial_grams: Grams
    current_grams: Grams | None = None


class PackageUpdate(Input, kw_only=True):
    physical_override_grams: Grams | UnsetType | None = UNSET
    status: Status | UnsetType = UNSET
    strain: Strain | UnsetType = UNSET


class AdjustRequest(Input, kw_only=True):
    delta_grams: SignedGrams
    reason: Annotated[str, Meta(min_length=1, max_length=50)]
    note: Text | None = None
    #: The grams removed are Apex sales already counted by apex-decrement (docs/api.md).
    settles_apex_sales: bool = False


class SkuSettingUpdate(Input, kw_only=True):
    excluded: bool | UnsetType = UNSET
    manual_units: Annotated[int, Meta(ge=0, le=MAX_UNITS)] | UnsetType | None = UNSET


class CustomSkuBody(Input, kw_only=True):
    key: Annotated[str, Meta(min_length=1, max_length=64)]
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    grams_per_unit: PositiveGrams
    pack_size: Annotated[int, Meta(ge=1, le=MAX_PACK_SIZE)] = 1


class CustomSkuKey(Input, kw_only=True):
    """``DELETE .../custom-skus?key=`` (and the page's Delete button)."""

    key: Annotated[str, Meta(min_length=1, max_length=64)]


class HoldRelease(Input, kw_only=True):
    """``DELETE .../holds?id=`` (and the page's Release button)."""

    id: Annotated[int, Meta(ge=1, le=2**62)]


class HoldCreate(Input, kw_only=True):
    grams: PositiveGrams
    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class DecrementRequest(Input, kw_only=True):
    sku: Annotated[str, Meta(min_length=1, max_length=64)]
    units: Annotated[int, Meta(ge=1, le=MAX_UNITS)]
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=200)]


class SkuSettingRead(msgspec.Struct):
    excluded: bool
    manual_units: int | None


class HoldRead(msgspec.Struct):
    id: int
    grams: float
    reason: str
    created_by: str
    created_at: str


class PackageRead(msgspec.Struct, omit_defaults=True):
    metrc_number: str
    strain: str
    status: str
    initial_grams: float
    current_grams: float
    physical_override_grams: float | None
    grams_ordered: float
    #: The part of grams_ordered that Apex sales recorded by apex-decrement hold.
    grams_sold: float
    grams_packed: float
    grams_held: float
    available_grams: float
    apex_sku_settings: dict[str, SkuSettingRead]
    custom_skus: dict[str, CustomSkuRead]
    units: dict[str, int]
    holds: list[HoldRead]
    created_at: str
    updated_at: str
    #: Present when the package's units cannot be computed (they are all 0 meanwhile).
    problem: str | None = None


class DecrementResult(msgspec.Struct):
    applied: bool
    metrc_number: str
    sku: str
    units_decremented: int
    available_grams: float
    units: dict[str, int]


class HistoryEntry(msgspec.Struct):
    id: int
    at: str
    actor: str
    action: str
    field: str
    before: float | str | None
    after: float | str | None
    reason: str
    note: str | None
