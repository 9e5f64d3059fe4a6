"""Placing order lines on packages and moving their grams, inside one write (docs/api.md).

Shared by the order-lines PUT and by staff actions on a line: which package a line goes to,
how its reserved, packed and shipped grams move, the audit lines that record each move, and
the stored line. Everything here runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import msgspec

from preroll_contract import OrderLine, OrderLinesResult, canonical_sku_key, strain_key
from tracker_service.finished_goods import repository as fg_repo
from tracker_service.finished_goods.records import PackageRecord
from tracker_service.finished_goods.repository import AuditEntry
from tracker_service.lib.db import Conn
from tracker_service.lib.grams import mg_to_grams
from tracker_service.lib.repository import append_change
from tracker_service.sync import repository as repo
from tracker_service.sync.line_grams import Held, Room, Share, split_shipped, spread_line
from tracker_service.sync.repository import LinePart, StoredLine
from tracker_service.sync.schemas import LineResult, UnassignedLine

__all__ = [
    "LineRun",
    "PackageGrams",
    "describe",
    "finish",
    "line_result",
    "move",
    "move_grams",
    "place_open",
    "release_from",
    "result",
    "ship",
    "store",
    "unassigned",
]


@dataclass
class PackageGrams:
    """A package plus what this write has changed on it so far (milligrams)."""

    record: PackageRecord
    reserved: int = 0
    packed: int = 0
    shipped: int = 0
    touched: bool = False

    @property
    def free_mg(self) -> int:
        """Grams not yet committed; negative when the package is over-committed."""
        r = self.record
        effective = (r.current_mg if r.override_mg is None else r.override_mg) - self.shipped
        committed = r.ordered_mg + self.reserved + r.packed_mg + self.packed + r.held_mg
        return effective - committed

    def sale_unit_mg(self, sku: str) -> int | None:
        """Grams one sale unit of ``sku`` takes from this package; None when it cannot sell it."""
        key = canonical_sku_key(sku, self.record.custom_skus)
        if self.record.problem or key is None:
            return None
        return self.record.sku(key).mg_per_sale_unit


@dataclass
class LineRun:
    """One write's working state inside its transaction."""

    conn: Conn
    at: str
    actor: str
    packages: dict[str, PackageGrams | None] = field(default_factory=dict)
    results: list[LineResult] = field(default_factory=list)
    unassigned: list[UnassignedLine] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    reserved_total: int = 0
    packed_total: int = 0

    def package(self, metrc: str) -> PackageGrams | None:
        if metrc not in self.packages:
            record = fg_repo.load_package(self.conn, metrc)
            self.packages[metrc] = None if record is None else PackageGrams(record)
        return self.packages[metrc]

    def candidates(self, strain: str) -> Iterator[PackageGrams]:
        for record in fg_repo.load_active_by_strain(self.conn, strain_key(strain)):
            package = self.package(record.metrc_number)
            if package is not None:
                yield package


def place_open(run: LineRun, line: OrderLine, wanted: str | None, prev: StoredLine | None) -> None:
    """Reserve (and count as packed) an open line's grams: on the package it names, else on
    the packages it already holds grams on, else on the oldest active package of its strain
    that covers it whole, else spread over the strain's packages (docs/api.md)."""
    held = prev.parts if prev is not None else ()
    units_to_pack = max(0, line.units_ordered - line.units_packed)
    if wanted is not None:
        package = run.package(wanted)
        if package is None:
            return unassigned(run, line, prev, f"package {wanted} not found")
        unit = package.sale_unit_mg(line.sku)
        if unit is None:
            return unassigned(run, line, prev, _cannot_sell(package, line.sku))
        shares = [Share(wanted, units_to_pack * unit, line.units_packed * unit)]
        short = 0
    else:
        rooms = _rooms(run, line, held)
        if not rooms:
            return unassigned(run, line, prev, _nowhere(run, line, held))
        shares, short = spread_line(rooms, line.units_packed, units_to_pack)
    parts = tuple(LinePart(s.metrc_number, s.reserved_mg, s.packed_mg) for s in shares)
    _move_parts(run, line, held, parts)
    store(run, line, parts, "open", prev, short_units=short)
    if short:
        covered = line.units_ordered - short
        run.unassigned.append(
            UnassignedLine(
                line.item_id,
                line.strain,
                line.sku,
                f"short by {short} x {line.sku}: the active packages of strain "
                f"{line.strain!r} cover {covered} of {line.units_ordered}; what they have is "
                "reserved for this line",
                short,
            )
        )
    return None


