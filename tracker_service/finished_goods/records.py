"""A finished-goods package as the services see it, with its derived figures."""

from __future__ import annotations

import msgspec

from preroll_contract import strain_key
from tracker_service.finished_goods.skus import DEFAULT_SKUS, SkuSetting, SkuType
from tracker_service.finished_goods.units import (
    PackageAmounts,
    available_mg,
    calculate_apex_units,
    find_problem,
)

__all__ = ["AuditRow", "Hold", "PackageRecord"]


class Hold(msgspec.Struct, frozen=True):
    id: int
    grams_mg: int
    reason: str
    created_by: str
    created_at: str


class AuditRow(msgspec.Struct, frozen=True, kw_only=True):
    """One stored line of a package's append-only history."""

    id: int
    metrc_number: str
    at: str
    actor: str
    action: str
    field: str
    before_mg: int | None
    after_mg: int | None
    before_text: str | None
    after_text: str | None
    reason: str
    note: str | None


class PackageRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One package row plus the sums of its commitments (all milligrams)."""

    metrc_number: str
    strain: str
    status: str
    initial_mg: int
    current_mg: int
    override_mg: int | None
    #: Apex sales recorded by apex-decrement, not yet settled by a METRC adjustment.
    sold_mg: int
    lines_reserved_mg: int
    packed_mg: int
    holds: tuple[Hold, ...]
    settings: dict[str, SkuSetting]
    custom_skus: dict[str, SkuType]
    created_at: str
    updated_at: str
    status_changed_at: str
    #: Set when the stored row could not be read whole (e.g. unreadable SKU settings).
    load_problem: str | None = None

    @classmethod
    def new(
        cls, metrc_number: str, strain: str, initial_mg: int, current_mg: int, at: str
    ) -> PackageRecord:
        """A new active package with no commitments, settings or custom SKUs."""
        return cls(
            metrc_number=metrc_number,
            strain=strain,
            status="active",
            initial_mg=initial_mg,
            current_mg=current_mg,
            override_mg=None,
            sold_mg=0,
            lines_reserved_mg=0,
            packed_mg=0,
            holds=(),
            settings={},
            custom_skus={},
            created_at=at,
            updated_at=at,
            status_changed_at=at,
        )

    @property
    def strain_key(self) -> str:
        return strain_key(self.strain)

    @property
    def ordered_mg(self) -> int:
        """Reserved for open order lines and for Apex sales recorded by apex-decrement."""
        return self.sold_mg + self.lines_reserved_mg

    @property
    def held_mg(self) -> int:
        return sum(hold.grams_mg for hold in self.holds)

    @property
    def amounts(self) -> PackageAmounts:
        return PackageAmounts(
            current_mg=self.current_mg,
            override_mg=self.override_mg,
            ordered_mg=self.ordered_mg,
            packed_mg=self.packed_mg,
            held_mg=self.held_mg,
        )

    @property
    def available_mg(self) -> int:
        return available_mg(self.amounts)

    @property
    def problem(self) -> str | None:
        """Why this package's units cannot be computed; they are all 0 meanwhile."""
        return self.load_problem or find_problem(self.settings, self.custom_skus)

    @property
    def units(self) -> dict[str, int]:
        status = "unsellable" if self.problem else self.status
        return calculate_apex_units(status, self.available_mg, self.settings, self.custom_skus)

    def sku(self, key: str) -> SkuType:
        return DEFAULT_SKUS[key] if key in DEFAULT_SKUS else self.custom_skus[key]
