"""Shared pieces of the API's wire shapes."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

__all__ = ["Grams", "Input"]

Grams = Annotated[float, Meta(description="grams, at most 3 decimals")]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies refuse fields they do not know: a typo must not pass silently."""
