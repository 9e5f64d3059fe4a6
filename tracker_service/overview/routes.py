"""``GET /api/overview``: active production batches, batches by stage, finished goods."""

from __future__ import annotations

import msgspec
from litestar import get

from tracker_service.finished_goods import repository as repo
from tracker_service.lib.deps import ServicesDep
from tracker_service.lib.grams import mg_to_grams

__all__ = ["STAGES", "overview"]

#: Production stages in order (SPEC §2.1); the batches feature fills the counts.
STAGES = ("grinding", "rolling", "testing", "packaging", "complete", "cancelled")


class FinishedGoodsSummary(msgspec.Struct):
    active: int
    available_grams: float


class Overview(msgspec.Struct):
    active_batches: int
    batches_by_stage: dict[str, int]
    finished_goods: FinishedGoodsSummary


@get("/api/overview", sync_to_thread=True, summary="Counts for dashboards and connection checks")
def overview(services: ServicesDep) -> Overview:
    active = repo.load_packages(services.db.reader(), where="p.status = 'active'")
    by_stage = dict.fromkeys(STAGES, 0)
    return Overview(
        active_batches=sum(
            n for stage, n in by_stage.items() if stage not in ("complete", "cancelled")
        ),
        batches_by_stage=by_stage,
        finished_goods=FinishedGoodsSummary(
            active=len(active), available_grams=mg_to_grams(sum(r.available_mg for r in active))
        ),
    )