def _rooms(run: LineRun, line: OrderLine, held: tuple[LinePart, ...]) -> list[Room]:
    """The packages this line may use, in the order it should use them."""
    own = {part.metrc_number: part.reserved_mg + part.packed_mg for part in held}
    rooms: list[Room] = []
    for part in held:  # sticky: a line keeps its packages while they can sell its SKU
        package = run.package(part.metrc_number)
        unit = package.sale_unit_mg(line.sku) if package is not None else None
        if package is not None and unit is not None:
            rooms.append(Room(part.metrc_number, unit, package.free_mg + own[part.metrc_number]))
    taken = {room.metrc_number for room in rooms}
    others: list[Room] = []
    for package in run.candidates(line.strain):
        unit = package.sale_unit_mg(line.sku)
        tag = package.record.metrc_number
        if unit is not None and tag not in taken:
            others.append(Room(tag, unit, package.free_mg + own.get(tag, 0)))
    if not rooms:
        needed = line.units_ordered
        whole = next((r for r in others if r.room_mg >= needed * r.unit_mg), None)
        if whole is not None:
            return [whole]
    return rooms + others


def _nowhere(run: LineRun, line: OrderLine, held: tuple[LinePart, ...]) -> str:
    for part in held:
        package = run.package(part.metrc_number)
        if package is not None:
            return _cannot_sell(package, line.sku)
    return f"no active package of strain {line.strain!r} sells {line.sku}"


def _move_parts(
    run: LineRun, line: OrderLine, held: tuple[LinePart, ...], parts: tuple[LinePart, ...]
) -> None:
    """Move grams on each package by the difference between what it held and what it holds."""
    before = {p.metrc_number: p for p in held}
    after = {p.metrc_number: p for p in parts}
    for tag in [*after, *(t for t in before if t not in after)]:
        old, new = before.get(tag, LinePart(tag)), after.get(tag, LinePart(tag))
        what = "order line synced" if tag in after else f"moved to {_first(parts)}"
        move(
            run,
            tag,
            new.reserved_mg - old.reserved_mg,
            new.packed_mg - old.packed_mg,
            0,
            line,
            what,
        )


def _first(parts: tuple[LinePart, ...]) -> str:
    return parts[0].metrc_number if parts else "no package"


def _cannot_sell(package: PackageGrams, sku: str) -> str:
    tag = package.record.metrc_number
    if package.record.problem:
        return f"package {tag} sells nothing until fixed: {package.record.problem}"
    return f"package {tag} has no SKU {sku!r}"


def ship(run: LineRun, line: OrderLine, prev: StoredLine) -> None:
    """The line left: its packed units leave its packages, the rest of its grams free up."""
    held = [
        Held(part.reserved_mg, part.packed_mg, _unit(run, part.metrc_number, line.sku))
        for part in prev.parts
    ]
    shipped = split_shipped(held, line.units_packed)
    for part, grams in zip(prev.parts, shipped, strict=True):
        move(
            run,
            part.metrc_number,
            -part.reserved_mg,
            -part.packed_mg,
            grams,
            line,
            "shipped: packed grams left the package",
        )
    parts = tuple(
        LinePart(part.metrc_number, shipped_mg=grams)
        for part, grams in zip(prev.parts, shipped, strict=True)
    )
    store(run, line, parts, "shipped", prev)


def _unit(run: LineRun, tag: str, sku: str) -> int | None:
    package = run.package(tag)
    return package.sale_unit_mg(sku) if package is not None else None


def unassigned(run: LineRun, line: OrderLine, prev: StoredLine | None, reason: str) -> None:
    if prev is not None:
        release_from(run, prev, line, f"unassigned: {reason}")
    store(run, line, (), "open", prev, short_units=line.units_ordered)
    run.unassigned.append(
        UnassignedLine(line.item_id, line.strain, line.sku, reason, line.units_ordered)
    )


def release_from(run: LineRun, prev: StoredLine, line: OrderLine, what: str) -> None:
    """Give back what ``prev`` had reserved and packed on its packages."""
    for part in prev.parts:
        move(run, part.metrc_number, -part.reserved_mg, -part.packed_mg, 0, line, what)


def describe(line: StoredLine | OrderLine) -> str:
    return f"Order {line.invoice_number} item {line.item_id} ({line.store})"


