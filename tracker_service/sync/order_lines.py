"""Order-line sync (SPEC §2.2, §3.4, §10.2): reserve → pack → ship grams per Apex order line.

``PUT /api/sync/order-lines`` carries the full set of lines ApexAPI knows, from the holder of
the sync lease only. The service compares each with what it stored last time and changes grams
only by the difference, so a repeated PUT changes nothing. Lines without a METRC number go to
the oldest active package of their strain with enough grams, and stay there (sticky).

A reservation ends only by an explicit state (cancelled, shipped) or by a person: an open line
missing from a later PUT keeps its grams and is listed to staff; a line a person released is
not reserved again unless a person asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import msgspec

from preroll_contract import OrderLine, OrderLinesPut, OrderLinesResult, strain_key
from tracker_service.finished_goods import repository as fg_repo
from tracker_service.finished_goods import validation as check
from tracker_service.finished_goods.records import PackageRecord
from tracker_service.finished_goods.repository import AuditEntry
from tracker_service.finished_goods.skus import DEFAULT_SKUS, SKU_ALIASES
from tracker_service.lib.clock import now_iso
from tracker_service.lib.db import Conn, Database
from tracker_service.lib.errors import Conflict, InvalidInput, NotFound
from tracker_service.lib.grams import mg_to_grams
from tracker_service.lib.repository import append_change
from tracker_service.sync import repository as repo
from tracker_service.sync.lease import LeaseService
from tracker_service.sync.repository import StoredLine
from tracker_service.sync.schemas import LineResult, UnassignedLine

__all__ = ["LINE_QUERIES", "OrderLineService"]

#: ``GET /api/sync/order-lines?state=``: stored states, and whether open lines are missing.
LINE_QUERIES: dict[str, tuple[tuple[str, ...], bool | None]] = {
    "held": (("open",), None),
    "open": (("open",), False),
    "missing": (("open",), True),
    "released": (("released",), None),
    "shipped": (("shipped",), None),
    "cancelled": (("cancelled",), None),
}


@dataclass
class _Package:
    """A package plus what this write has changed on it so far (milligrams)."""

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
        """Grams one sale unit of ``sku`` takes from this package; None when it cannot sell it."""
        if self.record.problem:
            return None
        key = SKU_ALIASES.get(sku, sku)
        if key in DEFAULT_SKUS:
            return DEFAULT_SKUS[key].mg_per_sale_unit
        custom = self.record.custom_skus.get(key)
        return None if custom is None else custom.mg_per_sale_unit


@dataclass
class _Run:
    """One write's working state inside its transaction."""

    conn: Conn
    at: str
    actor: str
    packages: dict[str, _Package | None] = field(default_factory=dict)
    results: list[LineResult] = field(default_factory=list)
    unassigned: list[UnassignedLine] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    reserved_total: int = 0
    packed_total: int = 0

    def package(self, metrc: str) -> _Package | None:
        if metrc not in self.packages:
            record = fg_repo.load_package(self.conn, metrc)
            self.packages[metrc] = None if record is None else _Package(record)
        return self.packages[metrc]

    def candidates(self, strain: str) -> Iterator[_Package]:
        for record in fg_repo.load_active_by_strain(self.conn, strain_key(strain)):
            package = self.package(record.metrc_number)
            if package is not None:
                yield package


