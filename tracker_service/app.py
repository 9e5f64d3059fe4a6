"""``create_app``: wires the tracker's routes, services, errors and OpenAPI schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, OpenAPIType, Reference, Schema, SecurityScheme

from tracker_service import __version__
from tracker_service.batches.routes import BatchController
from tracker_service.finished_goods.apex_calculate_route import (
    APEX_CALCULATE_PATH,
    apex_calculate,
    apex_calculate_openapi,
)
from tracker_service.finished_goods.routes import FinishedGoodsController
from tracker_service.lib.guards import API_KEY_HEADER, require_api_key
from tracker_service.lib.http_errors import EXCEPTION_HANDLERS
from tracker_service.metrc.routes import MetrcController
from tracker_service.overview.routes import overview
from tracker_service.services import Services
from tracker_service.sync.routes import SyncController, changes
from tracker_service.ui.app_parts import TEMPLATES, UI_ROUTES, ui_exception_handlers

__all__ = ["TrackerSettings", "create_app"]


class TrackerSettings(msgspec.Struct, frozen=True, kw_only=True):
    db_path: Path
    debug: bool = False


def create_app(settings: TrackerSettings, services: Services | None = None) -> Litestar:
    """Build the tracker app on the database of ``settings`` (or on given ``services``)."""
    services = services or Services.open(settings.db_path)

    def provide_services() -> Services:
        return services

    metrc_stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    def start() -> None:
        services.signal.bind(asyncio.get_running_loop())
        services.calculation.current()  # build the /apex-calculate body before the first read
        metrc_stop.clear()
        tasks.append(asyncio.create_task(services.metrc_worker.run(metrc_stop), name="metrc"))

    async def stop() -> None:
        metrc_stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        tasks.clear()

    api = Router(
        path="/",
        route_handlers=[
            overview,
            changes,
            FinishedGoodsController,
            BatchController,
            SyncController,
            MetrcController,
        ],
        guards=[require_api_key],
        security=[{"ApiKey": []}],
    )
    app = Litestar(
        route_handlers=[api, apex_calculate, *UI_ROUTES],
        template_config=TEMPLATES,
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        exception_handlers=ui_exception_handlers(EXCEPTION_HANDLERS),
        on_startup=[start],
        on_shutdown=[stop, services.close],
        state=_state(services),
        debug=settings.debug,
        openapi_config=OpenAPIConfig(
            title="PreRollTracker API",
            version=__version__,
            description="Finished goods, Apex unit calculation and sync endpoints. "
            f"Every route needs the `{API_KEY_HEADER}` header.",
            components=Components(
                security_schemes={
                    "ApiKey": SecurityScheme(
                        type="apiKey", name=API_KEY_HEADER, security_scheme_in="header"
                    )
                }
            ),
        ),
    )
    _document_raw_routes(app)
    return app


def _document_raw_routes(app: Litestar) -> None:
    """Add the raw ASGI ``/apex-calculate`` route to the OpenAPI schema Litestar built."""
    schema = app.openapi_schema
    component = next(
        (name for name in (schema.components.schemas or {}) if name.endswith("ApexCalculation")),
        None,
    )
    item = (
        Schema(type=OpenAPIType.OBJECT)
        if component is None
        else Schema(
            type=OpenAPIType.OBJECT,
            additional_properties=Reference(ref=f"#/components/schemas/{component}"),
        )
    )
    schema.paths = {APEX_CALCULATE_PATH: apex_calculate_openapi(item), **(schema.paths or {})}


def _state(services: Services) -> State:
    return State({"services": services})
