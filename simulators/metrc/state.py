"""What the METRC simulator holds: licenses, keys, items, packages, tags, adjustments, faults.

Quantities are kept as METRC keeps them (a number in the package's unit). Every change bumps
the package's ``LastModified``. The clock is injectable so an outage of hours can pass in
seconds (docs/metrc.md, "The simulator").
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulators.request_log import RecordedRequest

__all__ = [
    "GRAMS_PER_UNIT",
    "MetrcFaults",
    "MetrcState",
    "RecordedRequest",
    "Rejected",
]

#: Weight units METRC lists (GET /unitsofmeasure/v2/active) in grams, by their legal definitions.
GRAMS_PER_UNIT = {
    "Grams": 1.0,
    "Milligrams": 0.001,
    "Kilograms": 1000.0,
    "Ounces": 28.349523125,
    "Pounds": 453.59237,
}
UNITS = [
    {"QuantityType": "CountBased", "Name": "Each", "Abbreviation": "ea"},
    {"QuantityType": "WeightBased", "Name": "Ounces", "Abbreviation": "oz"},
    {"QuantityType": "WeightBased", "Name": "Pounds", "Abbreviation": "lb"},
    {"QuantityType": "WeightBased", "Name": "Grams", "Abbreviation": "g"},
    {"QuantityType": "WeightBased", "Name": "Milligrams", "Abbreviation": "mg"},
    {"QuantityType": "WeightBased", "Name": "Kilograms", "Abbreviation": "kg"},
]
ABBREVIATIONS = {u["Name"]: u["Abbreviation"] for u in UNITS}
#: A state's adjustment reasons (the list differs by state; this is a plausible one).
REASONS = [
    {"Name": "Drying", "RequiresNote": False},
    {"Name": "Entry Error", "RequiresNote": True},
    {"Name": "Scale Variance", "RequiresNote": False},
    {"Name": "Waste (Unusable Product)", "RequiresNote": False},
    {"Name": "Theft", "RequiresNote": True},
    {"Name": "Damage", "RequiresNote": False},
    {"Name": "Sample", "RequiresNote": False},
    {"Name": "Spoilage", "RequiresNote": False},
    {"Name": "Other", "RequiresNote": True},
]
#: Permissions as METRC names them, and which routes need which.
VIEW = "View Packages"
CREATE = "Create/Submit/Discontinue Packages"
MANAGE = "Manage Packages Inventory"
ALL_PERMISSIONS = frozenset({VIEW, CREATE, MANAGE, "Manage Items", "Manage Tags"})


class Rejected(Exception):
    """A write METRC refuses: 400 with ``[{"row", "message"}]``."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


@dataclass
class MetrcFaults:
    """Switches other processes flip through ``/_sim/faults``."""

    latency_seconds: float = 0.0
    down_until: float = 0.0  # state clock; every request 503 until then
    rate_limited: int = 0  # the next N requests get 429
    errors_5xx: int = 0  # the next N requests get 500
    lose_answers: int = 0  # the next N writes are applied, then answered 504
    object_limit: int = 10  # more elements in one write: 413


