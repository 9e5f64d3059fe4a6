"""Split allocation (sync_engine/planners/allocation.py, shares.py, inventory.py): for any input
a strain's batches never advertise more grams than it has, no SKU starves while grams remain,
and rounding costs a batch at most one sale unit."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_engine.apex_models import ApexBatch, ApexProduct
from sync_engine.mapping.mapping import build_mapping
from sync_engine.orders.models import ApexOrder, OrderItem
from sync_engine.planners.allocation import Claim, allocate_split
from sync_engine.planners.inventory import InventorySettings, plan_inventory
from sync_engine.planners.shares import ordered_grams, split_weights
from sync_engine.tracker_models import PackageCalc

UNIT_MG = st.sampled_from([500, 800, 1000, 3000, 6000])


@st.composite
def claims(draw: st.DrawFn) -> list[Claim]:
    count = draw(st.integers(1, 6))
    return [
        Claim(
            batch_id=100 + i,
            unit_mg=draw(UNIT_MG),
            cap=draw(st.integers(0, 5000)),
            weight=Fraction(draw(st.integers(0, 20))),
        )
        for i in range(count)
    ]


@settings(max_examples=500, deadline=None)
@given(claims(), st.integers(-1000, 3_000_000))
def test_split_never_advertises_more_grams_than_the_strain_has(
    offered: list[Claim], available_mg: int
) -> None:
    quantities = allocate_split(offered, available_mg)
    assert set(quantities) == {c.batch_id for c in offered}
    used = sum(quantities[c.batch_id] * c.unit_mg for c in offered)
    assert used <= max(0, available_mg)
    for claim in offered:
        assert 0 <= quantities[claim.batch_id] <= claim.cap
    left = max(0, available_mg) - used
    for claim in offered:
        if quantities[claim.batch_id] < claim.cap:
            assert claim.unit_mg > left, f"batch {claim.batch_id} starves while grams remain"


@settings(max_examples=300, deadline=None)
@given(claims(), st.integers(0, 3_000_000))
def test_rounding_costs_a_batch_at_most_one_unit_of_its_share(
    offered: list[Claim], available_mg: int
) -> None:
    """Each batch gets at least its weighted share of the grams (or its cap), less under one
    sale unit for rounding."""
    quantities = allocate_split(offered, available_mg)
    weights = [c.weight for c in offered]
    total = sum(weights) or len(offered)
    for claim in offered:
        weight = claim.weight if sum(weights) else Fraction(1)
        share = min(Fraction(claim.cap), weight / total * available_mg / claim.unit_mg)
        assert quantities[claim.batch_id] > share - 1


def test_equal_weights_split_blue_dream_instead_of_showing_it_five_times() -> None:
    """1.2 kg of Blue Dream: shared shows all of it in every SKU; split divides it."""
    names = [
        "CannaDart - Blue Dream 0.5g",
        "CannaDart - Blue Dream 1g",
        "Magnetic Box - Blue Dream 6pk",
    ]
    products = {i: ApexProduct(id=i, name=n) for i, n in enumerate(names, start=1)}
    batches = [ApexBatch(id=100 + i, product_id=i, quantity=0, updated_at="x") for i in products]
    mapping = build_mapping(batches, products)
    blue = PackageCalc(
        "Blue Dream",
        "active",
        1222.8,
        {"singles_0_5g": 2445, "singles_1g": 1222, "box_0_5g_6pk": 407, "box_0_5g_12pk": 203},
    )
    shared = plan_inventory({"A": blue}, mapping, {}, InventorySettings())
    split = plan_inventory({"A": blue}, mapping, {}, InventorySettings(allocation="split"))
    assert shared.targets == {101: 2445, 102: 1222, 103: 407}
    grams = {101: 500, 102: 1000, 103: 3000}
    assert sum(q * grams[b] for b, q in split.targets.items()) <= 1_222_800
    assert split.targets == {101: 815, 102: 407, 103: 136}
    weighted = plan_inventory(
        {"A": blue},
        mapping,
        {},
        InventorySettings(allocation="split", split_shares={"singles_1g": 3, "box_0_5g_6pk": 1}),
    )
    assert weighted.targets[101] <= 1  # weight 0: only grams nothing else can use
    assert (weighted.targets[102], weighted.targets[103]) == (919, 101)


def test_recent_demand_steers_the_shares_above_a_floor() -> None:
    """Orders of the last 30 days weigh the SKUs; every SKU keeps at least half an equal share;
    older and cancelled orders do not count; a strain without orders borrows every strain's."""

    def order(day: str, name: str, units: int, cancelled: bool = False) -> ApexOrder:
        item = OrderItem(id=hash((day, name)) % 10_000, product_name=name, order_quantity=units)
        return ApexOrder(
            id=hash((day, name, units)) % 10_000, order_date=day, items=[item], cancelled=cancelled
        )

    demand = ordered_grams(
        [
            order("2026-11-20", "CannaDart - Gelato 1g", 30),
            order("2026-11-20", "CannaDart - Gelato 0.5g", 20, cancelled=True),
            order("2026-09-01", "CannaDart - Gelato 0.5g", 500),
        ],
        date(2026, 11, 29),
    )
    assert demand == {("gelato", "singles_1g"): 30_000}
    products = {
        1: ApexProduct(id=1, name="CannaDart - Gelato 0.5g"),
        2: ApexProduct(id=2, name="CannaDart - Gelato 1g"),
    }
    infos = build_mapping(
        [
            ApexBatch(id=101, product_id=1, updated_at="x"),
            ApexBatch(id=102, product_id=2, updated_at="x"),
        ],
        products,
    ).by_strain
    weights = split_weights("gelato", infos["gelato"], demand)
    assert weights == {101: Fraction(1, 4), 102: Fraction(3, 4)}
    borrowed = split_weights("blue dream", infos["gelato"], demand)
    assert borrowed == weights
    assert split_weights("gelato", infos["gelato"], {}) == {
        101: Fraction(1, 2),
        102: Fraction(1, 2),
    }
