"""HTTP routes of production batches (docs/api.md)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from tracker_service.batches.presenters import to_batch_read, to_weight_check_read
from tracker_service.batches.schemas import (
    AdvanceRequest,
    BatchCreate,
    BatchRead,
    BatchUpdate,
    WeightCheckCreate,
    WeightCheckRead,
)
from tracker_service.lib.deps import ServicesDep
from tracker_service.lib.guards import actor_of
from tracker_service.services import Services

__all__ = ["BatchController"]

AnyRequest = Request[Any, Any, Any]


def _read(services: Services, batch_id: int) -> BatchRead:
    batches = services.batches
    row = batches.get(batch_id)  # first: a batch that cannot exist is a 404 before any query
    checks = batches.weight_checks(batch_id)
    return to_batch_read(row, batches.transitions(batch_id), checks[-1] if checks else None)


class BatchController(Controller):
    path = "/api/batches"
    tags = ["production batches"]  # noqa: RUF012

    @get("/", sync_to_thread=True)
    def list_batches(
        self,
        services: ServicesDep,
        stage: FromQuery[str | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> list[BatchRead]:
        return [_read(services, row.id) for row in services.batches.list_batches(stage, active)]

    @post("/", sync_to_thread=True)
    def create_batch(
        self, request: AnyRequest, services: ServicesDep, data: JSONBody[BatchCreate]
    ) -> BatchRead:
        return _read(services, services.batches.create(data, actor_of(request)).id)

    @get("/{batch_id:int}", sync_to_thread=True)
    def read_batch(self, services: ServicesDep, batch_id: FromPath[int]) -> BatchRead:
        return _read(services, batch_id)

    @patch("/{batch_id:int}", sync_to_thread=True)
    def update_batch(
        self,
        request: AnyRequest,
        services: ServicesDep,
        batch_id: FromPath[int],
        data: JSONBody[BatchUpdate],
    ) -> BatchRead:
        services.batches.update(batch_id, data, actor_of(request))
        return _read(services, batch_id)

    @post("/{batch_id:int}/advance", status_code=200, sync_to_thread=True)
    def advance(
        self,
        request: AnyRequest,
        services: ServicesDep,
        batch_id: FromPath[int],
        data: JSONBody[AdvanceRequest],
    ) -> BatchRead:
        # The API key is issued by an admin, so it may override a weight check (with a reason).
        services.batches.advance(batch_id, data, actor_of(request), is_admin=True)
        return _read(services, batch_id)

    @post("/{batch_id:int}/weight-checks", sync_to_thread=True)
    def weight_check(
        self,
        request: AnyRequest,
        services: ServicesDep,
        batch_id: FromPath[int],
        data: JSONBody[WeightCheckCreate],
    ) -> WeightCheckRead:
        row = services.batches.add_weight_check(batch_id, data, actor_of(request))
        return to_weight_check_read(row, services.batches.get(batch_id).preroll_size_mg)
