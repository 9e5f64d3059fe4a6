"""METRC's wire shapes (PascalCase JSON), as far as the tracker reads them (docs/metrc.md).

Quantities are decoded as ``Decimal`` from the JSON text itself, so a quantity is never
rounded before it becomes milligrams. Fields METRC adds are ignored.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = [
    "AdjustReason",
    "Facility",
    "MetrcItem",
    "MetrcPackage",
    "PackageItem",
    "Page",
    "Unit",
]


class PackageItem(msgspec.Struct, rename="pascal", frozen=True):
    """The item as a package carries it (its enums are integers there)."""

    id: int
    name: str
    product_category_name: str | None = None
    strain_name: str | None = None
    unit_of_measure_name: str | None = None
    unit_weight: Decimal | None = None
    unit_weight_unit_of_measure_name: str | None = None


class MetrcPackage(msgspec.Struct, rename="pascal", frozen=True):
    id: int
    label: str
    quantity: Decimal
    unit_of_measure_name: str
    item: PackageItem
    last_modified: str = ""
    is_on_hold: bool = False
    is_finished: bool = False
    finished_date: str | None = None
    packaged_date: str | None = None
    source_package_labels: str | None = None


class MetrcItem(msgspec.Struct, rename="pascal", frozen=True):
    id: int
    name: str
    product_category_name: str | None = None
    quantity_type: str | None = None
    unit_of_measure_name: str | None = None
    strain_name: str | None = None
    unit_weight: Decimal | None = None


class AdjustReason(msgspec.Struct, rename="pascal", frozen=True):
    name: str
    requires_note: bool = False


class Unit(msgspec.Struct, rename="pascal", frozen=True):
    quantity_type: str
    name: str
    abbreviation: str


class FacilityLicense(msgspec.Struct, rename="pascal", frozen=True):
    number: str


class Facility(msgspec.Struct, rename="pascal", frozen=True):
    name: str
    license: FacilityLicense


class Page(msgspec.Struct, rename="pascal", frozen=True):
    """The v2 list envelope (there is no ``PageNumber`` key)."""

    data: list[msgspec.Raw]
    total_pages: int = 1
    current_page: int = 1
    total: int = 0