def move(
    run: LineRun, tag: str, reserved: int, packed: int, shipped: int, line: OrderLine, what: str
) -> None:
    move_grams(
        run,
        tag,
        reserved,
        packed,
        shipped,
        f"{describe(line)}: {line.units_ordered} x {line.sku} ordered, "
        f"{line.units_packed} packed; {what}",
    )


def move_grams(
    run: LineRun, tag: str, reserved: int, packed: int, shipped: int, reason: str
) -> None:
    package = run.package(tag)
    if package is None or not (reserved or packed or shipped):
        return
    r = package.record
    for field_name, before, delta in (
        ("grams_ordered", r.ordered_mg + package.reserved, reserved),
        ("grams_packed", r.packed_mg + package.packed, packed),
        ("current_grams", r.current_mg - package.shipped, -shipped),
    ):
        if delta:
            fg_repo.append_audit(
                run.conn,
                run.at,
                AuditEntry(
                    metrc_number=tag,
                    actor=run.actor,
                    action="order_lines",
                    field=field_name,
                    before_mg=before,
                    after_mg=max(0, before + delta),
                    reason=reason,
                ),
            )
    package.reserved += reserved
    package.packed += packed
    package.shipped += shipped
    package.touched = True


def store(
    run: LineRun,
    line: OrderLine,
    parts: tuple[LinePart, ...],
    state: str,
    prev: StoredLine | None,
    *,
    short_units: int = 0,
) -> None:
    """Save the line as ``parts`` hold it; a line without parts keeps naming the package it
    had (a cancelled line, say, still shows where it was)."""
    # A line once released keeps who released it until a person reserves it again.
    kept = prev if prev is not None and state != "open" else None
    tag = parts[0].metrc_number if parts else (prev.metrc_number if prev and kept else None)
    reserved = sum(p.reserved_mg for p in parts)
    packed = sum(p.packed_mg for p in parts)
    shipped = sum(p.shipped_mg for p in parts)
    stored = StoredLine(
        item_id=line.item_id,
        order_id=line.order_id,
        invoice_number=line.invoice_number,
        store=line.store,
        strain=" ".join(line.strain.split()),
        sku=line.sku.strip(),
        units_ordered=line.units_ordered,
        units_packed=line.units_packed,
        requested_metrc=line.metrc_number,
        metrc_number=tag,
        state=state,
        reserved_mg=reserved,
        packed_mg=packed,
        shipped_mg=shipped,
        released_by=kept.released_by if kept else None,
        released_at=kept.released_at if kept else None,
        reported_after_release_at=kept.reported_after_release_at if kept else None,
        short_units=short_units,
        first_seen_at=prev.first_seen_at if prev is not None else run.at,
        updated_at=prev.updated_at if prev is not None else run.at,
        parts=parts,
    )
    run.results.append(
        line_result(line.item_id, state, tag, reserved, packed, shipped, short_units)
    )
    run.reserved_total += reserved
    run.packed_total += packed
    if stored != prev:
        repo.save_line(run.conn, msgspec.structs.replace(stored, updated_at=run.at))


def line_result(
    item_id: int,
    state: str,
    tag: str | None,
    reserved: int,
    packed: int,
    shipped: int,
    short_units: int = 0,
) -> LineResult:
    return LineResult(
        item_id,
        state,
        tag,
        mg_to_grams(reserved),
        mg_to_grams(packed),
        mg_to_grams(shipped),
        short_units,
    )


def finish(run: LineRun) -> None:
    """Write shipped grams to the packages touched and put each on the change feed once."""
    for tag, package in run.packages.items():
        if package is None or not package.touched:
            continue
        r = package.record
        columns: dict[str, object] = {}
        if package.shipped:
            columns["current_mg"] = max(0, r.current_mg - package.shipped)
            if r.override_mg is not None:
                # Shipped product physically left, so the physical count drops too.
                columns["override_mg"] = max(0, r.override_mg - package.shipped)
        fg_repo.update_package(run.conn, tag, run.at, columns)
        append_change(run.conn, tag, "order_lines", run.at)


def result(run: LineRun) -> OrderLinesResult:
    run.results.sort(key=lambda r: r.item_id)
    return OrderLinesResult(
        lines=run.results,
        unassigned=run.unassigned,
        released=sorted(run.released),
        missing=sorted(run.missing),
        reserved_grams=mg_to_grams(run.reserved_total),
        packed_grams=mg_to_grams(run.packed_total),
        shipped_grams=mg_to_grams(sum(p.shipped for p in run.packages.values() if p)),
    )
