"""METRC quantities ↔ the tracker's integer milligrams, exactly (docs/metrc.md, "Units").

Ounces and pounds by their legal definitions (1 oz = 28.349523125 g, 1 lb = 453.59237 g); a
count-based package (Each) weighs Quantity times its item's UnitWeight. The product is computed in
``Decimal`` and rounded to a whole milligram once, half to even.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from tracker_service.metrc.models import MetrcPackage

__all__ = ["MG_PER_UNIT", "UnknownUnit", "adjustment_quantity", "package_mg", "to_mg"]

MG_PER_UNIT = {
    "Milligrams": Decimal(1),
    "Grams": Decimal(1000),
    "Kilograms": Decimal(1_000_000),
    "Ounces": Decimal("28349.523125"),
    "Pounds": Decimal("453592.37"),
}


class UnknownUnit(ValueError):
    """A unit the tracker cannot turn into grams (it names the unit)."""


def to_mg(quantity: Decimal, unit: str) -> int:
    try:
        factor = MG_PER_UNIT[unit]
    except KeyError:
        raise UnknownUnit(f"unit {unit!r} is not a weight") from None
    return int((quantity * factor).to_integral_value(rounding=ROUND_HALF_EVEN))


def package_mg(package: MetrcPackage) -> int:
    """The package's weight in mg; count-based packages through their item's UnitWeight."""
    if package.unit_of_measure_name != "Each":
        return to_mg(package.quantity, package.unit_of_measure_name)
    item = package.item
    if item.unit_weight is None or not item.unit_weight_unit_of_measure_name:
        raise UnknownUnit(f"item {item.name!r} is counted (Each) and has no unit weight")
    each = to_mg(item.unit_weight, item.unit_weight_unit_of_measure_name)
    return int((package.quantity * each).to_integral_value(rounding=ROUND_HALF_EVEN))


def adjustment_quantity(mg: int, package: MetrcPackage) -> tuple[Decimal, str]:
    """``mg`` as METRC should record it for ``package``: grams (exact) for a weighed package,
    whole units (Each) for a counted one. A count that is not whole raises ValueError."""
    if package.unit_of_measure_name != "Each":
        return Decimal(mg) / 1000, "Grams"
    item = package.item
    if item.unit_weight is None or not item.unit_weight_unit_of_measure_name:
        raise UnknownUnit(f"item {item.name!r} is counted (Each) and has no unit weight")
    each = to_mg(item.unit_weight, item.unit_weight_unit_of_measure_name)
    if mg % each:
        raise ValueError(
            f"{Decimal(mg) / 1000} g is not a whole number of {item.name!r} units"
            f" ({Decimal(each) / 1000} g each)"
        )
    return Decimal(mg // each), "Each"
