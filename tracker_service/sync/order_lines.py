"""Order-line sync (docs/api.md): reserve → pack → ship grams per Apex order line.

``PUT /api/sync/order-lines`` carries the full set of lines ApexAPI knows, from the holder of
the sync lease only. The service compares each with what it stored last time and changes grams
only by the difference, so a repeated PUT changes nothing. Lines without a METRC number go to
the oldest active package of their strain with enough grams, and stay there (sticky); a line
no single package can cover takes what the strain has, oldest package first, and the units
left over are its shortfall (reported, and shown to staff).

A reservation ends only by an explicit state (cancelled, shipped) or by a person: an open line
missing from a later PUT keeps its grams and is listed to staff; a line a person released is
not reserved again unless a person asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from preroll_contract import OrderLine, OrderLinesPut, OrderLinesResult
from tracker_service.finished_goods import validation as check
from tracker_service.lib.clock import now_iso
from tracker_service.lib.db import Conn, Database
from tracker_service.lib.errors import Conflict, InvalidInput, NotFound
from tracker_service.sync import repository as repo
from tracker_service.sync.lease import LeaseService
from tracker_service.sync.placement import (
    LineRun,
    describe,
    finish,
    line_result,
    move_grams,
    place_open,
    release_from,
    result,
    ship,
    store,
)
from tracker_service.sync.repository import StoredLine
from tracker_service.sync.schemas import UnassignedLine

__all__ = ["LINE_QUERIES", "OrderLineService"]

#: ``GET /api/sync/order-lines?state=``: stored states, and whether open lines are missing.
LINE_QUERIES: dict[str, tuple[tuple[str, ...], bool | None]] = {
    "held": (("open",), None),
    "open": (("open",), False),
    "missing": (("open",), True),
    "short": (("open",), None),
    "released": (("released",), None),
    "shipped": (("shipped",), None),
    "cancelled": (("cancelled",), None),
}


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
            run = LineRun(conn, now_iso(), actor)
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
            finish(run)
        self._on_commit()
        return result(run)

    def lines(self, query: str) -> list[StoredLine]:
        states, missing = LINE_QUERIES[query]
        return self._db.query(
            repo.load_lines, states=states, missing=missing, short=query == "short"
        )

    def release(self, item_id: int, actor: str) -> StoredLine:
        """A person ends the reservation of a line ApexAPI no longer reports."""
        with self._db.transaction() as conn:
            run = LineRun(conn, now_iso(), actor)
            prev = _require(conn, item_id)
            if prev.state != "open" or prev.missing_since is None:
                raise Conflict(
                    f"order line {item_id} is still reported by ApexAPI (or already ended); "
                    "only lines no longer reported can be released here"
                )
            for part in prev.parts:
                move_grams(
                    run,
                    part.metrc_number,
                    -part.reserved_mg,
                    -part.packed_mg,
                    0,
                    f"{describe(prev)}: released by {actor} (no longer reported by ApexAPI)",
                )
            line = msgspec.structs.replace(
                prev,
                state="released",
                reserved_mg=0,
                packed_mg=0,
                short_units=0,
                parts=(),
                missing_since=None,
                released_by=actor,
                released_at=run.at,
                updated_at=run.at,
            )
            repo.save_line(conn, line)
            finish(run)
        self._on_commit()
        return line

    def reserve_again(self, item_id: int, actor: str) -> StoredLine:
        """A person asks for a released line to be reserved again (placed as a new line)."""
        with self._db.transaction() as conn:
            run = LineRun(conn, now_iso(), actor)
            prev = _require(conn, item_id)
            if prev.state != "released":
                raise Conflict(f"order line {item_id} is {prev.state}, not released")
            wanted = check.metrc_number(prev.requested_metrc) if prev.requested_metrc else None
            place_open(run, _as_order_line(prev), wanted, None)
            finish(run)
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


def _apply_line(run: LineRun, line: OrderLine, wanted: str | None, prev: StoredLine | None) -> None:
    was_open = prev is not None and prev.state == "open"
    if prev is not None and prev.state == "released":
        _after_release(run, line, prev)
    elif line.state == "open":
        if prev is not None and prev.state in ("shipped", "cancelled"):
            _keep(run, line, prev, f"line already {prev.state}; later changes are ignored")
            return
        place_open(run, line, wanted, prev if was_open else None)
    elif line.state == "shipped":
        if prev is not None and prev.state == "shipped":
            _keep(run, line, prev, None)
        elif was_open and prev is not None and prev.parts:
            ship(run, line, prev)
        else:
            # First seen already shipped (or never placed): no grams move (docs/api.md).
            store(run, line, (), "shipped", prev)
    else:
        if was_open and prev is not None:
            release_from(run, prev, line, "cancelled: reservation released")
            run.released.append(line.item_id)
        store(run, line, (), "cancelled", prev)


def _after_release(run: LineRun, line: OrderLine, prev: StoredLine) -> None:
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
    store(run, line, (), line.state, prev)
    if reason:
        run.unassigned.append(UnassignedLine(line.item_id, line.strain, line.sku, reason))


def _mark_missing(run: LineRun, prev: StoredLine) -> None:
    """An open line ApexAPI no longer reports keeps its grams until a person releases it."""
    run.missing.append(prev.item_id)
    if prev.missing_since is None:
        repo.save_line(
            run.conn, msgspec.structs.replace(prev, missing_since=run.at, updated_at=run.at)
        )
        for part in prev.parts:
            package = run.package(part.metrc_number)
            if package is not None:
                package.touched = True  # on the change feed: staff pages show it at once


def _keep(run: LineRun, line: OrderLine, prev: StoredLine, reason: str | None) -> None:
    run.results.append(
        line_result(line.item_id, prev.state, prev.metrc_number, 0, 0, prev.shipped_mg)
    )
    if reason:
        run.unassigned.append(UnassignedLine(line.item_id, line.strain, line.sku, reason))


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
