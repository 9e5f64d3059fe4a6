"""Order-line sync (SPEC §2.2, §3.4): reserve → pack → ship grams per open Apex order line.

``PUT /api/sync/order-lines`` carries the full set of lines ApexAPI knows. The service compares
each with what it stored last time and changes grams only by the difference, so a repeated PUT
changes nothing. Lines without a METRC number go to the oldest active package of their strain
with enough grams, and stay there (sticky).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from tracker_service.finished_goods import repository as repo
from tracker_service.finished_goods import validation as check
from tracker_service.finished_goods.records import PackageRecord
from tracker_service.finished_goods.repository import AuditEntry
from tracker_service.finished_goods.skus import DEFAULT_SKUS, SKU_ALIASES
from tracker_service.lib.changes import append_change
from tracker_service.lib.clock import now_iso
from tracker_service.lib.db import Database
from tracker_service.lib.errors import InvalidInput
from tracker_service.lib.grams import mg_to_grams
from tracker_service.sync.schemas import (
    LineResult,
    OrderLine,
    OrderLinesResult,
    UnassignedLine,
)

__all__ = ["OrderLineService"]


@dataclass
class _Package:
    """A package plus what this PUT has changed on it so far (milligrams)."""

    record: PackageRecord
    reserved: int = 0
    packed: int = 0
    shipped: int = 0
    touched: bool = False

    @property
    def available(self) -> int:
        r = self.record
        effective = (r.current_mg if r.override_mg is None else r.override_mg) - self.shipped
        committed = r.ordered_mg + self.reserved + r.packed_mg + self.packed + r.held_mg
        return max(0, effective - committed)

    def sale_unit_mg(self, sku: str) -> int | None:
        key = SKU_ALIASES.get(sku, sku)
        if key in DEFAULT_SKUS:
            return DEFAULT_SKUS[key].mg_per_sale_unit
        custom = self.record.custom_skus.get(key)
        return None if custom is None else custom.mg_per_sale_unit


@dataclass
class _Run:
    """One PUT's working state inside its transaction."""

    conn: sqlite3.Connection
    at: str
    actor: str
    packages: dict[str, _Package | None] = field(default_factory=dict)
    results: list[LineResult] = field(default_factory=list)
    unassigned: list[UnassignedLine] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    reserved_total: int = 0
    packed_total: int = 0

    def package(self, metrc: str) -> _Package | None:
        if metrc not in self.packages:
            record = repo.load_package(self.conn, metrc)
            self.packages[metrc] = None if record is None else _Package(record)
        return self.packages[metrc]

    def candidates(self, strain: str) -> Iterator[_Package]:
        records = repo.load_packages(
            self.conn,
            where="p.status = 'active' AND p.strain = ? COLLATE NOCASE",
            params=(" ".join(strain.split()),),
        )
        for record in records:
            package = self.package(record.metrc_number)
            if package is not None:
                yield package


class OrderLineService:
    def __init__(self, db: Database, on_commit: Callable[[], None]) -> None:
        self._db = db
        self._on_commit = on_commit

    def replace(self, lines: Sequence[OrderLine], actor: str) -> OrderLinesResult:
        """Make the stored lines equal ``lines``; grams move only by the differences."""
        requested = _validated(lines)
        with self._db.transaction() as conn:
            run = _Run(conn, now_iso(), actor)
            previous = _load_previous(conn, [line.item_id for line in lines])
            # Lines already placed keep their package; place new ones after, oldest order first.
            ordered = sorted(
                lines, key=lambda ln: (previous.get(ln.item_id) is None, ln.order_id, ln.item_id)
            )
            for line in ordered:
                _apply_line(run, line, requested[line.item_id], previous.get(line.item_id))
            for item_id, row in previous.items():
                if item_id not in requested and row["state"] == "open":
                    _release(run, row)
            _finish(run)
        self._on_commit()
        run.results.sort(key=lambda r: r.item_id)
        return OrderLinesResult(
            lines=run.results,
            unassigned=run.unassigned,
            released=sorted(run.released),
            reserved_grams=mg_to_grams(run.reserved_total),
            packed_grams=mg_to_grams(run.packed_total),
            shipped_grams=mg_to_grams(sum(p.shipped for p in run.packages.values() if p)),
        )


