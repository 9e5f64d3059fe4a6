"""Grams at the edges, integer milligrams inside.

The API speaks grams as JSON numbers with at most three decimals; everything stored or
computed is an ``int`` of milligrams, so no floating-point rounding ever decides a unit count.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from tracker_service.lib.errors import InvalidInput

__all__ = ["MAX_GRAMS", "grams_to_mg", "mg_to_grams"]

#: Ten tonnes: far above any real package, low enough that no sum can overflow a float's
#: exact-integer range when shown as grams.
MAX_GRAMS = 10_000_000


def grams_to_mg(value: float, field: str, *, allow_negative: bool = False) -> int:
    """Convert a gram amount from the API into milligrams, or raise naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, "must be a number of grams")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(field, "must be a finite number of grams")
    try:
        # repr() of a float is the shortest text that reads back as the same float, so a
        # JSON number such as 12.345 comes back exactly as "12.345".
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - repr of a finite float always parses
        raise InvalidInput(field, "must be a number of grams") from exc
    milligrams = exact * 1000
    if milligrams != milligrams.to_integral_value():
        raise InvalidInput(field, "must have at most 3 decimal places (milligram precision)")
    if abs(exact) > MAX_GRAMS:
        raise InvalidInput(field, f"must be at most {MAX_GRAMS} grams")
    if not allow_negative and exact < 0:
        raise InvalidInput(field, "must not be negative")
    return int(milligrams)


def mg_to_grams(milligrams: int) -> float:
    """Milligrams as a JSON-ready gram number (exact: three decimals always round-trip)."""
    if milligrams % 1000 == 0:
        return milligrams // 1000
    return milligrams / 1000