@dataclass
class MetrcState:
    vendor_keys: set[str] = field(default_factory=lambda: {"sim-vendor-key"})
    #: user key → licenses it may use, and its permissions
    users: dict[str, tuple[set[str], frozenset[str]]] = field(
        default_factory=lambda: {"sim-user-key": ({"SIM-LIC-0001"}, ALL_PERMISSIONS)}
    )
    facilities: dict[str, str] = field(
        default_factory=lambda: {"SIM-LIC-0001": "Simulated Pre-Roll Manufacturer"}
    )
    clock: Callable[[], float] = time.time
    faults: MetrcFaults = field(default_factory=MetrcFaults)
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    packages: dict[int, dict[str, Any]] = field(default_factory=dict)
    licenses: dict[int, str] = field(default_factory=dict)  # package id → license
    tags: dict[str, set[str]] = field(default_factory=dict)  # license → available tags
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(20001))

    # -- time ------------------------------------------------------------------------------

    def stamp(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="microseconds")

    def today(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).date().isoformat()

    # -- auth ------------------------------------------------------------------------------

    def user(self, vendor: str, user: str) -> tuple[set[str], frozenset[str]] | str:
        """The user's licenses and permissions, or why METRC says 401."""
        if vendor not in self.vendor_keys:
            return "Invalid software vendor API key."
        if user not in self.users:
            return "Invalid user API key."
        return self.users[user]

    # -- seeding ---------------------------------------------------------------------------

    def add_item(
        self,
        name: str,
        strain: str,
        *,
        category: str = "Pre-Roll Flower",
        unit: str = "Grams",
        unit_weight: float | None = None,
    ) -> int:
        with self.lock:
            item_id = next(self._ids)
            count_based = unit == "Each"
            self.items[item_id] = {
                "Id": item_id,
                "Name": name,
                "ProductCategoryName": category,
                "ProductCategoryType": 4,
                "QuantityType": "CountBased" if count_based else "WeightBased",
                "DefaultLabTestingState": "TestPassed",
                "UnitOfMeasureName": unit,
                "StrainName": strain,
                "UnitWeight": unit_weight,
                "UnitWeightUnitOfMeasureName": "Grams" if unit_weight else None,
            }
            return item_id

    def add_tags(self, license_number: str, labels: list[str]) -> None:
        with self.lock:
            self.tags.setdefault(license_number, set()).update(labels)

    def add_package(
        self, license_number: str, label: str, item_id: int, quantity: float, **extra: Any
    ) -> int:
        with self.lock:
            package_id = next(self._ids)
            item = self.items[item_id]
            unit = item["UnitOfMeasureName"]
            self.packages[package_id] = {
                "Id": package_id,
                "Label": label,
                "PackageType": "Product",
                "LocationName": None,
                "Quantity": quantity,
                "UnitOfMeasureName": unit,
                "UnitOfMeasureAbbreviation": ABBREVIATIONS[unit],
                "Note": "",
                "PackagedDate": self.today(),
                "LabTestingState": "TestPassed",
                "IsProductionBatch": False,
                "ProductionBatchNumber": None,
                "SourcePackageLabels": "",
                "IsOnHold": False,
                "IsFinished": False,
                "FinishedDate": None,
                "LastModified": self.stamp(),
                "Item": self._package_item(item),
            } | extra
            self.licenses[package_id] = license_number
            self.tags.get(license_number, set()).discard(label)
            return package_id

    @staticmethod
    def _package_item(item: dict[str, Any]) -> dict[str, Any]:
        """On a package, METRC's item enums are integers (strings on /items)."""
        return item | {"QuantityType": 1 if item["QuantityType"] == "CountBased" else 0}

    # -- reads -----------------------------------------------------------------------------

    def find(self, license_number: str, key: str) -> dict[str, Any] | None:
        with self.lock:
            for package_id, package in self.packages.items():
                if str(package_id) == key or package["Label"] == key:
                    if self.licenses[package_id] != license_number:
                        return None
                    return dict(package)
        return None

    def listed(self, license_number: str, which: str) -> list[dict[str, Any]]:
        with self.lock:
            chosen = []
            for package_id, package in self.packages.items():
                if self.licenses[package_id] != license_number:
                    continue
                if which == "active" and package["IsFinished"]:
                    continue
                if which == "inactive" and not package["IsFinished"]:
                    continue
                if which == "onhold" and not package["IsOnHold"]:
                    continue
                chosen.append(dict(package))
            return chosen

    def quantity(self, label: str) -> float:
        with self.lock:
            return float(next(p["Quantity"] for p in self.packages.values() if p["Label"] == label))

    def change(self, label: str, **changes: Any) -> dict[str, Any]:
        """A change made in METRC by someone else (bumps LastModified)."""
        with self.lock:
            package = next(p for p in self.packages.values() if p["Label"] == label)
            package.update(changes)
            package["LastModified"] = self.stamp()
            return dict(package)

    # -- writes (all rows checked first: nothing applied when one is refused) --------------

    def adjust(self, license_number: str, rows: list[dict[str, Any]]) -> list[int]:
        with self.lock:
            plans = [self._plan_adjust(license_number, n, row) for n, row in enumerate(rows)]
            totals: dict[int, float] = {}
            for n, (package_id, delta, _) in enumerate(plans):
                totals[package_id] = totals.get(package_id, 0.0) + delta
                if self.packages[package_id]["Quantity"] + totals[package_id] < -1e-9:
                    raise Rejected(n, "The adjustment would make the package quantity negative.")
            ids = []
            for package_id, delta, row in plans:
                package = self.packages[package_id]
                package["Quantity"] = round(package["Quantity"] + delta, 6)
                package["LastModified"] = self.stamp()
                adjustment_id = next(self._ids)
                self.adjustments.append(
                    {
                        "Id": adjustment_id,
                        "PackageLabel": package["Label"],
                        "AdjustmentQuantity": row["Quantity"],
                        "AdjustmentUnitOfMeasureName": row["UnitOfMeasure"],
                        "AdjustmentReasonName": row["AdjustmentReason"],
                        "AdjustmentNote": row.get("ReasonNote"),
                        "AdjustmentDate": row["AdjustmentDate"],
                        "AdjustedByUserName": "Simulated User",
                        "License": license_number,
                    }
                )
                ids.append(adjustment_id)
            return ids

    def _plan_adjust(
        self, license_number: str, row_number: int, row: dict[str, Any]
    ) -> tuple[int, float, dict[str, Any]]:
        package_id = self._own(license_number, row_number, row.get("Label"))
        reason = next((r for r in REASONS if r["Name"] == row.get("AdjustmentReason")), None)
        if reason is None:
            raise Rejected(row_number, "Adjustment Reason is not valid.")
        if reason["RequiresNote"] and not str(row.get("ReasonNote") or "").strip():
            raise Rejected(row_number, "Reason Note is required for this adjustment reason.")
        if not str(row.get("AdjustmentDate") or ""):
            raise Rejected(row_number, "Adjustment Date was not specified.")
        delta = self._in_package_unit(row_number, package_id, row.get("Quantity"), row)
        return package_id, delta, row

    def _own(self, license_number: str, row_number: int, label: object) -> int:
        for package_id, package in self.packages.items():
            if package["Label"] == label and self.licenses[package_id] == license_number:
                if package["IsFinished"]:
                    raise Rejected(row_number, f"Package {label} is finished.")
                return package_id
        raise Rejected(row_number, f"Package {label} was not found.")

    def _in_package_unit(
        self, row_number: int, package_id: int, quantity: object, row: dict[str, Any]
    ) -> float:
        if not isinstance(quantity, int | float) or isinstance(quantity, bool):
            raise Rejected(row_number, "Quantity was not specified.")
        given = row.get("UnitOfMeasure")
        own = self.packages[package_id]["UnitOfMeasureName"]
        if given == own:
            return float(quantity)
        if given in GRAMS_PER_UNIT and own in GRAMS_PER_UNIT:
            return float(quantity) * GRAMS_PER_UNIT[given] / GRAMS_PER_UNIT[own]
        raise Rejected(row_number, f"Unit of measure {given} cannot be used for this package.")

    def create(self, license_number: str, rows: list[dict[str, Any]]) -> list[int]:
        with self.lock:
            available = self.tags.get(license_number, set())
            debits: dict[int, float] = {}
            for n, row in enumerate(rows):
                if row.get("Tag") not in available:
                    raise Rejected(n, f"Tag {row.get('Tag')} is not available.")
                item = next((i for i in self.items.values() if i["Name"] == row.get("Item")), None)
                if item is None:
                    raise Rejected(n, f"Item {row.get('Item')} was not found.")
                if not row.get("Ingredients"):
                    raise Rejected(n, "Ingredients were not specified.")
                for ingredient in row["Ingredients"]:
                    source = self._own(license_number, n, ingredient.get("Package"))
                    taken = self._in_package_unit(n, source, ingredient.get("Quantity"), ingredient)
                    debits[source] = debits.get(source, 0.0) + taken
                    if self.packages[source]["Quantity"] - debits[source] < -1e-9:
                        raise Rejected(n, f"Package {ingredient['Package']} has not enough.")
            ids = []
            for row in rows:
                item = next(i for i in self.items.values() if i["Name"] == row["Item"])
                sources = [i["Package"] for i in row["Ingredients"]]
                ids.append(
                    self.add_package(
                        license_number,
                        row["Tag"],
                        item["Id"],
                        float(row["Quantity"]),
                        SourcePackageLabels=", ".join(sources),
                        PackagedDate=row.get("ActualDate") or self.today(),
                    )
                )
            for source, amount in debits.items():
                package = self.packages[source]
                package["Quantity"] = round(package["Quantity"] - amount, 6)
                package["LastModified"] = self.stamp()
            return ids

    def finish(self, license_number: str, rows: list[dict[str, Any]], done: bool) -> None:
        with self.lock:
            found = []
            for n, row in enumerate(rows):
                for package_id, package in self.packages.items():
                    mine = self.licenses[package_id] == license_number
                    if package["Label"] == row.get("Label") and mine:
                        found.append(package)
                        break
                else:
                    raise Rejected(n, f"Package {row.get('Label')} was not found.")
            for package, row in zip(found, rows, strict=True):
                package["IsFinished"] = done
                package["FinishedDate"] = (row.get("ActualDate") or self.today()) if done else None
                package["LastModified"] = self.stamp()

    def change_item(self, license_number: str, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            changes = []
            for n, row in enumerate(rows):
                package_id = self._own(license_number, n, row.get("Label"))
                item = next((i for i in self.items.values() if i["Name"] == row.get("Item")), None)
                if item is None:
                    raise Rejected(n, f"Item {row.get('Item')} was not found.")
                changes.append((package_id, item))
            for package_id, item in changes:
                self.packages[package_id]["Item"] = self._package_item(item)
                self.packages[package_id]["LastModified"] = self.stamp()

    # -- request log -----------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def writes(self, path: str) -> list[RecordedRequest]:
        """Requests to ``path`` METRC applied (2xx, or a 504 that lost the answer)."""
        with self.lock:
            return [
                r
                for r in self.requests
                if r.path == path and r.method in {"POST", "PUT"} and r.status in {200, 504}
            ]