def _validated(lines: Sequence[OrderLine]) -> dict[int, str | None]:
    """item_id → normalised requested METRC tag; bad input raises before any change."""
    requested: dict[int, str | None] = {}
    for index, line in enumerate(lines):
        if line.item_id in requested:
            raise InvalidInput(f"lines[{index}].item_id", f"item {line.item_id} appears twice")
        check.text(line.strain, f"lines[{index}].strain")
        check.text(line.sku, f"lines[{index}].sku", max_length=64)
        requested[line.item_id] = (
            None
            if line.metrc_number in (None, "")
            else check.metrc_number(line.metrc_number or "", f"lines[{index}].metrc_number")
        )
    return requested


def _load_previous(conn: sqlite3.Connection, item_ids: list[int]) -> dict[int, sqlite3.Row]:
    rows = {
        row["item_id"]: row
        for row in conn.execute("SELECT * FROM order_lines WHERE state = 'open'")
    }
    wanted = [i for i in item_ids if i not in rows]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT * FROM order_lines WHERE item_id IN ({marks})", chunk):
            rows[row["item_id"]] = row
    return rows


def _apply_line(run: _Run, line: OrderLine, wanted: str | None, prev: sqlite3.Row | None) -> None:
    was_open = prev is not None and prev["state"] == "open"
    if line.state == "open":
        if prev is not None and prev["state"] in ("shipped", "cancelled"):
            _keep(run, line, prev, f"line already {prev['state']}; later changes are ignored")
            return
        _place_open(run, line, wanted, prev if was_open else None)
    elif line.state == "shipped":
        if prev is not None and prev["state"] == "shipped":
            _keep(run, line, prev, None)
        elif was_open and prev is not None and prev["metrc_number"]:
            _ship(run, line, prev)
        else:
            # First seen already shipped (or never placed): no grams move (SPEC §3.5).
            _store(run, line, None, 0, 0, 0, "shipped", prev)
    else:
        if was_open and prev is not None:
            _release_from(run, prev, line, "cancelled: reservation released")
        _store(run, line, prev["metrc_number"] if prev else None, 0, 0, 0, "cancelled", prev)


def _place_open(run: _Run, line: OrderLine, wanted: str | None, prev: sqlite3.Row | None) -> None:
    placed: str | None = prev["metrc_number"] if prev is not None else None
    if wanted is not None and wanted != placed:
        placed = wanted
    package = run.package(placed) if placed else None
    if placed and package is None:
        return _unassigned(run, line, prev, f"package {placed} not found")
    if package is not None and package.sale_unit_mg(line.sku) is None:
        return _unassigned(run, line, prev, f"package {placed} has no SKU {line.sku!r}")
    if package is None:
        package = _choose_package(run, line)
        if package is None:
            return _unassigned(
                run,
                line,
                prev,
                f"no active package of strain {line.strain!r} "
                f"with enough grams for {line.units_ordered} x {line.sku}",
            )
    unit = package.sale_unit_mg(line.sku) or 0
    packed = line.units_packed * unit
    reserved = max(0, line.units_ordered - line.units_packed) * unit
    tag = package.record.metrc_number
    if prev is not None and prev["metrc_number"] and prev["metrc_number"] != tag:
        _release_from(run, prev, line, f"moved to {tag}")
        prev_reserved = prev_packed = 0
    else:
        prev_reserved = prev["reserved_mg"] if prev is not None else 0
        prev_packed = prev["packed_mg"] if prev is not None else 0
    _move(run, tag, reserved - prev_reserved, packed - prev_packed, 0, line, "order line synced")
    _store(run, line, tag, reserved, packed, 0, "open", prev)


def _choose_package(run: _Run, line: OrderLine) -> _Package | None:
    for package in run.candidates(line.strain):
        unit = package.sale_unit_mg(line.sku)
        if unit is not None and package.available >= line.units_ordered * unit:
            return package
    return None


def _ship(run: _Run, line: OrderLine, prev: sqlite3.Row) -> None:
    tag = prev["metrc_number"]
    package = run.package(tag)
    unit = package.sale_unit_mg(line.sku) if package else None
    shipped = line.units_packed * unit if unit else prev["packed_mg"]
    _move(
        run,
        tag,
        -prev["reserved_mg"],
        -prev["packed_mg"],
        shipped,
        line,
        "shipped: packed grams left the package",
    )
    _store(run, line, tag, 0, 0, shipped, "shipped", prev)


