"""The SKU table: the four default SKUs, their aliases, and which products each one sells."""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

import msgspec

__all__ = ["DEFAULT_SKUS", "SKU_ALIASES", "SkuType", "canonical_sku_key", "default_sku_key"]


class SkuType(msgspec.Struct, frozen=True):
    """How much product one sale unit of a SKU takes (a 6-pack box is one sale unit)."""

    name: str
    mg_per_unit: int
    pack_size: int

    @property
    def mg_per_sale_unit(self) -> int:
        return self.mg_per_unit * self.pack_size


DEFAULT_SKUS: Final[dict[str, SkuType]] = {
    "singles_0_5g": SkuType("Single 0.5g", 500, 1),
    "singles_1g": SkuType("Single 1g", 1000, 1),
    "box_0_5g_6pk": SkuType("Magnetic Box 0.5g 6pk", 500, 6),
    "box_0_5g_12pk": SkuType("Magnetic Box 0.5g 12pk", 500, 12),
}

SKU_ALIASES: Final[dict[str, str]] = {
    "singles_1_0g": "singles_1g",
    "magnetic_box_6pk": "box_0_5g_6pk",
    "magnetic_box_12pk": "box_0_5g_12pk",
}

#: Product families (as ApexAPI's product-name parser names them) that each default SKU sells:
#: single pre-rolls and CannaDarts by size, Magnetic Boxes by size and pack.
_DEFAULT_FAMILIES: Final[dict[str, frozenset[str]]] = {
    "singles_0_5g": frozenset({"Pre-Roll", "CannaDart"}),
    "singles_1g": frozenset({"Pre-Roll", "CannaDart"}),
    "box_0_5g_6pk": frozenset({"Magnetic Box"}),
    "box_0_5g_12pk": frozenset({"Magnetic Box"}),
}


def canonical_sku_key(key: str, custom_keys: Collection[str] = ()) -> str | None:
    """The canonical key of a default key, an alias or one of ``custom_keys``; else None."""
    key = key.strip()
    if key in DEFAULT_SKUS or key in custom_keys:
        return key
    return SKU_ALIASES.get(key)


def default_sku_key(family: str, mg_per_unit: int, pack_size: int) -> str | None:
    """The default SKU that sells this product, or None when only a custom SKU can."""
    for key, sku in DEFAULT_SKUS.items():
        if (
            family in _DEFAULT_FAMILIES[key]
            and sku.mg_per_unit == mg_per_unit
            and sku.pack_size == pack_size
        ):
            return key
    return None
