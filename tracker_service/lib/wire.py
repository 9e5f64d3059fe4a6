"""Shared pieces of the API's wire shapes: the request base and gram amounts with their limits.

The limits live in the types, so every door that decodes through them (JSON bodies and staff
forms alike, see ``lib/forms.py``) refuses the same values with the same message.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from preroll_contract import MAX_GRAMS, Input

__all__ = ["Grams", "Input", "PositiveGrams", "SignedGrams"]

Grams = Annotated[float, Meta(ge=0, le=MAX_GRAMS, description="grams, at most 3 decimals")]
PositiveGrams = Annotated[
    float, Meta(gt=0, le=MAX_GRAMS, description="grams above 0, at most 3 decimals")
]
SignedGrams = Annotated[
    float,
    Meta(ge=-MAX_GRAMS, le=MAX_GRAMS, description="grams (negative removes), at most 3 decimals"),
]
