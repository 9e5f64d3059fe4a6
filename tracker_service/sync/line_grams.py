"""Which packages hold an order line's grams, and how many (docs/api.md, "Order lines"). Pure.

Packages are offered in the order the line should use them (its own packages first, then the
strain's active packages, oldest first). Packed units come first (they are physically packed:
what no package has room for still goes on the first package), then the units still to pack.
Each package takes whole sale units while it has room; when the strain cannot cover the line,
the grams left on each package that do not make a whole unit are reserved too, so the strain
advertises nothing more, and the units no package covers are the line's shortfall.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Held", "Room", "Share", "split_shipped", "spread_line"]


@dataclass(frozen=True, slots=True)
class Room:
    """A package the line may use: its sale unit for the line's SKU and the grams it can give
    this line (its free grams plus what it already holds for this line)."""

    metrc_number: str
    unit_mg: int
    room_mg: int


@dataclass(frozen=True, slots=True)
class Share:
    """The grams one package holds for the line."""

    metrc_number: str
    reserved_mg: int
    packed_mg: int


def spread_line(
    rooms: Sequence[Room], units_packed: int, units_to_pack: int
) -> tuple[list[Share], int]:
    """Shares in the order of ``rooms`` (packages given nothing are left out) and the units no
    package covers."""
    if not rooms:
        return [], units_to_pack
    left = {room.metrc_number: max(0, room.room_mg) for room in rooms}
    packed = dict.fromkeys(left, 0)
    reserved = dict.fromkeys(left, 0)
    over = _take_whole_units(rooms, units_packed, left, packed)
    packed[rooms[0].metrc_number] += over * rooms[0].unit_mg  # packed: it exists somewhere
    short = _take_whole_units(rooms, units_to_pack, left, reserved)
    if short:
        for room in rooms:  # the strain cannot cover the line: hold every gram it has
            reserved[room.metrc_number] += left[room.metrc_number]
            left[room.metrc_number] = 0
    shares = [
        Share(room.metrc_number, reserved[room.metrc_number], packed[room.metrc_number])
        for room in rooms
    ]
    return [s for s in shares if s.reserved_mg or s.packed_mg], short


def _take_whole_units(
    rooms: Sequence[Room], units: int, left: dict[str, int], taken: dict[str, int]
) -> int:
    """Put ``units`` on the rooms in order, whole units only; returns the units that found no
    room."""
    for room in rooms:
        if units <= 0:
            break
        fits = min(units, left[room.metrc_number] // room.unit_mg)
        taken[room.metrc_number] += fits * room.unit_mg
        left[room.metrc_number] -= fits * room.unit_mg
        units -= fits
    return max(0, units)


@dataclass(frozen=True, slots=True)
class Held:
    """What one package held for a line when it ships, and its sale unit for the line's SKU
    (None when it can no longer sell that SKU)."""

    reserved_mg: int
    packed_mg: int
    unit_mg: int | None


def split_shipped(held: Sequence[Held], units_packed: int) -> list[int]:
    """The grams each package ships for a line, first package first.

    Packed units leave the packages in order, each giving at most what it held; units beyond
    that leave the first package (they were packed, so they existed). A package that can no
    longer sell the SKU ships what was recorded as packed on it."""
    shipped = [0] * len(held)
    units = units_packed
    for index, part in enumerate(held):
        if part.unit_mg is None:
            shipped[index] = part.packed_mg
            continue
        fits = min(units, (part.reserved_mg + part.packed_mg) // part.unit_mg)
        shipped[index] = fits * part.unit_mg
        units -= fits
    if held and units > 0 and held[0].unit_mg is not None:
        shipped[0] += units * held[0].unit_mg
    return shipped
