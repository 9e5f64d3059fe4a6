"""calculate_apex_units and gram conversion: exact integer arithmetic (docs/api.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker_service.finished_goods.skus import DEFAULT_SKUS, SkuSetting, SkuType
from tracker_service.finished_goods.units import (
    PackageAmounts,
    available_mg,
    calculate_apex_units,
)
from tracker_service.lib.errors import InvalidInput
from tracker_service.lib.grams import grams_to_mg, mg_to_grams

milligrams = st.integers(min_value=0, max_value=10_000_000_000)
custom_skus = st.dictionaries(
    st.from_regex(r"custom_[a-z]{1,8}", fullmatch=True),
    st.builds(
        SkuType,
        name=st.just("Custom"),
        mg_per_unit=st.integers(min_value=1, max_value=5_000),
        pack_size=st.integers(min_value=1, max_value=24),
    ),
    max_size=3,
)


def oracle_units(available_grams: Decimal, grams_per_unit: Decimal, pack: int) -> int:
    """The definition with exact decimals: the largest n with n x unit x pack <= available."""
    n = 0
    step = grams_per_unit * pack
    # Binary search keeps the oracle independent of the code's floor division.
    low, high = 0, int(available_grams / step) + 2
    while low < high:
        mid = (low + high + 1) // 2
        if mid * step <= available_grams:
            low = mid
        else:
            high = mid - 1
    n = low
    return n


def test_guide_worked_example() -> None:
    """500 g available gives 1000 / 500 / 166 / 83 for the four default SKUs (docs/api.md)."""
    units = calculate_apex_units("active", 500_000, {}, {})
    assert units == {
        "singles_0_5g": 1000,
        "singles_1g": 500,
        "box_0_5g_6pk": 166,
        "box_0_5g_12pk": 83,
    }


def test_guide_custom_skus() -> None:
    """The guide's CannaDart 0.8 g and Cocoa Blunt 1 g custom SKUs come after the defaults."""
    custom = {
        "cocoa_blunt_1g": SkuType("Cocoa Blunt", 1000, 1),
        "cannadart_0_8g": SkuType("CannaDart", 800, 1),
    }
    units = calculate_apex_units("active", 100_000, {}, custom)
    assert units == {
        "singles_0_5g": 200,
        "singles_1g": 100,
        "box_0_5g_6pk": 33,
        "box_0_5g_12pk": 16,
        "cannadart_0_8g": 125,
        "cocoa_blunt_1g": 100,
    }


def test_excluded_and_manual_settings() -> None:
    """Excluded SKUs show 0; manual_units shows exactly that number, whatever the grams."""
    settings = {
        "singles_1g": SkuSetting(excluded=True),
        "box_0_5g_6pk": SkuSetting(manual_units=50),
        "box_0_5g_12pk": SkuSetting(excluded=True, manual_units=7),
    }
    units = calculate_apex_units("active", 500_000, settings, {})
    assert units == {"singles_0_5g": 1000, "singles_1g": 0, "box_0_5g_6pk": 50, "box_0_5g_12pk": 0}


@pytest.mark.parametrize("status", ["archived", "orphaned"])
def test_retired_packages_sell_nothing(status: str) -> None:
    """Archived and orphaned packages yield 0 for every SKU, manual units included."""
    units = calculate_apex_units(
        status,
        500_000,
        {"singles_0_5g": SkuSetting(manual_units=9)},
        {"cannadart_0_8g": SkuType("CannaDart", 800, 1)},
    )
    assert units == {
        "singles_0_5g": 0,
        "singles_1g": 0,
        "box_0_5g_6pk": 0,
        "box_0_5g_12pk": 0,
        "cannadart_0_8g": 0,
    }


def test_available_uses_override_and_subtracts_commitments() -> None:
    """Override replaces METRC grams; ordered, packed and held grams are subtracted."""
    amounts = PackageAmounts(
        current_mg=500_000,
        override_mg=480_000,
        ordered_mg=100_000,
        packed_mg=50_000,
        held_mg=30_000,
    )
    assert available_mg(amounts) == 300_000
    assert available_mg(PackageAmounts(current_mg=10, ordered_mg=20)) == 0


@given(
    current=milligrams,
    override=st.none() | milligrams,
    ordered=milligrams,
    packed=milligrams,
    held=milligrams,
    custom=custom_skus,
)
def test_units_never_advertise_more_grams_than_available(
    current: int,
    override: int | None,
    ordered: int,
    packed: int,
    held: int,
    custom: dict[str, SkuType],
) -> None:
    """For every SKU, units x grams per sale unit <= available, and one more unit would not fit."""
    amounts = PackageAmounts(current, override, ordered, packed, held)
    available = available_mg(amounts)
    effective = current if override is None else override
    assert available == max(0, effective - ordered - packed - held)
    units = calculate_apex_units("active", available, {}, custom)
    skus = {**DEFAULT_SKUS, **custom}
    assert list(units) == [*DEFAULT_SKUS, *sorted(custom)]
    for key, count in units.items():
        sku = skus[key]
        assert count * sku.mg_per_sale_unit <= available
        assert (count + 1) * sku.mg_per_sale_unit > available
        assert count == oracle_units(
            Decimal(available) / 1000, Decimal(sku.mg_per_unit) / 1000, sku.pack_size
        )


@given(
    available=milligrams,
    settings=st.dictionaries(
        st.sampled_from(sorted(DEFAULT_SKUS)),
        st.builds(
            SkuSetting, excluded=st.booleans(), manual_units=st.none() | st.integers(0, 10_000)
        ),
    ),
    status=st.sampled_from(["active", "archived", "orphaned"]),
)
def test_settings_rules_against_oracle(
    available: int, settings: dict[str, SkuSetting], status: str
) -> None:
    """Status, then excluded, then manual_units, then the gram calculation decide a count."""
    units = calculate_apex_units(status, available, settings, {})
    for key, sku in DEFAULT_SKUS.items():
        setting = settings.get(key, SkuSetting())
        if status != "active" or setting.excluded:
            expected = 0
        elif setting.manual_units is not None:
            expected = setting.manual_units
        else:
            expected = oracle_units(
                Decimal(available) / 1000, Decimal(sku.mg_per_unit) / 1000, sku.pack_size
            )
        assert units[key] == expected


@given(st.integers(min_value=-10_000_000_000, max_value=10_000_000_000))
def test_grams_round_trip_exactly(mg: int) -> None:
    """Every milligram amount survives grams-as-JSON-number and back unchanged."""
    assert grams_to_mg(mg_to_grams(mg), "grams", allow_negative=True) == mg


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (0.0005, "at most 3 decimal places"),
        (-1, "must not be negative"),
        (float("nan"), "finite"),
        (1e12, "at most"),
        ("12", "must be a number"),
        (True, "must be a number"),
    ],
)
def test_bad_grams_name_the_field(value: object, problem: str) -> None:
    """Sub-milligram, negative, non-finite and non-numeric grams are refused by field name."""
    with pytest.raises(InvalidInput) as error:
        grams_to_mg(value, "initial_grams")  # type: ignore[arg-type]
    assert error.value.field == "initial_grams"
    assert problem in error.value.detail


def test_decimal_text_is_exact() -> None:
    """0.1 + 0.2 style values convert exactly: 12.345 g is 12345 mg, 0.3 g is 300 mg."""
    assert grams_to_mg(12.345, "g") == 12_345
    assert mg_to_grams(12_345) == 12.345
    assert mg_to_grams(500_000) == 500
