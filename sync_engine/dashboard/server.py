"""``create_dashboard_app``: what the webview (or any browser) talks to.

Every request needs the launch secret (``?key=`` once, then an HttpOnly cookie, or the
``X-Dashboard-Key`` header) and a loopback ``Host`` header, so no other program or web page
can drive the engine. ``/api/events`` streams the status (server-sent events) so lights and
numbers change without reloading.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import threading
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, cast

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import File, Redirect, ServerSentEvent
from litestar.types import ASGIApp, Receive, Scope, Send
from msgspec import UNSET, Meta, UnsetType

from sync_engine.dashboard.logbuffer import LogBuffer
from sync_engine.engine import SyncEngine
from sync_engine.kinds import Command
from sync_engine.orders.packing import Editable
from sync_engine.orders.pick_lists import pick_lists, pick_lists_html
from sync_engine.reconcile import batches_csv
from ui_html import UI_DIR

__all__ = ["COOKIE", "DashboardKeys", "create_dashboard_app", "dashboard_snapshot"]

COOKIE = "apexapi_dashboard"
_FIELD = re.compile(r"`\$\.(?P<name>\w+)`|field `(?P<name2>\w+)`")


class PackingEdit(msgspec.Struct, forbid_unknown_fields=True):
    """What the dashboard may change on a packing-list row; fields left out stay as they are."""

    packed: Annotated[int, Meta(ge=0, le=10_000_000)] | UnsetType = UNSET
    delivery_date: Annotated[str, Meta(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] | UnsetType = UNSET
    delivery_notes: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    internal_notes: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET


_EDIT_ERRORS = {
    "packed": "PACKED must be a whole number of 0 or more",
    "delivery_date": "Delivery Date must be a date (YYYY-MM-DD) or empty",
    "delivery_notes": "Delivery Notes may be at most 500 characters",
    "internal_notes": "Internal Notes may be at most 500 characters",
}
_REDEEMED = "apexapi.link_redeemed"
AnyRequest = Request[Any, Any, Any]
_STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
_MIN_EVENT_GAP = 0.25
_HEARTBEAT_SECONDS = 15.0


class DashboardKeys:
    """This launch's secret (kept in the browser's cookie, never in a URL) and the one-time
    links that hand it over: a link works once, then it is only a URL in someone's history."""

    def __init__(self) -> None:
        self.secret = secrets.token_urlsafe(24)
        self._links: set[str] = set()
        self._lock = threading.Lock()

    def new_link_key(self) -> str:
        key = secrets.token_urlsafe(24)
        with self._lock:
            self._links.add(key)
        return key

    def redeem(self, key: str) -> bool:
        """True, once, for a key of a link this launch gave out."""
        with self._lock:
            found = next((k for k in self._links if hmac.compare_digest(k, key)), None)
            if found is None:
                return False
            self._links.discard(found)
            return True

    def admits(self, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given, self.secret)


class Guard(ASGIMiddleware):
    """The launch secret (cookie or ``X-Dashboard-Key``) and a loopback Host on every request;
    a one-time link key only on ``GET /``, where it is exchanged for the cookie."""

    def __init__(self, keys: DashboardKeys) -> None:
        self.keys = keys

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
        if any(self.keys.admits(g) for g in given):
            await next_app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode()
        links = [p[4:] for p in query.split("&") if p.startswith("key=")]
        if scope.get("path") == "/" and any(self.keys.redeem(link) for link in links[:1]):
            cast("dict[str, Any]", scope)[_REDEEMED] = True  # the page answers with the cookie
            await next_app(scope, receive, send)
            return
        raise NotAuthorizedException(
            "this dashboard link was already used (a link works once) or is from an earlier "
            "launch: open the dashboard again from the ApexAPI tray menu"
        )