def _release(run: _Run, prev: sqlite3.Row) -> None:
    if prev["metrc_number"]:
        _move_grams(
            run,
            prev["metrc_number"],
            -prev["reserved_mg"],
            -prev["packed_mg"],
            0,
            f"Order {prev['invoice_number']} item {prev['item_id']}: line no longer "
            "open in Apex; released",
        )
    run.conn.execute(
        "UPDATE order_lines SET state = 'removed', reserved_mg = 0, packed_mg = 0,"
        " updated_at = ? WHERE item_id = ?",
        (run.at, prev["item_id"]),
    )
    run.released.append(prev["item_id"])


def _keep(run: _Run, line: OrderLine, prev: sqlite3.Row, reason: str | None) -> None:
    run.results.append(
        _result(line.item_id, prev["state"], prev["metrc_number"], 0, 0, prev["shipped_mg"])
    )
    if reason:
        run.unassigned.append(UnassignedLine(line.item_id, line.strain, line.sku, reason))


def _unassigned(run: _Run, line: OrderLine, prev: sqlite3.Row | None, reason: str) -> None:
    if prev is not None and prev["metrc_number"]:
        _release_from(run, prev, line, f"unassigned: {reason}")
    _store(run, line, None, 0, 0, 0, "open", prev)
    run.unassigned.append(UnassignedLine(line.item_id, line.strain, line.sku, reason))


def _release_from(run: _Run, prev: sqlite3.Row, line: OrderLine, what: str) -> None:
    """Give back what ``prev`` had reserved and packed on its package."""
    _move(run, prev["metrc_number"], -prev["reserved_mg"], -prev["packed_mg"], 0, line, what)


def _move(
    run: _Run, tag: str, reserved: int, packed: int, shipped: int, line: OrderLine, what: str
) -> None:
    _move_grams(
        run,
        tag,
        reserved,
        packed,
        shipped,
        f"Order {line.invoice_number} item {line.item_id} ({line.store}): "
        f"{line.units_ordered} x {line.sku} ordered, {line.units_packed} packed; {what}",
    )


def _move_grams(run: _Run, tag: str, reserved: int, packed: int, shipped: int, reason: str) -> None:
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
            repo.append_audit(
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


def _store(
    run: _Run,
    line: OrderLine,
    tag: str | None,
    reserved: int,
    packed: int,
    shipped: int,
    state: str,
    prev: sqlite3.Row | None,
) -> None:
    values = (
        line.order_id,
        line.invoice_number,
        line.store,
        " ".join(line.strain.split()),
        line.sku.strip(),
        line.units_ordered,
        line.units_packed,
        line.metrc_number,
        tag,
        state,
        reserved,
        packed,
        shipped,
    )
    run.results.append(_result(line.item_id, state, tag, reserved, packed, shipped))
    run.reserved_total += reserved
    run.packed_total += packed
    if prev is not None and tuple(prev[c] for c in _COLUMNS) == values:
        return
    run.conn.execute(
        f"INSERT INTO order_lines (item_id, {', '.join(_COLUMNS)}, first_seen_at, updated_at)"
        f" VALUES (?, {', '.join('?' * len(_COLUMNS))}, ?, ?)"
        f" ON CONFLICT (item_id) DO UPDATE SET"
        f" {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS)}, updated_at = excluded.updated_at",
        (line.item_id, *values, run.at, run.at),
    )


_COLUMNS = (
    "order_id",
    "invoice_number",
    "store",
    "strain",
    "sku",
    "units_ordered",
    "units_packed",
    "requested_metrc",
    "metrc_number",
    "state",
    "reserved_mg",
    "packed_mg",
    "shipped_mg",
)


def _result(
    item_id: int, state: str, tag: str | None, reserved: int, packed: int, shipped: int
) -> LineResult:
    return LineResult(
        item_id, state, tag, mg_to_grams(reserved), mg_to_grams(packed), mg_to_grams(shipped)
    )


def _finish(run: _Run) -> None:
    """Write shipped grams to the packages touched and put each on the change feed once."""
    for tag, package in run.packages.items():
        if package is None or not package.touched:
            continue
        r = package.record
        columns: dict[str, int | None] = {}
        if package.shipped:
            columns["current_mg"] = max(0, r.current_mg - package.shipped)
            if r.override_mg is not None:
                # Shipped product physically left, so the physical count drops too.
                columns["override_mg"] = max(0, r.override_mg - package.shipped)
        repo.update_package(run.conn, tag, run.at, columns)
        append_change(run.conn, tag, "order_lines", run.at)
