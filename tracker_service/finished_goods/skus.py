"""SKU types (the table lives in ``preroll_contract``), per-package SKU settings, and the
checks of SKU keys a request names."""

from __future__ import annotations

import re
from collections.abc import Collection

import msgspec

from preroll_contract import DEFAULT_SKUS, SKU_ALIASES, SkuType, canonical_sku_key
from tracker_service.lib.errors import InvalidInput

__all__ = [
    "DEFAULT_SKUS",
    "SKU_ALIASES",
    "SkuSetting",
    "SkuType",
    "canonical_sku",
    "validate_custom_sku_key",
]


class SkuSetting(msgspec.Struct, frozen=True):
    """Per-package override for one SKU (guide §4.6)."""

    excluded: bool = False
    manual_units: int | None = None


_CUSTOM_KEY = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")


def canonical_sku(key: str, custom_keys: Collection[str], field: str) -> str:
    """Map a default key, an alias or a custom key of the package to its canonical key."""
    canonical = canonical_sku_key(key, custom_keys)
    if canonical is not None:
        return canonical
    known = sorted({*DEFAULT_SKUS, *SKU_ALIASES, *custom_keys})
    raise InvalidInput(field, f"unknown SKU {key.strip()!r}; known SKUs: {', '.join(known)}")


def validate_custom_sku_key(key: str, field: str = "key") -> str:
    if not _CUSTOM_KEY.match(key):
        raise InvalidInput(
            field, "must be 1-64 characters of a-z, 0-9 and _, starting with a letter or digit"
        )
    if key in DEFAULT_SKUS or key in SKU_ALIASES:
        raise InvalidInput(field, f"{key!r} is a default SKU key; choose another key")
    return key
