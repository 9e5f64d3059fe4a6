"""``create_dashboard_app``: what the webview (or any browser) talks to.

Every request needs the launch secret (``?key=`` once, then an HttpOnly cookie, or the
``X-Dashboard-Key`` header) and a loopback ``Host`` header, so no other program or web page
can drive the engine. ``/api/events`` streams the status (server-sent events) so lights and
numbers change without reloading.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.params import FromPath, JSONBody
from litestar.response import File, Redirect, ServerSentEvent
from litestar.types import ASGIApp, Receive, Scope, Send

from sync_engine.dashboard.logbuffer import LogBuffer
from sync_engine.engine import SyncEngine
from sync_engine.orders.packing import Editable
from ui_html import UI_DIR

__all__ = ["COOKIE", "create_dashboard_app", "dashboard_snapshot"]

COOKIE = "apexapi_dashboard"
AnyRequest = Request[Any, Any, Any]
_STATIC = {"app.js": "text/javascript", "style.css": "text/css"}


class Guard(ASGIMiddleware):
    """The launch secret and a loopback Host on every request."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        host = headers.get("host", "").rsplit(":", 1)[0]
        if host not in ("127.0.0.1", "localhost", "[::1]"):
            raise PermissionDeniedException("the dashboard answers only on this computer")
        given = [headers.get("x-dashboard-key", "")]
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                given.append(value)
        query = scope.get("query_string", b"").decode()
        given += [p[4:] for p in query.split("&") if p.startswith("key=")]
        if not any(hmac.compare_digest(g, self.secret) for g in given if g):
            raise NotAuthorizedException(
                "open the dashboard from the ApexAPI tray menu or the "
                "URL it printed (the link holds this launch's key)"
            )
        await next_app(scope, receive, send)


def dashboard_snapshot(engine: SyncEngine, logs: LogBuffer) -> dict[str, Any]:
    packing = engine.orders.packing
    rows = [
        msgspec.to_builtins(r) | {"needs_packing": r.needs_packing}
        for r in (packing.rows if packing else [])
        if r.state == "open"
    ]
    return {
        "status": msgspec.to_builtins(engine.status),
        "packing": rows,
        "logs": list(logs.lines)[-60:],
    }


def create_dashboard_app(engine: SyncEngine, secret: str, logs: LogBuffer) -> Litestar:
    @get("/", sync_to_thread=False)
    def index(request: AnyRequest) -> Response[Any]:
        if "key" in request.query_params:  # first visit: keep the key in a cookie, clean URL
            response: Response[Any] = Redirect("/", status_code=303)
            response.cookies.append(
                Cookie(key=COOKIE, value=secret, httponly=True, samesite="strict", path="/")
            )
            return response
        return File(
            UI_DIR / "index.html", media_type="text/html", content_disposition_type="inline"
        )

    @get("/static/{name:str}", sync_to_thread=False)
    def static(name: FromPath[str]) -> Response[Any]:
        if name not in _STATIC:
            return Response({"error": "not found"}, status_code=404)
        return File(UI_DIR / name, media_type=_STATIC[name], content_disposition_type="inline")

    @get("/api/status", sync_to_thread=False)
    def status() -> dict[str, Any]:
        return dashboard_snapshot(engine, logs)

    @get("/api/events")
    async def events() -> ServerSentEvent:
        async def stream() -> AsyncIterator[str]:
            last = b""
            while True:
                body = msgspec.json.encode(dashboard_snapshot(engine, logs))
                if body != last:
                    last = body
                    yield body.decode()
                await asyncio.sleep(0.5)

        return ServerSentEvent(stream())

    @post("/api/actions/{action:str}", status_code=200, sync_to_thread=False)
    def act(action: FromPath[str]) -> dict[str, Any]:
        commands = {
            "sync-now": engine.sync_now,
            "pause": engine.pause,
            "resume": engine.resume,
            "refresh-mapping": engine.refresh_mapping,
            "refresh-orders": engine.refresh_orders,
            "confirm-zero": engine.confirm_mass_zero,
        }
        if action not in commands:
            return {"ok": False, "error": f"unknown action {action!r}"}
        commands[action]()
        return {"ok": True, "action": action}

    @post("/api/packing/{key:int}", status_code=200, sync_to_thread=False)
    def edit(key: FromPath[int], data: JSONBody[dict[str, Any]]) -> Response[Any]:
        packed = data.get("packed")
        if isinstance(packed, bool) or not isinstance(packed, int) or packed < 0:
            return Response(
                {
                    "ok": False,
                    "field": "packed",
                    "error": "PACKED must be a whole number of 0 or more",
                },
                status_code=422,
            )
        current = engine.state.edits().get(key, Editable())
        engine.edit_row(
            key,
            Editable(
                packed=packed,
                delivery_date=str(data.get("delivery_date", current.delivery_date)),
                delivery_notes=str(data.get("delivery_notes", current.delivery_notes)),
                internal_notes=str(data.get("internal_notes", current.internal_notes)),
            ),
        )
        return Response({"ok": True, "key": key, "packed": packed})

    return Litestar(
        [index, static, status, events, act, edit],
        middleware=[Guard(secret)],
        state=State({}),
        openapi_config=None,
        logging_config=None,  # the engine's logging stays as the runner set it up
    )
