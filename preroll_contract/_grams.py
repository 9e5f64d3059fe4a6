"""Grams on the wire, integer milligrams inside: exact conversion both ways.

A JSON number such as 12.345 is read back exactly (``repr`` of a float is the shortest text that
reads back as the same float), so no floating-point rounding ever decides a unit count.
"""

from __future__ import annotations

import math
from decimal import Decimal

__all__ = ["MAX_GRAMS", "grams_from_mg", "mg_from_grams"]

#: Ten tonnes: far above any real package, low enough that no sum can overflow a float's
#: exact-integer range when shown as grams.
MAX_GRAMS = 10_000_000


def mg_from_grams(value: float, *, allow_negative: bool = False) -> int:
    """Milligrams of a gram amount; ValueError says what is wrong with it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number of grams")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number of grams")
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    milligrams = exact * 1000
    if milligrams != milligrams.to_integral_value():
        raise ValueError("must have at most 3 decimal places (milligram precision)")
    if abs(exact) > MAX_GRAMS:
        raise ValueError(f"must be at most {MAX_GRAMS} grams")
    if not allow_negative and exact < 0:
        raise ValueError("must not be negative")
    return int(milligrams)


def grams_from_mg(milligrams: int) -> float:
    """Milligrams as a JSON-ready gram number (exact: three decimals always round-trip)."""
    if milligrams % 1000 == 0:
        return milligrams // 1000
    return milligrams / 1000
