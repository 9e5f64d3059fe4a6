"""``GET /api/overview``: active production batches, batches by stage, finished goods."""

from __future__ import annotations

import msgspec
from litestar import get

from tracker_service.batches.rules import ACTIVE_STAGES
from tracker_service.lib.deps import ServicesDep
from tracker_service.lib.grams import mg_to_grams

__all__ = ["overview"]


class FinishedGoodsSummary(msgspec.Struct):
    active: int
    available_grams: float


class Overview(msgspec.Struct):
    active_batches: int
    batches_by_stage: dict[str, int]
    finished_goods: FinishedGoodsSummary


@get("/api/overview", sync_to_thread=True, summary="Counts for dashboards and connection checks")
def overview(services: ServicesDep) -> Overview:
    active = services.finished_goods.active_packages()
    by_stage = services.batches.counts_by_stage()
    return Overview(
        active_batches=sum(by_stage[stage] for stage in ACTIVE_STAGES),
        batches_by_stage=by_stage,
        finished_goods=FinishedGoodsSummary(
            active=len(active), available_grams=mg_to_grams(sum(r.available_mg for r in active))
        ),
    )
