"""Wire shapes of the finished-goods API: one struct per direction (SPEC §2.4)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tracker_service.lib.wire import Grams, Input

__all__ = [
    "AdjustRequest",
    "ApexCalculation",
    "CustomSkuBody",
    "CustomSkuRead",
    "DecrementRequest",
    "DecrementResult",
    "HistoryEntry",
    "HoldCreate",
    "HoldRead",
    "PackageCreate",
    "PackageRead",
    "PackageUpdate",
    "SkuSettingRead",
    "SkuSettingUpdate",
]

MetrcTag = Annotated[str, Meta(min_length=1, max_length=64)]
Text = Annotated[str, Meta(max_length=500)]


class PackageCreate(Input, kw_only=True):
    metrc_number: MetrcTag
    strain: Annotated[str, Meta(max_length=100)]
    initial_grams: Grams
    current_grams: Grams | None = None


class PackageUpdate(Input, kw_only=True):
    physical_override_grams: Grams | UnsetType | None = UNSET
    status: str | UnsetType = UNSET
    strain: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET


class AdjustRequest(Input, kw_only=True):
    delta_grams: Grams
    reason: Annotated[str, Meta(max_length=50)]
    note: Text | None = None


class SkuSettingUpdate(Input, kw_only=True):
    excluded: bool | UnsetType = UNSET
    manual_units: Annotated[int, Meta(ge=0, le=10000000)] | UnsetType | None = UNSET


class CustomSkuBody(Input, kw_only=True):
    key: Annotated[str, Meta(max_length=64)]
    name: Annotated[str, Meta(max_length=100)]
    grams_per_unit: Grams
    pack_size: Annotated[int, Meta(ge=1, le=1000)] = 1


class HoldCreate(Input, kw_only=True):
    grams: Grams
    reason: Annotated[str, Meta(max_length=200)]


class DecrementRequest(Input, kw_only=True):
    sku: Annotated[str, Meta(max_length=64)]
    units: Annotated[int, Meta(ge=1, le=10_000_000)]
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=200)]


class SkuSettingRead(msgspec.Struct):
    excluded: bool
    manual_units: int | None


class CustomSkuRead(msgspec.Struct):
    name: str
    grams_per_unit: float
    pack_size: int


class HoldRead(msgspec.Struct):
    id: int
    grams: float
    reason: str
    created_by: str
    created_at: str


class PackageRead(msgspec.Struct):
    metrc_number: str
    strain: str
    status: str
    initial_grams: float
    current_grams: float
    physical_override_grams: float | None
    grams_ordered: float
    grams_packed: float
    grams_held: float
    available_grams: float
    apex_sku_settings: dict[str, SkuSettingRead]
    custom_skus: dict[str, CustomSkuRead]
    units: dict[str, int]
    holds: list[HoldRead]
    created_at: str
    updated_at: str


class ApexCalculation(msgspec.Struct):
    strain: str
    status: str
    available_grams: float
    units: dict[str, int]


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
