"""``calculate_apex_units``: how many units of each SKU a package can sell (SPEC §2.3).

Pure integer arithmetic over milligrams; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from tracker_service.finished_goods.skus import DEFAULT_SKUS, SkuSetting, SkuType

__all__ = ["PackageAmounts", "available_mg", "calculate_apex_units"]

SELLABLE_STATUS = "active"


class PackageAmounts(msgspec.Struct, frozen=True):
    """The gram figures of one package that decide what it can sell, in milligrams."""

    current_mg: int
    override_mg: int | None = None
    ordered_mg: int = 0
    packed_mg: int = 0
    held_mg: int = 0


def available_mg(amounts: PackageAmounts) -> int:
    """Effective grams (override, else METRC) less every commitment, never below zero."""
    effective = amounts.current_mg if amounts.override_mg is None else amounts.override_mg
    return max(0, effective - amounts.ordered_mg - amounts.packed_mg - amounts.held_mg)


def calculate_apex_units(
    status: str,
    available: int,
    settings: Mapping[str, SkuSetting],
    custom_skus: Mapping[str, SkuType],
) -> dict[str, int]:
    """Units per SKU key (defaults first, then custom SKUs in key order)."""
    skus = {**DEFAULT_SKUS, **{k: custom_skus[k] for k in sorted(custom_skus)}}
    if status != SELLABLE_STATUS:
        return dict.fromkeys(skus, 0)
    units: dict[str, int] = {}
    for key, sku in skus.items():
        setting = settings.get(key)
        if setting is not None and setting.excluded:
            units[key] = 0
        elif setting is not None and setting.manual_units is not None:
            units[key] = setting.manual_units
        else:
            units[key] = available // sku.mg_per_sale_unit
    return units
