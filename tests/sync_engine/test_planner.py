"""plan_inventory: pure decisions from tracker units, the mapping and confirmed quantities."""

from __future__ import annotations

from sync_engine.actions import HoldBack, SetQuantity
from sync_engine.apex_models import ApexBatch, ApexProduct
from sync_engine.mapping.mapping import BatchMapping, build_mapping
from sync_engine.planners.inventory import InventoryPlan, InventorySettings, plan_inventory
from sync_engine.tracker_models import CustomSku, PackageCalc

DEFAULTS = ("singles_0_5g", "singles_1g", "box_0_5g_6pk", "box_0_5g_12pk")


def package(
    strain: str,
    units: tuple[int, ...] = (1000, 500, 166, 83),
    status: str = "active",
    custom_skus: dict[str, CustomSku] | None = None,
    **custom: int,
) -> PackageCalc:
    return PackageCalc(
        strain,
        status,
        0,
        dict(zip(DEFAULTS, units, strict=True)) | custom,
        custom_skus=custom_skus or {},
    )


def plan_sync(
    packages: dict[str, PackageCalc],
    mapping: BatchMapping,
    confirmed: dict[int, int | None],
    *,
    allow_mass_zero: bool = False,
) -> InventoryPlan:
    return plan_inventory(
        packages, mapping, confirmed, InventorySettings(), allow_mass_zero=allow_mass_zero
    )


def mapping_of(*names: str, start: int = 1):
    products = {i: ApexProduct(id=i, name=n) for i, n in enumerate(names, start=start)}
    batches = [ApexBatch(id=100 + i, product_id=i, quantity=0, updated_at="x") for i in products]
    return build_mapping(batches, products)


def test_units_of_packages_of_one_strain_add_up() -> None:
    """Two Wedding Cake packages feed one batch with the sum of their units."""
    mapping = mapping_of("CannaDart - Wedding Cake 0.5g", "Magnetic Box - Wedding Cake 6pk")
    plan = plan_sync(
        {"A": package("Wedding Cake"), "B": package("wedding  cake", (10, 5, 1, 0))},
        mapping,
        {},
    )
    assert plan.targets == {101: 1010, 102: 167}
    assert [a.quantity for a in plan.actions] == [1010, 167]


def test_unchanged_quantities_cost_nothing() -> None:
    """A batch whose confirmed quantity already equals the target gets no action."""
    mapping = mapping_of("CannaDart - Wedding Cake 0.5g", "CannaDart - Wedding Cake 1g")
    plan = plan_sync({"A": package("Wedding Cake")}, mapping, {101: 1000, 102: 499})
    assert plan.actions == (SetQuantity(102, 500, 499, "Wedding Cake", "singles_1g"),)


def test_custom_sku_matches_by_family_grams_and_pack() -> None:
    """Cocoa Blunt 1 g maps to the package's custom SKU of that family and size, any key."""
    mapping = mapping_of("Cocoa Blunt - Gelato 1g", "CannaDart - Gelato 0.8g")
    custom = {
        "blunt_house": CustomSku("Cocoa Blunt", 1.0, 1),
        "dart_08": CustomSku("Canna Dart", 0.8, 1),
    }
    gelato = package("Gelato", custom_skus=custom, blunt_house=40, dart_08=25)
    plan = plan_sync({"A": gelato}, mapping, {})
    assert plan.targets == {101: 40, 102: 25}


def test_batch_without_a_matching_sku_is_reported_and_left_alone() -> None:
    """No custom SKU for a Cocoa Blunt batch: a problem naming what to add, no action."""
    mapping = mapping_of("Cocoa Blunt - Gelato 1g")
    plan = plan_sync({"A": package("Gelato")}, mapping, {101: 7})
    assert plan.actions == ()
    assert [p.kind for p in plan.problems] == ["no_sku"]
    assert "add a custom SKU (Cocoa Blunt, 1 g, pack 1)" in plan.problems[0].detail


def test_strain_missing_from_tracker_is_left_alone() -> None:
    """No package of the strain in the answer: its batches keep their quantity."""
    mapping = mapping_of("CannaDart - Gelato 0.5g")
    plan = plan_sync({"A": package("Wedding Cake")}, mapping, {101: 30})
    assert (plan.actions, plan.targets) == ((), {})
    kinds = sorted(p.kind for p in plan.problems)
    assert kinds == ["no_package", "unmatched_strain"]
    assert any("no batch found for strain 'Wedding Cake'" in p.detail for p in plan.problems)


def test_archived_package_drives_batches_to_zero_even_custom_ones() -> None:
    """All packages of the strain archived: every batch of it goes to 0."""
    mapping = mapping_of("CannaDart - Gelato 0.5g", "Cocoa Blunt - Gelato 1g")
    plan = plan_sync(
        {"A": package("Gelato", (0, 0, 0, 0), status="archived")}, mapping, {101: 30, 102: 4}
    )
    assert plan.targets == {101: 0, 102: 0}


def test_ambiguous_batches_are_never_updated() -> None:
    """Two batches claiming the same strain and SKU are reported and left alone."""
    mapping = mapping_of("CannaDart - Gelato 0.5g", "Gelato Pre-Roll 0.5g", "CannaDart - Gelato 1g")
    plan = plan_sync({"A": package("Gelato")}, mapping, {})
    assert plan.targets == {103: 500}
    ambiguous = [p for p in plan.problems if p.kind == "ambiguous"]
    assert len(ambiguous) == 1 and ambiguous[0].batch_ids == (101, 102)


def test_mass_zeroing_is_held_back_until_confirmed() -> None:
    """Zeroing most batches at once is held back with a reason; confirming lets it through."""
    names = [f"CannaDart - Strain{i} 0.5g" for i in range(6)]
    mapping = mapping_of(*names)
    confirmed = {100 + i: 50 for i in range(1, 7)}
    zeros = {f"P{i}": package(f"Strain{i}", (0, 0, 0, 0)) for i in range(6)}
    held = plan_sync(zeros, mapping, confirmed)
    assert held.held_back is not None and held.actions == (held.held_back,)
    assert isinstance(held.actions[0], HoldBack)
    assert "6 of 6 Apex batches to 0" in held.held_back.reason
    assert len(held.held_back.zeroing) == 6
    allowed = plan_sync(zeros, mapping, confirmed, allow_mass_zero=True)
    assert len(allowed.actions) == 6 and allowed.held_back is None
    few = plan_sync(
        {
            **{f"P{i}": package(f"Strain{i}") for i in range(6)},
            "P0": package("Strain0", (0, 0, 0, 0)),
        },
        mapping,
        confirmed,
    )
    assert few.held_back is None


def test_a_package_the_tracker_cannot_compute_is_shown_and_sells_nothing() -> None:
    """A /apex-calculate entry with a problem (units 0) sets its batches to 0 and names the
    package and the fix in the problems list, so the dashboard shows it."""
    mapping = mapping_of("CannaDart - Gelato 0.5g")
    broken = PackageCalc("Gelato", "active", 0, dict.fromkeys(DEFAULTS, 0), problem="pack size 0")
    plan = plan_sync({"A": broken}, mapping, {101: 40})
    assert plan.actions == (SetQuantity(101, 0, 40, "Gelato", "singles_0_5g"),)
    assert [(p.kind, p.detail) for p in plan.problems] == [
        ("package_problem", "package A sells nothing until it is fixed in the tracker: pack size 0")
    ]