def dashboard_snapshot(engine: SyncEngine, logs: LogBuffer) -> tuple[int, bytes]:
    """The status version and everything the dashboard shows, as JSON."""
    packing = engine.packing
    rows = [
        msgspec.to_builtins(r) | {"needs_packing": r.needs_packing}
        for r in (packing.rows if packing else [])
        if r.state == "open"
    ]
    version, status = engine.status_store.encoded()
    body = msgspec.json.encode({"packing": rows, "logs": list(logs.lines)[-60:]})
    return version, b'{"status":' + status + b"," + body[1:]


def create_dashboard_app(engine: SyncEngine, keys: DashboardKeys, logs: LogBuffer) -> Litestar:
    logs.listeners.append(engine.status_store.touch)  # new log lines reach the page too

    @get("/", sync_to_thread=False)
    def index(request: AnyRequest) -> Response[Any]:
        if cast("dict[str, Any]", request.scope).get(_REDEEMED):  # the link's one visit
            response: Response[Any] = Redirect("/", status_code=303)
            response.cookies.append(
                Cookie(key=COOKIE, value=keys.secret, httponly=True, samesite="strict", path="/")
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
    def status() -> Response[bytes]:
        return Response(dashboard_snapshot(engine, logs)[1], media_type="application/json")

    @get("/api/batches.csv", sync_to_thread=False)
    def batches_csv_file() -> Response[str]:
        """The Apex-vs-tracker table as a spreadsheet file."""
        return Response(
            batches_csv(engine.status.batches),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="apex-vs-tracker.csv"'},
        )

    @get("/pick-lists", sync_to_thread=False)
    def pick_lists_page(
        invoice: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Response[str]:
        """Pick lists to print, one page per invoice (or the one asked for)."""
        packing = engine.packing
        lists = pick_lists(packing.rows if packing else [], invoice)
        printed = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        return Response(pick_lists_html(lists, printed), media_type="text/html")

    @get("/api/events")
    async def events() -> ServerSentEvent:
        """The whole dashboard, sent again at each change of the status or the log (pushed:
        nothing is polled); at most four times a second, however fast changes come."""
        store = engine.status_store

        async def stream() -> AsyncIterator[str]:
            seen = -1
            while True:
                version, body = dashboard_snapshot(engine, logs)
                if version != seen:
                    seen = version
                    yield body.decode()
                    await asyncio.sleep(_MIN_EVENT_GAP)
                await store.changed_since(seen, _HEARTBEAT_SECONDS)

        return ServerSentEvent(stream())

    @post("/api/actions/{action:str}", status_code=200, sync_to_thread=False)
    def act(action: FromPath[str]) -> Response[dict[str, Any]]:
        try:
            command = Command(action)
        except ValueError:
            known = ", ".join(c.value for c in Command)
            return Response(
                {"ok": False, "error": f"unknown action {action!r}; one of {known}"},
                status_code=404,
            )
        engine.command(command)
        return Response({"ok": True, "action": command.value})

    @post("/api/packing/{key:int}", status_code=200, sync_to_thread=False)
    def edit(key: FromPath[int], data: JSONBody[dict[str, Any]]) -> Response[Any]:
        try:
            change = msgspec.convert(data, PackingEdit)
        except msgspec.ValidationError as exc:
            field = _FIELD.search(str(exc))
            name = (field["name"] or field["name2"]) if field else "body"
            return Response(
                {"ok": False, "field": name, "error": _EDIT_ERRORS.get(name, str(exc))},
                status_code=422,
            )
        current = engine.reader.current.edits.get(key, Editable())
        updated = msgspec.structs.replace(
            current,
            **{
                f: v
                for f in PackingEdit.__struct_fields__
                if (v := getattr(change, f)) is not UNSET
            },
        )
        engine.edit_row(key, updated)
        return Response({"ok": True, "key": key} | msgspec.to_builtins(updated))

    return Litestar(
        [index, static, status, batches_csv_file, pick_lists_page, events, act, edit],
        middleware=[Guard(keys)],
        state=State({}),
        openapi_config=None,
        logging_config=None,  # the engine's logging stays as the runner set it up
    )
