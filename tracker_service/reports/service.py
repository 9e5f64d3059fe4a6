"""Reports, computed from plain rows (pure, apart from ``ReportService``'s reads).

- Production: pre-rolls out, flower used, waste and yield per strain and per ISO week or
  month of completion, with a stacked-bar SVG chart's geometry.
- Stock on a date: each package's current, reserved, packed, held and available grams as the
  audit log had them at the end of that day, and the sums per strain.
- Audit export: every change in a date range, with who, what, before/after and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import msgspec

from preroll_contract import spreadsheet_csv
from tracker_service.finished_goods.units import PackageAmounts, available_mg
from tracker_service.lib.db import Database
from tracker_service.lib.grams import mg_to_grams
from tracker_service.reports import repository as repo

__all__ = [
    "AUDIT_COLUMNS",
    "Period",
    "ProductionCell",
    "ProductionReport",
    "ReportService",
    "StockRow",
    "audit_csv",
    "day_bounds",
    "period_of",
    "production_report",
    "stock_rows",
]

Period = Literal["week", "month"]
#: What a state inspector asks for, in this order.
AUDIT_COLUMNS = (
    "id",
    "when_utc",
    "who",
    "action",
    "metrc_tag",
    "field",
    "before",
    "after",
    "reason",
    "note",
)
PALETTE = ("#2f6b4f", "#c47f17", "#3d6fb6", "#a23b72", "#6b8e23", "#8c564b", "#17becf", "#7f7f7f")


def local_day(moment: str) -> date:
    """The server's local date of a stored UTC timestamp (reports count the floor's days)."""
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone().date()


def period_of(moment: str, period: Period) -> str:
    """``2026-W48`` (ISO week) or ``2026-11`` for an ISO timestamp, in local time."""
    day = local_day(moment)
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


class ProductionCell(msgspec.Struct, frozen=True):
    batches: int
    prerolls_out: int
    flower_g: float
    waste_g: float
    product_g: float
    yield_pct: float  # product (pre-rolls x size) / flower in


class ProductionReport(msgspec.Struct, frozen=True):
    periods: list[str]
    strains: list[str]
    cells: dict[str, dict[str, ProductionCell]]  # strain -> period -> cell
    totals: dict[str, ProductionCell]  # strain -> whole period
    chart: dict[str, object]


def _cell(items: list[repo.CompletedBatch]) -> ProductionCell:
    flower = sum(b.flower_in_mg for b in items)
    product = sum(b.prerolls_out * b.preroll_size_mg for b in items)
    return ProductionCell(
        batches=len(items),
        prerolls_out=sum(b.prerolls_out for b in items),
        flower_g=mg_to_grams(flower),
        waste_g=mg_to_grams(sum(b.waste_mg for b in items)),
        product_g=mg_to_grams(product),
        yield_pct=round(product * 100 / flower, 1) if flower else 0.0,
    )


def production_report(rows: Iterable[repo.CompletedBatch], period: Period) -> ProductionReport:
    grouped: dict[str, dict[str, list[repo.CompletedBatch]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        grouped[row.strain][period_of(row.completed_at, period)].append(row)
    strains = sorted(grouped, key=str.lower)
    periods = sorted({p for by_period in grouped.values() for p in by_period})
    cells = {s: {p: _cell(items) for p, items in grouped[s].items()} for s in strains}
    totals = {s: _cell([b for items in grouped[s].values() for b in items]) for s in strains}
    return ProductionReport(periods, strains, cells, totals, _chart(periods, strains, cells))


def _chart(
    periods: list[str], strains: list[str], cells: dict[str, dict[str, ProductionCell]]
) -> dict[str, object]:
    """Stacked bars of pre-rolls out per period, a colour per strain; fits 960 px."""
    width, height, left, bottom = 960, 260, 56, 40
    plot_w, plot_h = width - left - 10, height - bottom - 10
    stacks = {p: sum(cells[s][p].prerolls_out for s in strains if p in cells[s]) for p in periods}
    top = max(stacks.values(), default=0) or 1
    step = plot_w / max(1, len(periods))
    bar_w = max(2.0, step * 0.7)
    bars = []
    for index, p in enumerate(periods):
        y = float(height - bottom)
        for n, s in enumerate(strains):
            out = cells[s][p].prerolls_out if p in cells[s] else 0
            if not out:
                continue
            h = out / top * plot_h
            y -= h
            bars.append(
                {
                    "x": round(left + index * step + (step - bar_w) / 2, 1),
                    "y": round(y, 1),
                    "w": round(bar_w, 1),
                    "h": round(h, 1),
                    "color": PALETTE[n % len(PALETTE)],
                    "title": f"{s}, {p}: {out:,} pre-rolls",
                }
            )
    every = max(1, len(periods) // 12)  # at most about 12 labels
    labels = [
        {"x": round(left + i * step + step / 2, 1), "text": p}
        for i, p in enumerate(periods)
        if i % every == 0
    ]
    legend = [{"color": PALETTE[n % len(PALETTE)], "text": s} for n, s in enumerate(strains)]
    ticks = [
        {"y": round(height - bottom - f * plot_h, 1), "text": f"{round(top * f):,}"}
        for f in (0, 0.5, 1)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "bars": bars,
        "labels": labels,
        "legend": legend,
        "ticks": ticks,
        "axis_y": height - bottom,
    }


class StockRow(msgspec.Struct, frozen=True):
    strain: str
    metrc_number: str  # "" on a strain's total row
    status: str
    current_g: float
    reserved_g: float
    packed_g: float
    held_g: float
    available_g: float


def stock_rows(packages: Iterable[repo.PackageOnDate]) -> tuple[list[StockRow], list[StockRow]]:
    """Per package (those holding or owing grams) and per strain, as of the report's date."""
    rows = []
    for p in packages:
        amounts = PackageAmounts(
            current_mg=p.current_mg,
            override_mg=p.override_mg,
            ordered_mg=p.ordered_mg,
            packed_mg=p.packed_mg,
            held_mg=p.held_mg,
        )
        if not (p.current_mg or p.ordered_mg or p.packed_mg or p.held_mg):
            continue
        rows.append(
            (
                p,
                available_mg(amounts) if p.status == "active" else 0,
            )
        )
    per_package = [
        StockRow(
            p.strain,
            p.metrc_number,
            p.status,
            mg_to_grams(p.current_mg),
            mg_to_grams(p.ordered_mg),
            mg_to_grams(p.packed_mg),
            mg_to_grams(p.held_mg),
            mg_to_grams(available),
        )
        for p, available in rows
    ]
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for p, available in rows:
        total = sums[p.strain]
        for i, mg in enumerate((p.current_mg, p.ordered_mg, p.packed_mg, p.held_mg, available)):
            total[i] += mg
    per_strain = [
        StockRow(strain, "", "", *(mg_to_grams(v) for v in values))
        for strain, values in sorted(sums.items(), key=lambda kv: kv[0].lower())
    ]
    return per_package, per_strain


def audit_csv(rows: Iterable[Sequence[object]]) -> str:
    """Rows in ``AUDIT_COLUMNS`` order as ``audit_rows`` reads them (grams, safe text)."""
    return spreadsheet_csv(AUDIT_COLUMNS, rows, escaped=True)


def day_bounds(first: date, last: date) -> tuple[str, str]:
    """[first 00:00, the day after last 00:00) in the server's local time, as the stored
    timestamps' UTC text (they compare as text)."""

    def utc_text(day: date) -> str:
        moment = datetime.combine(day, time()).astimezone().astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S")

    return utc_text(first), utc_text(last + timedelta(days=1))


class ReportService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def production(self, first: date, last: date, period: Period) -> ProductionReport:
        start, end = day_bounds(first, last)
        return production_report(self.db.query(repo.completed_batches, start, end), period)

    def stock_on(self, day: date) -> tuple[list[StockRow], list[StockRow]]:
        _, end = day_bounds(day, day)
        return stock_rows(self.db.query(repo.packages_on, end))

    def audit_export(self, first: date, last: date, metrc_number: str | None) -> str:
        start, end = day_bounds(first, last)
        with self.db.read() as conn:
            return audit_csv(repo.audit_rows(conn, start, end, metrc_number))
