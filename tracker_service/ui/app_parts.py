"""How the UI plugs into ``create_app``: routes, templates, static files and HTML errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from tracker_service.lib.errors import TrackerError
from tracker_service.ui.auth_pages import AuthPages
from tracker_service.ui.batch_pages import BatchPages
from tracker_service.ui.common import LoginRequired
from tracker_service.ui.fg_pages import FinishedGoodsPages
from tracker_service.ui.metrc_pages import MetrcPages
from tracker_service.ui.order_line_pages import OrderLinePages
from tracker_service.ui.overview_page import overview_page
from tracker_service.ui.report_pages import ReportPages
from tracker_service.ui.settings_pages import SettingsPages

__all__ = ["TEMPLATES", "UI_ROUTES", "ui_exception_handlers"]

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)
UI_ROUTES: list[ControllerRouterHandler] = [
    AuthPages,
    overview_page,
    BatchPages,
    FinishedGoodsPages,
    OrderLinePages,
    ReportPages,
    MetrcPages,
    SettingsPages,
    create_static_files_router(
        path="/static", directories=[HERE / "static"], include_in_schema=False
    ),
]

AnyRequest = Request[Any, Any, Any]
Handler = Callable[[AnyRequest, Any], Response[Any]]


def _is_api(request: AnyRequest) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/apex-calculate", "/schema"))


def _login(request: AnyRequest, _: LoginRequired) -> Response[Any]:
    return Redirect(f"/login?next={quote(request.url.path)}", status_code=303)


def ui_exception_handlers(api: Mapping[Any, Handler]) -> dict[Any, Handler]:
    """Keep the JSON errors for the API; pages get an HTML error page instead."""

    def html_or_json(kind: type[Exception]) -> Handler:
        def handle(request: AnyRequest, exc: Any) -> Response[Any]:
            if _is_api(request):
                return api[kind](request, exc)
            status, detail = 500, "Something went wrong; it is in the server log."
            if isinstance(exc, ValidationException):
                status = 400
                detail = (
                    "The form could not be read (a field was sent twice or is not text); "
                    "reload the page and try again. Nothing was saved."
                )
            elif isinstance(exc, TrackerError | HTTPException):
                status, detail = exc.status_code, exc.detail
            else:
                log.exception("unhandled error on %s %s", request.method, request.url.path)
            titles = {403: "Not allowed", 404: "Not found", 405: "Not allowed"}
            return Template(
                template_name="error.html",
                status_code=status,
                context={
                    "session": None,
                    "title": titles.get(status, "Error"),
                    "detail": detail,
                    "errors": {},
                    "path": "",
                },
            )

        return handle

    return {
        **api,
        LoginRequired: _login,
        **{
            kind: html_or_json(kind)
            for kind in (TrackerError, HTTPException, ValidationException, Exception)
        },
    }
