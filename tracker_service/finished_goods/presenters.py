"""Turn package records into the API's wire shapes (grams as numbers, every SKU listed)."""

from __future__ import annotations

from tracker_service.finished_goods.records import AuditRow, Hold, PackageRecord
from tracker_service.finished_goods.schemas import (
    ApexCalculation,
    CustomSkuRead,
    HistoryEntry,
    HoldRead,
    PackageRead,
    SkuSettingRead,
)
from tracker_service.finished_goods.skus import SkuSetting
from tracker_service.lib.grams import mg_to_grams

__all__ = [
    "problem_calculation",
    "to_calculation",
    "to_history_entry",
    "to_hold_read",
    "to_package_read",
]

_DEFAULT_SETTING = SkuSetting()


def to_hold_read(hold: Hold) -> HoldRead:
    return HoldRead(
        id=hold.id,
        grams=mg_to_grams(hold.grams_mg),
        reason=hold.reason,
        created_by=hold.created_by,
        created_at=hold.created_at,
    )


def to_package_read(record: PackageRecord) -> PackageRead:
    units = record.units
    settings = {
        key: SkuSettingRead(s.excluded, s.manual_units)
        for key in units
        for s in (record.settings.get(key, _DEFAULT_SETTING),)
    }
    return PackageRead(
        metrc_number=record.metrc_number,
        strain=record.strain,
        status=record.status,
        initial_grams=mg_to_grams(record.initial_mg),
        current_grams=mg_to_grams(record.current_mg),
        physical_override_grams=(
            None if record.override_mg is None else mg_to_grams(record.override_mg)
        ),
        grams_ordered=mg_to_grams(record.ordered_mg),
        grams_sold=mg_to_grams(record.sold_mg),
        grams_packed=mg_to_grams(record.packed_mg),
        grams_held=mg_to_grams(record.held_mg),
        available_grams=mg_to_grams(record.available_mg),
        apex_sku_settings=settings,
        custom_skus=custom_skus_read(record),
        units=units,
        holds=[to_hold_read(hold) for hold in record.holds],
        created_at=record.created_at,
        updated_at=record.updated_at,
        problem=record.problem,
    )


def to_calculation(record: PackageRecord) -> ApexCalculation:
    """A package's /apex-calculate entry: nothing to sell unless active and computable."""
    problem = record.problem
    sells = record.status == "active" and problem is None
    return ApexCalculation(
        strain=record.strain,
        status=record.status,
        available_grams=mg_to_grams(record.available_mg if sells else 0),
        units=record.units,
        problem=problem,
        custom_skus=custom_skus_read(record),
    )


def custom_skus_read(record: PackageRecord) -> dict[str, CustomSkuRead]:
    return {
        key: CustomSkuRead(sku.name, mg_to_grams(sku.mg_per_unit), sku.pack_size)
        for key, sku in sorted(record.custom_skus.items())
    }


def problem_calculation(strain: str, status: str, problem: str) -> ApexCalculation:
    """The entry of a package that could not even be read: it sells nothing."""
    return ApexCalculation(
        strain=strain, status=status, available_grams=0, units={}, problem=problem
    )


def to_history_entry(row: AuditRow) -> HistoryEntry:
    def value(mg: int | None, text: str | None) -> float | str | None:
        return mg_to_grams(mg) if mg is not None else text

    return HistoryEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        field=row.field,
        before=value(row.before_mg, row.before_text),
        after=value(row.after_mg, row.after_text),
        reason=row.reason,
        note=row.note,
    )
