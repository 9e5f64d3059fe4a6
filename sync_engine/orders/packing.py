"""The packing list and the tracker's order lines, from orders and the tracker's units. Pure.

One row per pre-roll order item, the guide's twelve columns (docs/apexapi.md); rows are keyed
by the Apex order item id so staff may sort and move them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import msgspec

from preroll_contract import OrderLine, strain_key
from sync_engine.mapping.parser import ParsedProduct, PreRollProductParser
from sync_engine.orders.classify import OrderState
from sync_engine.orders.models import ApexOrder, OrderItem
from sync_engine.planners.inventory import sku_for, units_for
from sync_engine.tracker_models import PackageCalc

__all__ = ["COLUMNS", "Editable", "PackingRow", "Placement", "build_packing"]

COLUMNS = (
    "Product",
    "Store",
    "Ordered",
    "PACKED",
    "Needs Production",
    "Needs Packing",
    "Delivery Date",
    "Delivery Notes",
    "Internal Notes",
    "Invoice #",
    "Batch #",
    "Date",
)

_parser = PreRollProductParser()


class Editable(msgspec.Struct, frozen=True):
    """What people edit on a row (sheet or dashboard); everything else ApexAPI writes."""

    packed: int = 0
    delivery_date: str = ""
    delivery_notes: str = ""
    internal_notes: str = ""


class PackingRow(msgspec.Struct, frozen=True, kw_only=True):
    key: int  # the Apex order item id
    order_id: int
    state: str
    product: str
    store: str
    ordered: int
    packed: int
    needs_production: int
    delivery_date: str
    delivery_notes: str
    internal_notes: str
    invoice: str
    batch_no: str
    date: str
    strain: str
    sku: str
    available: int = 0  # units of this product the tracker can sell now
    updated_at: str = ""

    @property
    def needs_packing(self) -> int:
        return max(0, self.ordered - self.packed)


class Placement(msgspec.Struct, frozen=True, array_like=True):
    """Where the tracker put an order line: its package, and the grams it holds for it."""

    metrc_number: str | None
    reserved_mg: int = 0


class Packing(msgspec.Struct, frozen=True):
    rows: list[PackingRow]
    lines: list[OrderLine]
    skipped: list[str]


def build_packing(
    orders: Sequence[tuple[ApexOrder, OrderState]],
    packages: Mapping[str, PackageCalc],
    edits: Mapping[int, Editable],
    placed: Mapping[int, Placement],
) -> Packing:
    """Rows for every pre-roll item, and the order lines to PUT to the tracker."""
    by_strain: dict[str, list[tuple[str, PackageCalc]]] = defaultdict(list)
    for tag, package in packages.items():
        by_strain[strain_key(package.strain)].append((tag, package))
    rows: list[PackingRow] = []
    lines: list[OrderLine] = []
    skipped: list[str] = []
    for order, state in orders:
        for item in order.items:
            parsed = _parser.parse(item.product_name)
            if not isinstance(parsed, ParsedProduct):
                continue  # flower, edibles, carts: not on the pre-roll packing list
            strain_packages = by_strain.get(parsed.strain_key, [])
            sku = _tracker_sku(parsed, strain_packages)
            available = units_for(parsed, strain_packages) if strain_packages else 0
            edit = edits.get(item.id, Editable())
            rows.append(_row(order, item, state, parsed, sku, edit, available or 0, placed))
            label = (item.metrc_package_label or "").strip().upper()
            lines.append(
                OrderLine(
                    order_id=order.id,
                    item_id=item.id,
                    invoice_number=order.invoice,
                    store=order.store or "(no store)",
                    strain=parsed.strain,
                    sku=sku,
                    units_ordered=item.units,
                    units_packed=edit.packed,
                    metrc_number=label if label in packages else None,
                    state=state,
                )
            )
            if not strain_packages:
                skipped.append(
                    f"{item.product_name!r} ({order.invoice}): no package of "
                    f"strain {parsed.strain!r} in the tracker"
                )
    rows.sort(key=lambda r: (r.date, r.invoice, r.key))
    return Packing(rows, lines, skipped)


def _tracker_sku(parsed: ParsedProduct, packages: list[tuple[str, PackageCalc]]) -> str:
    """The tracker's key for this product (a custom SKU may have any key)."""
    for _, package in packages:
        key = sku_for(parsed, package)
        if key is not None:
            return key
    return parsed.sku_key


def _row(
    order: ApexOrder,
    item: OrderItem,
    state: str,
    parsed: ParsedProduct,
    sku: str,
    edit: Editable,
    available: int,
    placed: Mapping[int, Placement],
) -> PackingRow:
    ordered = item.units
    placement = placed.get(item.id, Placement(None))
    # The tracker's units already leave out what it holds for this very line: count that
    # back, or a line its package fully covers would show a shortfall.
    own = placement.reserved_mg // (parsed.mg_per_unit * parsed.pack_size)
    return PackingRow(
        key=item.id,
        order_id=order.id,
        state=state,
        product=item.product_name,
        store=order.store,
        ordered=ordered,
        packed=edit.packed,
        needs_production=max(0, ordered - edit.packed - available - own),
        delivery_date=edit.delivery_date or (order.delivery_date or "")[:10],
        delivery_notes=edit.delivery_notes,
        internal_notes=edit.internal_notes,
        invoice=order.invoice,
        batch_no=placement.metrc_number or item.batch_name or "",
        date=(order.order_date or "")[:10],
        strain=parsed.strain,
        sku=sku,
        available=available,
        updated_at=order.updated_at,
    )
