"""HTTP routes of finished goods and ``/apex-calculate``: decode, call the service, encode."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from tracker_service.finished_goods.presenters import (
    to_calculation,
    to_history_entry,
    to_hold_read,
    to_package_read,
)
from tracker_service.finished_goods.schemas import (
    AdjustRequest,
    ApexCalculation,
    CustomSkuBody,
    DecrementRequest,
    DecrementResult,
    HistoryEntry,
    HoldCreate,
    HoldRead,
    PackageCreate,
    PackageRead,
    PackageUpdate,
    SkuSettingUpdate,
)
from tracker_service.lib.deps import ServicesDep
from tracker_service.lib.grams import mg_to_grams
from tracker_service.lib.guards import actor_of

__all__ = ["FinishedGoodsController"]

AnyRequest = Request[Any, Any, Any]


class HoldCreated(HoldRead, kw_only=True):
    metrc_number: str
    available_grams: float
    units: dict[str, int]


class FinishedGoodsController(Controller):
    path = "/api/finished-goods"
    tags = ["finished goods"]  # noqa: RUF012

    @get("/", sync_to_thread=True)
    def list_packages(
        self,
        services: ServicesDep,
        status: FromQuery[str | None] = None,
        strain: FromQuery[str | None] = None,
    ) -> list[PackageRead]:
        return [to_package_read(r) for r in services.finished_goods.list_packages(status, strain)]

    @post("/", sync_to_thread=True)
    def create_package(
        self, request: AnyRequest, services: ServicesDep, data: JSONBody[PackageCreate]
    ) -> PackageRead:
        return to_package_read(services.finished_goods.create(data, actor_of(request)))

    @get("/{metrc:str}", sync_to_thread=True)
    def read_package(self, services: ServicesDep, metrc: FromPath[str]) -> PackageRead:
        return to_package_read(services.finished_goods.get(metrc))

    @patch("/{metrc:str}", sync_to_thread=True)
    def update_package(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc: FromPath[str],
        data: JSONBody[PackageUpdate],
    ) -> PackageRead:
        return to_package_read(services.finished_goods.update(metrc, data, actor_of(request)))

    @post("/{metrc:str}/adjust", status_code=200, sync_to_thread=True)
    def adjust(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc: FromPath[str],
        data: JSONBody[AdjustRequest],
    ) -> PackageRead:
        return to_package_read(services.finished_goods.adjust(metrc, data, actor_of(request)))

    @get("/{metrc:str}/apex-calculate", sync_to_thread=True)
    def calculate_one(
        self, services: ServicesDep, metrc: FromPath[str]
    ) -> dict[str, ApexCalculation]:
        record = services.finished_goods.get(metrc)
        return {record.metrc_number: to_calculation(record)}

    @post("/{metrc:str}/apex-settings", status_code=200, sync_to_thread=True)
    def apex_settings(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc: FromPath[str],
        data: JSONBody[dict[str, SkuSettingUpdate]],
    ) -> PackageRead:
        record = services.finished_goods.update_settings(metrc, data, actor_of(request))
        return to_package_read(record)

    @post("/{metrc:str}/apex-decrement", status_code=200, sync_to_thread=True)
    def apex_decrement(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc: FromPath[str],
        data: JSONBody[DecrementRequest],
    ) -> DecrementResult:
        outcome = services.finished_goods.decrement(metrc, data, actor_of(request))
        return DecrementResult(
            applied=outcome.applied,
            metrc_number=outcome.record.metrc_number,
            sku=outcome.sku,
            units_decremented=outcome.units,
            available_grams=mg_to_grams(outcome.record.available_mg),
            units=outcome.record.units,
        )

    @post("/{metrc:str}/custom-skus", sync_to_thread=True)
    def add_custom_sku(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc: FromPath[str],
        data: JSONBody[CustomSkuBody],
    ) -> PackageRead:
        record = services.finished_goods.put_custom_sku(
            metrc, data, actor_of(request), replace=False
        )
        return to_package_read(record)

    @put("/{metrc:str}/custom-skus", sync_to_thread=True)
    def put_custom_sku(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc: FromPath[str],
        data: JSONBody[CustomSkuBody],
    ) -> PackageRead:
        record = services.finished_goods.put_custom_sku(
            metrc, data, actor_of(request), replace=True
        )
        return to_package_read(record)

    @delete("/{metrc:str}/custom-skus", status_code=200, sync_to_thread=True)
    def delete_custom_sku(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc: FromPath[str],
        key: Annotated[str, QueryParameter(min_length=1, max_length=64)],
    ) -> PackageRead:
        record = services.finished_goods.delete_custom_sku(metrc, key, actor_of(request))
        return to_package_read(record)

    @post("/{metrc:str}/holds", sync_to_thread=True)
    def add_hold(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc: FromPath[str],
        data: JSONBody[HoldCreate],
    ) -> HoldCreated:
        record, hold = services.finished_goods.add_hold(metrc, data, actor_of(request))
        read = to_hold_read(hold)
        return HoldCreated(
            id=read.id,
            grams=read.grams,
            reason=read.reason,
            created_by=read.created_by,
            created_at=read.created_at,
            metrc_number=record.metrc_number,
            available_grams=mg_to_grams(record.available_mg),
            units=record.units,
        )

    @delete("/{metrc:str}/holds", status_code=200, sync_to_thread=True)
    def delete_hold(
        self,
        request: AnyRequest,
        services: ServicesDep,
        metrc: FromPath[str],
        hold_id: Annotated[int, QueryParameter(name="id", ge=1, le=2**62)],
    ) -> PackageRead:
        record = services.finished_goods.delete_hold(metrc, hold_id, actor_of(request))
        return to_package_read(record)

    @get("/{metrc:str}/history", sync_to_thread=True)
    def history(self, services: ServicesDep, metrc: FromPath[str]) -> list[HistoryEntry]:
        return [to_history_entry(row) for row in services.finished_goods.history(metrc)]
