"""Orders: which count, the packing list, and what the tracker is told (docs/apexapi.md)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import msgspec
import pytest

from sync_engine.orders.classify import order_state
from sync_engine.orders.models import ApexOrder, Buyer, OrderItem, OrderStatus, ParentStatus
from sync_engine.orders.packing import COLUMNS, Editable, Placement, build_packing
from sync_engine.tracker_models import PackageCalc
from tests.conftest import RunningTracker, wait_until
from tests.sync_engine.conftest import EngineThread, RunningApex, engine_config

SINCE = date(2026, 11, 1)


def order(
    status: str = "New",
    parent: str = "Submitted",
    day: str = "2026-11-20",
    cancelled: bool = False,
    items: list[OrderItem] | None = None,
) -> ApexOrder:
    return ApexOrder(
        id=7,
        invoice_number="INV-7",
        order_date=day,
        delivery_date="2026-11-28",
        order_status=OrderStatus(1, status, ParentStatus(1, parent)),
        cancelled=cancelled,
        buyer=Buyer(1, "Green Leaf"),
        items=items or [],
    )


@pytest.mark.parametrize(
    ("kwargs", "excluded", "state"),
    [
        ({}, [], "open"),
        ({"parent": "Pending Shipment"}, [], "open"),
        ({"parent": "In Transit"}, [], "shipped"),
        ({"parent": "Complete"}, [], "shipped"),
        ({"cancelled": True}, [], "cancelled"),
        ({"status": "Hold for Payment"}, ["hold for payment"], None),
        ({"parent": "Accepted"}, ["ACCEPTED"], None),
        ({"day": "2026-10-31"}, [], "open"),  # old but open: it still holds stock
        ({"day": "2026-10-31", "parent": "Delivered"}, [], None),
        ({"day": "2026-10-31", "cancelled": True}, [], None),
    ],
)
def test_order_state(kwargs: dict, excluded: list[str], state: str | None) -> None:
    """Excluded by status or parent name (any case); an old order only once shipped or
    cancelled; else cancelled, shipped or open."""
    assert order_state(order(**kwargs), excluded, SINCE) == state


def test_packing_rows_and_order_lines() -> None:
    """Pre-roll items only; Ordered is inventory units; needs follow packed and stock."""
    items = [
        OrderItem(
            id=1,
            product_name="CannaDart - Gelato 1g",
            order_quantity=30,
            inventory_quantity=20,
            batch_name="WC-1",
        ),
        OrderItem(id=2, product_name="Gelato 3.5g Flower", order_quantity=4),
        OrderItem(
            id=3,
            product_name="Magnetic Box - Gelato 6pk",
            order_quantity=5,
            metrc_package_label="1a4060300001aa1000000001",
        ),
    ]
    packages = {
        "1A4060300001AA1000000001": PackageCalc(
            "Gelato",
            "active",
            12,
            {"singles_0_5g": 24, "singles_1g": 12, "box_0_5g_6pk": 4, "box_0_5g_12pk": 2},
        )
    }
    packing = build_packing(
        [(order(items=items), "open")],
        packages,
        {1: Editable(packed=5, internal_notes="rush")},
        {1: Placement("1A4060300001AA1000000001")},
    )
    assert len(COLUMNS) == 12
    first, box = packing.rows
    assert (
        first.product,
        first.store,
        first.ordered,
        first.packed,
        first.needs_packing,
        first.needs_production,
        first.batch_no,
        first.internal_notes,
        first.date,
    ) == (
        "CannaDart - Gelato 1g",
        "Green Leaf",
        20,
        5,
        15,
        3,
        "1A4060300001AA1000000001",
        "rush",
        "2026-11-20",
    )
    assert (box.ordered, box.needs_production, box.batch_no, box.delivery_date) == (
        5,
        1,
        "",
        "2026-11-28",
    )
    assert msgspec.to_builtins(packing.lines) == [
        {
            "order_id": 7,
            "item_id": 1,
            "invoice_number": "INV-7",
            "store": "Green Leaf",
            "strain": "Gelato",
            "sku": "singles_1g",
            "units_ordered": 20,
            "units_packed": 5,
            "metrc_number": None,
            "state": "open",
        },
        {
            "order_id": 7,
            "item_id": 3,
            "invoice_number": "INV-7",
            "store": "Green Leaf",
            "strain": "Gelato",
            "sku": "box_0_5g_6pk",
            "units_ordered": 5,
            "units_packed": 0,
            "metrc_number": "1A4060300001AA1000000001",
            "state": "open",
        },
    ]


def test_engine_reserves_open_orders_and_ships_packed_grams(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """Open orders reserve grams; cancelled and first-seen-shipped ones move none; shipping
    moves packed grams out once; a restart asks Apex only for what changed."""
    tracker.create("1A40603000123456", strain="Wedding Cake", grams=500)
    tracker.create("1A4060300002EE1000012345", strain="Blue Dream", grams=1000)
    tracker.create("1A4060300002EE1000012348", strain="Sour Diesel", grams=75)
    config = engine_config(tracker, apex, orders=True, enabled=False)
    with EngineThread(config, tmp_path / "state.json") as running:
        wait_until(lambda: tracker.package("1A40603000123456")["grams_ordered"] == 12)
        blue = tracker.package("1A4060300002EE1000012345")
        assert blue["grams_ordered"] == 16  # 2 x 6-pack (6 g) + 10 x 1 g; item 90013 is flower
        assert tracker.package("1A4060300002EE1000012348")["grams_ordered"] == 0  # delivered
        engine = running.engine
        assert engine is not None
        wait_until(lambda: engine.status.packing_rows == 4)  # reported just after the PUT
        assert any(line.strain == "Gelato" for line in engine.status.unassigned_lines)
        from sync_engine.orders.packing import Editable

        running.call(lambda e: e.edit_row(90011, Editable(packed=24)))
        wait_until(lambda: tracker.package("1A40603000123456")["grams_packed"] == 12)
        time.sleep(1.1)  # Apex timestamps are whole seconds
        apex.state.update_order(9001, status_id=4)  # In Transit
        running.call(lambda e: e.refresh_orders())
        wait_until(lambda: tracker.package("1A40603000123456")["current_grams"] == 488)
        assert tracker.package("1A4060300002EE1000012345")["grams_ordered"] == 10
    first_query = apex.state.requests_matching("GET", "/api/v1/shipping-orders")[0].query
    with EngineThread(config, tmp_path / "state.json"):
        wait_until(lambda: len(apex.state.requests_matching("GET", "/api/v1/shipping-orders")) >= 4)
    restart_query = apex.state.requests_matching("GET", "/api/v1/shipping-orders")[-1].query
    assert restart_query != first_query and "with_items=true" in restart_query
    assert tracker.package("1A40603000123456")["current_grams"] == 488  # shipped once


def test_excluded_statuses_leave_orders_out(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """An order whose status is excluded reserves nothing."""
    tracker.create("1A4060300002EE1000012345", strain="Blue Dream", grams=1000)
    config = engine_config(tracker, apex, orders=True, enabled=False)
    config = type(config)(
        **{
            **{f: getattr(config, f) for f in config.__struct_fields__},
            "excluded_statuses": ["accepted"],
        }
    )
    with EngineThread(config, tmp_path / "state.json") as running:
        wait_until(lambda: running.engine is not None and running.engine.status.packing_rows)
        wait_until(lambda: tracker.package("1A4060300002EE1000012345")["grams_ordered"] == 6)


def test_first_push_already_counts_open_orders(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """At start-up orders are synced before any quantity is pushed: Apex never sees 1000."""
    tracker.create("1A40603000123456", strain="Wedding Cake", grams=500)
    config = engine_config(tracker, apex, orders=True)
    with EngineThread(config, tmp_path / "state.json"):
        wait_until(lambda: apex.state.quantity(1001) == 976)  # 500 g less 24 x 0.5 g reserved
    bodies = [r.body for r in apex.state.requests_matching("PATCH", "/api/v2/batches/1001")]
    assert bodies == [b'{"quantity":976}']


def test_open_orders_are_never_dropped_by_a_date_window(
    tracker: RunningTracker, apex: RunningApex
) -> None:
    """An open order keeps its reservation however old it gets (only shipped or cancelled end
    it), and moving api_initial_sync_date earlier fetches the older orders once."""
    import asyncio
    from datetime import timedelta

    import httpx

    from sync_engine.clients.apex import ApexClient
    from sync_engine.orders.service import OrdersService
    from sync_engine.state import EngineState

    today = [date(2026, 11, 29)]
    old = apex.state.add_order(  # placed (and last touched) 50 days ago, never shipped
        buyer="Old Town", items=[{"product_id": 102, "quantity": 2}], order_date="2026-10-10"
    )
    apex.state.orders[old]["updated_at"] = "2026-10-10T09:00:00.000000Z"
    recent = apex.state.add_order(
        buyer="New Leaf", items=[{"product_id": 102, "quantity": 3}], order_date="2026-11-20"
    )
    state = EngineState(None)

    def open_ids(config: object) -> set[int]:
        async def refresh() -> set[int]:
            async with httpx.AsyncClient() as http:
                service = OrdersService(
                    config,  # type: ignore[arg-type]
                    ApexClient(http, apex.base_url, "sim-token"),
                    state,
                    today=lambda: today[0],
                )
                await service.refresh()
                return {o.id for o, s in service.relevant_orders() if s == "open"}

        return asyncio.run(refresh())

    config = engine_config(tracker, apex, orders=True)
    later = {**msgspec.to_builtins(config), "api_initial_sync_date": "2026-11-01"}
    assert {old, recent} & open_ids(msgspec.convert(later, type(config))) == {recent}
    today[0] += timedelta(days=40)  # the recent order is now older than any 30-day window
    assert recent in open_ids(config)
    earlier = {**msgspec.to_builtins(config), "api_initial_sync_date": "2026-10-01"}
    assert {old, recent} <= open_ids(msgspec.convert(earlier, type(config)))
    fetches = [r.query for r in apex.state.requests_matching("GET", "/api/v1/shipping-orders")]
    assert "updated_at_from=2026-10-01" in fetches[-1]
    apex.state.update_order(old, status_id=5)  # delivered: now it may leave
    assert old not in open_ids(msgspec.convert(earlier, type(config)))


def test_needs_production_counts_what_the_tracker_holds_for_the_line(
    tracker: RunningTracker, apex: RunningApex, tmp_path: Path
) -> None:
    """A package of exactly 12 g and an order for 24 half-gram pre-rolls: the tracker reserves
    all 12 g for the line, so it needs no production (it used to show 24); a second order
    for the same product, which nothing covers, shows its whole count."""
    tracker.create("1A40603000123456", strain="Wedding Cake", grams=12)
    config = engine_config(tracker, apex, orders=True, enabled=False)
    extra = apex.state.add_order(
        buyer="Late Shop", items=[{"product_id": 101, "quantity": 6}], order_id=9999
    )
    with EngineThread(config, tmp_path / "state.json") as running:
        wait_until(lambda: tracker.package("1A40603000123456")["grams_ordered"] == 12)
        engine = running.engine
        assert engine is not None

        def needs() -> dict[str, int]:
            packing = engine.packing
            rows = packing.rows if packing else []
            return {r.invoice: r.needs_production for r in rows if "Wedding Cake 0.5g" in r.product}

        wait_until(lambda: needs() == {"INV-9001": 0, f"INV-{extra}": 6})
