"""Reports from plain rows and from a real database: production per strain and week or month,
stock on a past day from the audit log, and the audit export (README, "Reports")."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from tracker_service.finished_goods.schemas import AdjustRequest, HoldCreate, PackageCreate
from tracker_service.reports.repository import CompletedBatch
from tracker_service.reports.service import (
    AUDIT_COLUMNS,
    ProductionCell,
    period_of,
    production_report,
)
from tracker_service.services import Services

TAG = "1A40603000123456"


def test_production_is_summed_per_strain_and_period_with_yield() -> None:
    rows = [
        CompletedBatch("Gelato", "2026-11-02T15:00:00.000000Z", 900, 500_000, 40_000, 500),
        CompletedBatch("Gelato", "2026-11-04T15:00:00.000000Z", 300, 200_000, 10_000, 500),
        CompletedBatch("Blue Dream", "2026-11-20T15:00:00.000000Z", 400, 450_000, 30_000, 1000),
    ]
    report = production_report(rows, "month")
    assert report.periods == ["2026-11"] and report.strains == ["Blue Dream", "Gelato"]
    assert report.cells["Gelato"]["2026-11"] == ProductionCell(
        batches=2, prerolls_out=1200, flower_g=700.0, waste_g=50.0, product_g=600.0, yield_pct=85.7
    )
    weekly = production_report(rows, "week")
    assert weekly.periods == ["2026-W45", "2026-W47"]
    assert [b["title"] for b in weekly.chart["bars"]] == [  # type: ignore[index]
        "Gelato, 2026-W45: 1,200 pre-rolls",
        "Blue Dream, 2026-W47: 400 pre-rolls",
    ]


def test_period_names_follow_iso_weeks_across_the_new_year() -> None:
    assert period_of("2027-01-01T12:00:00Z", "week") == "2026-W53"
    assert period_of("2027-01-01T12:00:00Z", "month") == "2027-01"


def test_stock_on_a_past_day_comes_from_the_audit_log(tmp_path: Path) -> None:
    """Before today's adjustment and hold the package held its earlier grams; today it holds
    less, with the hold counted."""
    services = Services.open(tmp_path / "t.db")
    fg = services.finished_goods
    with services.db.transaction() as conn:  # created on 1 November, as the service writes it
        at = "2026-11-01T12:00:00.000000Z"
        conn.execute(
            "INSERT INTO packages (metrc_number, strain, strain_key, status, initial_mg,"
            " current_mg, created_at, updated_at, status_changed_at)"
            " VALUES (?, 'Gelato', 'gelato', 'active', 500000, 500000, ?, ?, ?)",
            (TAG, at, at, at),
        )
        conn.execute(
            "INSERT INTO audit_log (metrc_number, at, actor, action, field, after_mg, reason)"
            " VALUES (?, ?, 'maria', 'create', 'current_grams', 500000, 'Package created')",
            (TAG, at),
        )
    fg.adjust(TAG, AdjustRequest(delta_grams=-20, reason="Damage"), "maria")
    fg.add_hold(TAG, HoldCreate(grams=30, reason="Sample"), "maria")
    before, _ = services.reports.stock_on(date(2026, 11, 5))
    assert [(r.metrc_number, r.current_g, r.held_g, r.available_g) for r in before] == [
        (TAG, 500.0, 0.0, 500.0)
    ]
    now, strains = services.reports.stock_on(date.today())
    assert [(r.current_g, r.held_g, r.available_g) for r in now] == [(480.0, 30.0, 450.0)]
    assert [(r.strain, r.available_g) for r in strains] == [("Gelato", 450.0)]
    assert services.reports.stock_on(date(2026, 10, 1)) == ([], [])
    services.close()


def test_the_audit_export_has_the_inspectors_columns_and_defuses_formulas(tmp_path: Path) -> None:
    services = Services.open(tmp_path / "t.db")
    fg = services.finished_goods
    fg.create(PackageCreate(metrc_number=TAG, strain="Gelato", initial_grams=500), "maria")
    fg.adjust(TAG, AdjustRequest(delta_grams=-2.5, reason="Other", note="=HYPERLINK(1)"), "maria")
    text = services.reports.audit_export(date.today(), date.today(), TAG)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == list(AUDIT_COLUMNS)
    adjust = rows[-1]
    assert adjust[2:8] == ["maria", "adjust", TAG, "current_grams", "500.0", "497.5"]
    assert adjust[8:] == ["Other", "'=HYPERLINK(1)"]
    assert services.reports.audit_export(date(2020, 1, 1), date(2020, 1, 2), None).count("\n") == 1
    services.close()