class OrderLineService:
    def __init__(self, db: Database, lease: LeaseService, on_commit: Callable[[], None]) -> None:
        self._db = db
        self._lease = lease
        self._on_commit = on_commit

    def replace(self, put: OrderLinesPut, actor: str) -> OrderLinesResult:
        """Make the stored lines equal ``put.lines``; grams move only by the differences."""
        lines = put.lines
        requested = _validated(lines)
        with self._db.transaction() as conn:
            self._lease.require_holder(conn, put.holder)
            run = _Run(conn, now_iso(), actor)
            previous = {line.item_id: line for line in repo.load_open_lines(conn)}
            previous.update(
                repo.load_lines_by_id(conn, [i for i in requested if i not in previous])
            )
            # Lines already placed keep their package; place new ones after, oldest order first.
            ordered = sorted(
                lines, key=lambda ln: (previous.get(ln.item_id) is None, ln.order_id, ln.item_id)
            )
            for line in ordered:
                _apply_line(run, line, requested[line.item_id], previous.get(line.item_id))
            for item_id, prev in previous.items():
                if item_id not in requested and prev.state == "open":
                    _mark_missing(run, prev)
            _finish(run)
        self._on_commit()
        return _result(run)

    def lines(self, query: str) -> list[StoredLine]:
        states, missing = LINE_QUERIES[query]
        return self._db.query(repo.load_lines, states=states, missing=missing)

    def release(self, item_id: int, actor: str) -> StoredLine:
        """A person ends the reservation of a line ApexAPI no longer reports."""
        with self._db.transaction() as conn:
            run = _Run(conn, now_iso(), actor)
            prev = _require(conn, item_id)
            if prev.state != "open" or prev.missing_since is None:
                raise Conflict(
                    f"order line {item_id} is still reported by ApexAPI (or already ended); "
                    "only lines no longer reported can be released here"
                )
            if prev.metrc_number:
                _move_grams(
                    run,
                    prev.metrc_number,
                    -prev.reserved_mg,
                    -prev.packed_mg,
                    0,
                    f"{_describe(prev)}: released by {actor} (no longer reported by ApexAPI)",
                )
            line = msgspec.structs.replace(
                prev,
                state="released",
                reserved_mg=0,
                packed_mg=0,
                missing_since=None,
                released_by=actor,
                released_at=run.at,
                updated_at=run.at,
            )
            repo.save_line(conn, line)
            _finish(run)
        self._on_commit()
        return line

    def reserve_again(self, item_id: int, actor: str) -> StoredLine:
        """A person asks for a released line to be reserved again (placed as a new line)."""
        with self._db.transaction() as conn:
            run = _Run(conn, now_iso(), actor)
            prev = _require(conn, item_id)
            if prev.state != "released":
                raise Conflict(f"order line {item_id} is {prev.state}, not released")
            wanted = check.metrc_number(prev.requested_metrc) if prev.requested_metrc else None
            _place_open(run, _as_order_line(prev), wanted, None)
            _finish(run)
            stored = repo.load_lines_by_id(conn, [item_id])[item_id]
        self._on_commit()
        return stored


def _require(conn: Conn, item_id: int) -> StoredLine:
    found = None
    if 0 <= item_id <= 2**62:  # beyond the ids Apex (and SQLite) can have: cannot exist
        found = repo.load_lines_by_id(conn, [item_id]).get(item_id)
    if found is None:
        raise NotFound(f"no order line {item_id}")
    return found


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


def _apply_line(run: _Run, line: OrderLine, wanted: str | None, prev: StoredLine | None) -> None:
    was_open = prev is not None and prev.state == "open"
    if prev is not None and prev.state == "released":
        _after_release(run, line, prev)
    elif line.state == "open":
        if prev is not None and prev.state in ("shipped", "cancelled"):
            _keep(run, line, prev, f"line already {prev.state}; later changes are ignored")
            return
        _place_open(run, line, wanted, prev if was_open else None)
    elif line.state == "shipped":
        if prev is not None and prev.state == "shipped":
            _keep(run, line, prev, None)
        elif was_open and prev is not None and prev.metrc_number:
            _ship(run, line, prev)
        else:
            # First seen already shipped (or never placed): no grams move (SPEC §3.5).
            _store(run, line, None, 0, 0, 0, "shipped", prev)
    else:
        if was_open and prev is not None:
            _release_from(run, prev, line, "cancelled: reservation released")
            run.released.append(line.item_id)
        _store(run, line, prev.metrc_number if prev else None, 0, 0, 0, "cancelled", prev)


def _after_release(run: _Run, line: OrderLine, prev: StoredLine) -> None:
    """A line a person released: never reserved again by a PUT, only reported."""
    if line.state == "open":
        if prev.reported_after_release_at is None:
            repo.save_line(
                run.conn, msgspec.structs.replace(prev, reported_after_release_at=run.at)
            )
        _keep(
            run,
            line,
            prev,
            f"released in the tracker by {prev.released_by} at {prev.released_at}; a person "
            "can reserve it again on the tracker's Order lines page",
        )
        return
    reason = None
    if line.state == "shipped" and prev.packed_mg == 0 and line.units_packed:
        reason = (
            "shipped after it was released in the tracker: its grams were not taken off the "
            "package; record them with an adjustment"
        )
    _store(run, line, prev.metrc_number, 0, 0, 0, line.state, prev)
    if reason:
        run.unassigned.append(UnassignedLine(line.item_id, line.strain, line.sku, reason))


def _place_open(run: _Run, line: OrderLine, wanted: str | None, prev: StoredLine | None) -> None:
    placed: str | None = prev.metrc_number if prev is not None else None
    if wanted is not None and wanted != placed:
        placed = wanted
    package = run.package(placed) if placed else None
    if placed and package is None:
        return _unassigned(run, line, prev, f"package {placed} not found")
    if package is not None and package.sale_unit_mg(line.sku) is None:
        return _unassigned(run, line, prev, _cannot_sell(package, line.sku))
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
    if prev is not None and prev.metrc_number and prev.metrc_number != tag:
        _release_from(run, prev, line, f"moved to {tag}")
        prev_reserved = prev_packed = 0
    else:
        prev_reserved = prev.reserved_mg if prev is not None else 0
        prev_packed = prev.packed_mg if prev is not None else 0
    _move(run, tag, reserved - prev_reserved, packed - prev_packed, 0, line, "order line synced")
    _store(run, line, tag, reserved, packed, 0, "open", prev)


