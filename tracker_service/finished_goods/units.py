"""``calculate_apex_units``: how many units of each SKU a package can sell (docs/api.md).

Pure integer arithmetic over milligrams; no I/O. :func:`find_problem` names what would make a
package's numbers impossible to compute (a stored SKU outside the limits every door enforces),
so one such package is reported instead of breaking ``/apex-calculate`` for all.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from preroll_contract import MAX_GRAMS
from tracker_service.finished_goods.skus import DEFAULT_SKUS, SkuSetting, SkuType

__all__ = [
    "MAX_PACK_SIZE",
    "MAX_UNITS",
    "PackageAmounts",
    "available_mg",
    "calculate_apex_units",
    "find_problem",
]

SELLABLE_STATUS = "active"
#: Limits of SKU settings and custom SKUs, shared by the request schemas and the checks here.
MAX_UNITS = 10_000_000
MAX_PACK_SIZE = 1000
_MAX_MG = MAX_GRAMS * 1000


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


def find_problem(
    settings: Mapping[str, SkuSetting], custom_skus: Mapping[str, SkuType]
) -> str | None:
    """Why this package's units cannot be computed, or None when they can."""
    for key, sku in sorted(custom_skus.items()):
        if not 0 < sku.mg_per_unit <= _MAX_MG:
            return (
                f"custom SKU {key} has {sku.mg_per_unit / 1000:g} g per unit; it must be more "
                "than 0: correct or delete it on the package page"
            )
        if not 1 <= sku.pack_size <= MAX_PACK_SIZE:
            return (
                f"custom SKU {key} has pack size {sku.pack_size}; it must be 1 to "
                f"{MAX_PACK_SIZE}: correct or delete it on the package page"
            )
    for key, setting in sorted(settings.items()):
        manual = setting.manual_units
        if manual is not None and not 0 <= manual <= MAX_UNITS:
            return (
                f"SKU {key} has manual units {manual}; they must be 0 to {MAX_UNITS}: "
                "correct them on the package page"
            )
    return None


def calculate_apex_units(
    status: str,
    available: int,
    settings: Mapping[str, SkuSetting],
    custom_skus: Mapping[str, SkuType],
) -> dict[str, int]:
    """Units per SKU key (defaults first, then custom SKUs in key order).

    Every SKU must pass :func:`find_problem` (callers check first).
    """
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
