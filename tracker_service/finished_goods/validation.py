"""Checks of request values that msgspec's types cannot express (all raise InvalidInput)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from tracker_service.lib.errors import InvalidInput

__all__ = ["ADJUST_REASONS", "STATUSES", "adjust_reason", "metrc_number", "status", "text"]

_METRC = re.compile(r"^[0-9A-Z]{10,24}$")

STATUSES: Final = ("active", "archived", "orphaned")

#: METRC-style reasons for a manual change of current_grams; "Other" needs a note.
ADJUST_REASONS: Final = ("Inventory Audit", "Damage", "Waste", "Theft", "Mistake", "Other")


def metrc_number(value: str, field: str = "metrc_number") -> str:
    tag = value.strip().upper()
    if not _METRC.match(tag):
        raise InvalidInput(field, "must be 10 to 24 letters and digits (a METRC package tag)")
    return tag


def text(value: str, field: str, *, max_length: int = 100) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidInput(field, "must not be empty")
    if len(cleaned) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters")
    return cleaned


def status(value: str, field: str = "status") -> str:
    if value not in STATUSES:
        raise InvalidInput(field, f"must be one of {', '.join(STATUSES)}")
    return value


def adjust_reason(
    value: str, note: str | None, reasons: Sequence[tuple[str, bool]] | None = None
) -> str:
    """One of ``reasons`` (name, note required): METRC's while its sync is on, else ours."""
    offered = reasons or [(name, name == "Other") for name in ADJUST_REASONS]
    by_lower = {name.lower(): (name, needs_note) for name, needs_note in offered}
    found = by_lower.get(" ".join(value.split()).lower())
    if found is None:
        raise InvalidInput("reason", f"must be one of {', '.join(n for n, _ in offered)}")
    reason, needs_note = found
    if needs_note and not (note and note.strip()):
        raise InvalidInput("note", f"is required when the reason is {reason}")
    return reason