def _cannot_sell(package: _Package, sku: str) -> str:
    tag = package.record.metrc_number
    if package.record.problem:
        return f"package {tag} sells nothing until fixed: {package.record.problem}"
    return f"package {tag} has no SKU {sku!r}"


def _choose_package(run: _Run, line: OrderLine) -> _Package | None:
    for package in run.candidates(line.strain):
        unit = package.sale_unit_mg(line.sku)
        if unit is not None and package.available >= line.units_ordered * unit:
            return package
    return None


def _ship(run: _Run, line: OrderLine, prev: StoredLine) -> None:
    tag = prev.metrc_number
    assert tag is not None
    package = run.package(tag)
    unit = package.sale_unit_mg(line.sku) if package else None
    shipped = line.units_packed * unit if unit else prev.packed_mg
    _move(
        run,
        tag,
        -prev.reserved_mg,
        -prev.packed_mg,
        shipped,
        line,
        "shipped: packed grams left the package",
    )
    _store(run, line, tag, 0, 0, shipped, "shipped", prev)


def _mark_missing(run: _Run, prev: StoredLine) -> None:
    """An open line ApexAPI no longer reports keeps its grams until a person releases it."""
    run.missing.append(prev.item_id)
    if prev.missing_since is None:
        repo.save_line(
            run.conn, msgspec.structs.replace(prev, missing_since=run.at, updated_at=run.at)
        )
        if prev.metrc_number:
            package = run.package(prev.metrc_number)
            if package is not None:
                package.touched = True  # on the change feed: staff pages show it at once


def _keep(run: _Run, line: OrderLine, prev: StoredLine, reason: str | None) -> None:
    run.results.append(
        _line_result(line.item_id, prev.state, prev.metrc_number, 0, 0, prev.shipped_mg)
    )
    if reason:
        run.unassigned.append(UnassignedLine(line.item_id, line.strain, line.sku, reason))


def _unassigned(run: _Run, line: OrderLine, prev: StoredLine | None, reason: str) -> None:
    if prev is not None and prev.metrc_number:
        _release_from(run, prev, line, f"unassigned: {reason}")
    _store(run, line, None, 0, 0, 0, "open", prev)
    run.unassigned.append(UnassignedLine(line.item_id, line.strain, line.sku, reason))


def _release_from(run: _Run, prev: StoredLine, line: OrderLine, what: str) -> None:
    """Give back what ``prev`` had reserved and packed on its package."""
    if prev.metrc_number:
        _move(run, prev.metrc_number, -prev.reserved_mg, -prev.packed_mg, 0, line, what)


def _describe(line: StoredLine | OrderLine) -> str:
    return f"Order {line.invoice_number} item {line.item_id} ({line.store})"


def _move(
    run: _Run, tag: str, reserved: int, packed: int, shipped: int, line: OrderLine, what: str
) -> None:
    _move_grams(
        run,
        tag,
        reserved,
        packed,
        shipped,
        f"{_describe(line)}: {line.units_ordered} x {line.sku} ordered, "
        f"{line.units_packed} packed; {what}",
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


def _store(
    run: _Run,
    line: OrderLine,
    tag: str | None,
    reserved: int,
    packed: int,
    shipped: int,
    state: str,
    prev: StoredLine | None,
) -> None:
    # A line once released keeps who released it until a person reserves it again.
    kept = prev if prev is not None and state != "open" else None
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
        first_seen_at=prev.first_seen_at if prev is not None else run.at,
        updated_at=prev.updated_at if prev is not None else run.at,
    )
    run.results.append(_line_result(line.item_id, state, tag, reserved, packed, shipped))
    run.reserved_total += reserved
    run.packed_total += packed
    if stored != prev:
        repo.save_line(run.conn, msgspec.structs.replace(stored, updated_at=run.at))


def _as_order_line(stored: StoredLine) -> OrderLine:
    return OrderLine(
        order_id=stored.order_id,
        item_id=stored.item_id,
        invoice_number=stored.invoice_number,
        store=stored.store,
        strain=stored.strain,
        sku=stored.sku,
        units_ordered=stored.units_ordered,
        units_packed=stored.units_packed,
        metrc_number=stored.requested_metrc,
        state="open",
    )


def _line_result(
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
        columns: dict[str, object] = {}
        if package.shipped:
            columns["current_mg"] = max(0, r.current_mg - package.shipped)
            if r.override_mg is not None:
                # Shipped product physically left, so the physical count drops too.
                columns["override_mg"] = max(0, r.override_mg - package.shipped)
        fg_repo.update_package(run.conn, tag, run.at, columns)
        append_change(run.conn, tag, "order_lines", run.at)


def _result(run: _Run) -> OrderLinesResult:
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
