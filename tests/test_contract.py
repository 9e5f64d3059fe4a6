"""The contract both applications share (preroll_contract): one strain rule, one SKU table,
one set of wire shapes, and the two applications agreeing on them end to end."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from preroll_contract import DEFAULT_SKUS, SKU_ALIASES, canonical_sku_key, strain_key
from sync_engine.apex_models import ApexBatch, ApexProduct
from sync_engine.mapping.mapping import build_mapping
from sync_engine.mapping.parser import PreRollProductParser, sku_key_for
from sync_engine.orders.models import ApexOrder, Buyer, OrderItem, OrderStatus, ParentStatus
from sync_engine.orders.packing import build_packing
from sync_engine.planners.inventory import InventorySettings, plan_inventory
from sync_engine.tracker_models import PackageCalc
from tests.conftest import RunningTracker
from tests.tracker.test_sync_http import HOLDER

TAG = "1A4060300003BB1000000001"
THREE_WAYS = ("Blue-Dream", "blue  dream", "BLUE DREAM")


def test_strain_key_folds_case_spacing_punctuation_and_width() -> None:
    """The guide's examples and a full-width spelling are one strain."""
    assert {
        strain_key(name) for name in (*THREE_WAYS, "  Blue_Dream!! ", "\uff22lue \uff24ream")
    } == {"blue dream"}
    assert strain_key("Blue Dream #2") != strain_key("Blue Dream")


@given(st.text(max_size=40))
def test_strain_key_is_stable_and_ignores_case_and_separators(name: str) -> None:
    """Applying the rule twice changes nothing; upper case and separators change nothing."""
    key = strain_key(name)
    assert strain_key(key) == key
    assert strain_key(name.upper()) == strain_key(name.lower()) or not name.isascii()
    assert strain_key(f"--{name.replace(' ', '_')}  ") == key


def test_the_sku_table_is_one_table() -> None:
    """Every default SKU is what the engine's parser names for its products, and every alias
    maps to a default key on both sides."""
    parser = PreRollProductParser()
    named = {
        sku_key_for(p.family, p.mg_per_unit, p.pack_size)  # type: ignore[union-attr]
        for p in map(
            parser.parse,
            [
                "Blue Dream Pre-Roll 0.5g",
                "Blue Dream Pre-Roll 1g",
                "Magnetic Box - Blue Dream 0.5g 6pk",
                "Magnetic Box - Blue Dream 0.5g 12pk",
            ],
        )
    }
    assert named == set(DEFAULT_SKUS)
    assert {canonical_sku_key(alias) for alias in SKU_ALIASES} <= set(DEFAULT_SKUS)
    assert canonical_sku_key("cocoa_blunt_1g") is None
    assert canonical_sku_key("cocoa_blunt_1g", {"cocoa_blunt_1g"}) == "cocoa_blunt_1g"


def test_a_strain_written_three_ways_matches_on_both_sides(tracker: RunningTracker) -> None:
    """The tracker holds "Blue-Dream"; Apex sells "blue  dream" and "BLUE DREAM" products. The
    engine maps both batches to the package and counts its units for the order lines, and the
    tracker reserves those lines on the same package."""
    tracker.create(TAG, strain=THREE_WAYS[0], grams=100)
    calculation = msgspec.json.decode(
        tracker.client.get("/apex-calculate").content, type=dict[str, PackageCalc]
    )
    products = [
        ApexProduct(id=1, name=f"{THREE_WAYS[1]} Pre-Roll 1g"),
        ApexProduct(id=2, name=f"Magnetic Box - {THREE_WAYS[2]} 0.5g 6pk"),
    ]
    batches = [
        ApexBatch(id=11, product_id=1, name="b", updated_at="2026-11-20T10:00:00"),
        ApexBatch(id=12, product_id=2, name="b", updated_at="2026-11-20T10:00:00"),
    ]
    mapping = build_mapping(batches, {p.id: p for p in products})
    plan = plan_inventory(calculation, mapping, {}, InventorySettings())
    assert plan.targets == {11: 100, 12: 33}
    assert [p.kind for p in plan.problems] == []

    items = [
        OrderItem(id=501, product_name=products[0].name, order_quantity=10),
        OrderItem(id=502, product_name=products[1].name, order_quantity=2),
    ]
    order = ApexOrder(
        id=7,
        invoice_number="INV-7",
        order_date="2026-11-20",
        order_status=OrderStatus(1, "New", ParentStatus(1, "Submitted")),
        buyer=Buyer(1, "Green Leaf"),
        items=items,
    )
    packing = build_packing([(order, "open")], calculation, {}, {})
    assert [(row.strain, row.available) for row in packing.rows] == [
        ("blue dream", 100),
        ("BLUE DREAM", 33),
    ]
    tracker.client.post("/api/sync/lease", json={"holder": HOLDER})
    body = msgspec.json.encode({"holder": HOLDER, "lines": packing.lines})
    answer = tracker.client.put(
        "/api/sync/order-lines", content=body, headers={"Content-Type": "application/json"}
    ).json()
    assert [(line["item_id"], line["metrc_number"]) for line in answer["lines"]] == [
        (501, TAG),
        (502, TAG),
    ]
    assert tracker.package(TAG)["grams_ordered"] == 16
