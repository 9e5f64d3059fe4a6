"""PreRollTracker's wire shapes as the engine reads them (docs/api.md). Decoding is strict:
an answer that does not fit is an error, never a guess."""

from __future__ import annotations

import msgspec

__all__ = ["ChangeFeed", "CustomSku", "OrderLinesAnswer", "PackageCalc", "PackageSkus"]


class PackageCalc(msgspec.Struct, frozen=True):
    strain: str
    status: str
    available_grams: float
    units: dict[str, int]


class CustomSku(msgspec.Struct, frozen=True):
    name: str
    grams_per_unit: float
    pack_size: int

    @property
    def mg_per_unit(self) -> int:
        return round(self.grams_per_unit * 1000)


class PackageSkus(msgspec.Struct, frozen=True):
    """The part of a package read that says which custom SKUs it has."""

    metrc_number: str
    custom_skus: dict[str, CustomSku]


class Change(msgspec.Struct, frozen=True):
    metrc_number: str
    kind: str


class ChangeFeed(msgspec.Struct, frozen=True):
    cursor: int
    changes: list[Change]


class LineAnswer(msgspec.Struct, frozen=True):
    item_id: int
    state: str
    metrc_number: str | None


class Unassigned(msgspec.Struct, frozen=True):
    item_id: int
    strain: str
    sku: str
    reason: str


class OrderLinesAnswer(msgspec.Struct, frozen=True):
    lines: list[LineAnswer]
    unassigned: list[Unassigned]
