"""The Overview page: batches by stage, today's output, packages low on grams, a chart."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from litestar import Request, get
from litestar.response import Template

from tracker_service.batches.rules import ACTIVE_STAGES, STAGES
from tracker_service.lib.grams import mg_to_grams
from tracker_service.ui.common import page, services_of, session_of

__all__ = ["LOW_GRAMS_MG", "overview_page"]

#: Packages with less than this available are listed as low.
LOW_GRAMS_MG = 50_000


def bar_chart(values: dict[str, float], width: int = 560) -> dict[str, Any]:
    """Bars for a plain SVG chart (no library, nothing from the internet)."""
    top = max(values.values(), default=0) or 1
    bars = [
        {
            "label": label,
            "value": value,
            "width": round(value / top * (width - 190), 1),
            "y": index * 34,
        }
        for index, (label, value) in enumerate(values.items())
    ]
    return {"bars": bars, "height": max(34, len(bars) * 34), "width": width}


@get("/", sync_to_thread=True, include_in_schema=False)
def overview_page(request: Request[Any, Any, Any]) -> Template:
    session = session_of(request)
    services = services_of(request)
    counts = services.batches.counts_by_stage()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    finished_today = [
        b
        for b in services.batches.list_batches(stage="complete")
        if (b.completed_at or "").startswith(today)
    ]
    packages = services.finished_goods.active_packages()
    by_strain: dict[str, float] = defaultdict(float)
    for package in packages:
        by_strain[package.strain] += mg_to_grams(package.available_mg)
    return page(
        request,
        "overview.html",
        session,
        stages=[(stage, counts[stage]) for stage in STAGES],
        active=sum(counts[s] for s in ACTIVE_STAGES),
        today_prerolls=sum(b.prerolls_out for b in finished_today),
        today_grams=mg_to_grams(sum(b.prerolls_out * b.preroll_size_mg for b in finished_today)),
        low=[p for p in packages if p.available_mg < LOW_GRAMS_MG],
        problems=[p for p in packages if p.problem],
        missing_lines=len(services.order_lines.lines("missing")),
        short_lines=services.order_lines.lines("short"),
        grams=mg_to_grams,
        chart=bar_chart(dict(sorted(by_strain.items()))),
    )
