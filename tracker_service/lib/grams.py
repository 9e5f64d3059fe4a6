"""Grams at the edges, integer milligrams inside (``preroll_contract``'s exact conversion),
with errors that name the request field."""

from __future__ import annotations

from preroll_contract import MAX_GRAMS, mg_from_grams
from preroll_contract import grams_from_mg as mg_to_grams
from tracker_service.lib.errors import InvalidInput

__all__ = ["MAX_GRAMS", "grams_to_mg", "mg_to_grams"]


def grams_to_mg(value: float, field: str, *, allow_negative: bool = False) -> int:
    """Convert a gram amount from the API into milligrams, or raise naming ``field``."""
    try:
        return mg_from_grams(value, allow_negative=allow_negative)
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None
