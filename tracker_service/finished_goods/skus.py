"""SKU types: the four defaults, their aliases, and per-package custom SKUs."""

from __future__ import annotations

import re
from typing import Final

import msgspec

from tracker_service.lib.errors import InvalidInput

__all__ = [
    "DEFAULT_SKUS",
    "SKU_ALIASES",
    "SkuSetting",
    "SkuType",
    "canonical_sku",
    "validate_custom_sku_key",
]


class SkuType(msgspec.Struct, frozen=True):
    """How much product one sale unit of a SKU takes."""

    name: str
    mg_per_unit: int
    pack_size: int

    @property
    def mg_per_sale_unit(self) -> int:
        return self.mg_per_unit * self.pack_size


class SkuSetting(msgspec.Struct, frozen=True):
    """Per-package override for one SKU (guide §4.6)."""

    excluded: bool = False
    manual_units: int | None = None


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

_CUSTOM_KEY = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")


def canonical_sku(key: str, custom_keys: frozenset[str] | set[str], field: str) -> str:
    """Map a default key, an alias or a custom key of the package to its canonical key."""
    key = key.strip()
    if key in DEFAULT_SKUS or key in custom_keys:
        return key
    if key in SKU_ALIASES:
        return SKU_ALIASES[key]
    known = sorted({*DEFAULT_SKUS, *SKU_ALIASES, *custom_keys})
    raise InvalidInput(field, f"unknown SKU {key!r}; known SKUs: {', '.join(known)}")


def validate_custom_sku_key(key: str, field: str = "key") -> str:
    if not _CUSTOM_KEY.match(key):
        raise InvalidInput(
            field, "must be 1-64 characters of a-z, 0-9 and _, starting with a letter or digit"
        )
    if key in DEFAULT_SKUS or key in SKU_ALIASES:
        raise InvalidInput(field, f"{key!r} is a default SKU key; choose another key")
    return key
