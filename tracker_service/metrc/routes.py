"""``/api/metrc/...``: settings, status, pull, drift and the outbox (docs/api.md, "METRC")."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody, Parameter

from tracker_service.lib.deps import ServicesDep
from tracker_service.lib.guards import actor_of
from tracker_service.metrc.schemas import (
    DriftRead,
    DriftResolve,
    MetrcSettings,
    MetrcSettingsBody,
    MetrcStatusRead,
    OutboxRead,
    ReviewBody,
)

__all__ = ["MetrcController"]

AnyRequest = Request[Any, Any, Any]
EntryId = Annotated[int, Parameter(ge=1, le=2**62)]
Tag = Annotated[str, Parameter(min_length=1, max_length=64)]


class MetrcController(Controller):
    path = "/api/metrc"
    tags = ["metrc"]  # noqa: RUF012

    @get("/settings", sync_to_thread=True)
    def read_settings(self, services: ServicesDep) -> MetrcSettings:
        """The stored settings, both keys masked to their last 4 characters."""
        return services.metrc.settings().masked()

    @put("/settings", sync_to_thread=True)
    def save_settings(
        self, request: AnyRequest, services: ServicesDep, data: JSONBody[MetrcSettingsBody]
    ) -> MetrcSettings:
        saved = services.metrc.save_settings(data, actor_of(request))
        services.metrc_worker.pull_soon()
        return saved.masked()

    @post("/settings/test", status_code=200)
    async def test_settings(self, services: ServicesDep) -> dict[str, Any]:
        """Try the stored keys and license: says what is wrong, if anything."""
        ok, message = await services.metrc_worker.test_connection(services.metrc.settings())
        return {"ok": ok, "message": message}

    @get("/status", sync_to_thread=True)
    def status(self, services: ServicesDep) -> MetrcStatusRead:
        return services.metrc.status()

    @post("/pull", status_code=200)
    async def pull(self, services: ServicesDep) -> MetrcStatusRead:
        """Pull now; answers with the status after it."""
        await services.metrc_worker.pull_now()
        return services.metrc.status()

    @get("/drift", sync_to_thread=True)
    def drift(self, services: ServicesDep) -> list[DriftRead]:
        return services.metrc.drift()

    @post("/drift/{metrc_number:str}", status_code=200, sync_to_thread=True)
    def resolve_drift(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc_number: Tag,
        data: JSONBody[DriftResolve],
    ) -> dict[str, Any]:
        services.metrc.resolve_drift(metrc_number, data, actor_of(request))
        return {"metrc_number": metrc_number, "accepted": data.accept}

    @get("/outbox", sync_to_thread=True)
    def outbox(self, services: ServicesDep) -> list[OutboxRead]:
        """The newest 500 entries, newest first."""
        return services.metrc.outbox()

    @post("/outbox/{entry_id:int}/approve", status_code=200, sync_to_thread=True)
    def approve(self, request: AnyRequest, services: ServicesDep, entry_id: EntryId) -> OutboxRead:
        return services.metrc.approve(entry_id, actor_of(request))

    @post("/outbox/{entry_id:int}/reject", status_code=200, sync_to_thread=True)
    def reject(
        self,
        request: AnyRequest,
        services: ServicesDep,
        entry_id: EntryId,
        data: JSONBody[ReviewBody],
    ) -> OutboxRead:
        return services.metrc.reject(entry_id, data.reason, actor_of(request))

    @post("/outbox/{entry_id:int}/retry", status_code=200, sync_to_thread=True)
    def retry(self, request: AnyRequest, services: ServicesDep, entry_id: EntryId) -> OutboxRead:
        return services.metrc.retry(entry_id, actor_of(request))
