"""A local METRC v2 API (packages, items, units, reasons, tags) with fault switches.

``create_metrc_app(state)`` is a Litestar app; tests run it in-process on loopback, ``make
demo`` runs it as a program (``python -m simulators.metrc``). What it imitates and what is
assumed is listed in docs/metrc.md, "The simulator". ``/_sim/...`` routes (no auth) let
another process flip faults, change a package as someone in METRC would, and read the log.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import msgspec
from litestar import Litestar, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.params import FromPath
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from simulators.metrc.state import (
    CREATE,
    MANAGE,
    REASONS,
    UNITS,
    VIEW,
    MetrcState,
    RecordedRequest,
    Rejected,
)

__all__ = ["create_metrc_app"]

AnyRequest = Request[Any, Any, Any]
MAX_PAGE_SIZE = 20
_LISTS = {"active", "inactive", "onhold"}


def _json(status: int, body: Any) -> Response[Any]:
    return Response(body, status_code=status, media_type="application/json")


def _message(status: int, message: str) -> Response[Any]:
    return _json(status, {"Message": message})


def _state(request: AnyRequest) -> MetrcState:
    return request.app.state.metrc  # type: ignore[no-any-return]


def _license(request: AnyRequest) -> str:
    return str(request.scope["state"]["metrc_license"])


def _lacks(request: AnyRequest, permission: str) -> Response[Any] | None:
    if permission in request.scope["state"]["metrc_permissions"]:
        return None
    return _message(401, f"User does not have the '{permission}' permission for this facility.")


def _moment(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _envelope(request: AnyRequest, records: list[dict[str, Any]]) -> Response[Any]:
    """Windowed by lastModifiedStart/End, paged by pageNumber/pageSize (at most 20)."""
    query = request.query_params
    start, end = query.get("lastModifiedStart"), query.get("lastModifiedEnd")
    low, high = _moment(start), _moment(end)
    if (start and low is None) or (end and high is None):
        return _message(400, "The last modified dates must be ISO 8601 date-times.")
    if low is not None or high is not None:
        records = [
            r
            for r in records
            if (low is None or _moment(r["LastModified"]) >= low)  # type: ignore[operator]
            and (high is None or _moment(r["LastModified"]) <= high)  # type: ignore[operator]
        ]
    records.sort(key=lambda r: r["Id"])
    try:
        size = int(query.get("pageSize") or 0)
        number = int(query.get("pageNumber") or 1)
    except ValueError:
        return _message(400, "The page number and page size must be whole numbers.")
    if size > MAX_PAGE_SIZE or size < 0 or number < 1:
        return _message(400, f"The page size must be between 1 and {MAX_PAGE_SIZE}.")
    if size == 0:  # paging is off unless a page size is given
        size, number = max(1, len(records)), 1
    pages = max(1, math.ceil(len(records) / size))
    data = records[(number - 1) * size : number * size]
    return _json(
        200,
        {
            "Data": data,
            "Total": len(records),
            "TotalRecords": len(records),
            "PageSize": size,
            "RecordsOnPage": len(data),
            "Page": number,
            "CurrentPage": number,
            "TotalPages": pages,
        },
    )


async def _rows(request: AnyRequest) -> list[dict[str, Any]] | Response[Any]:
    try:
        body = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return _message(400, "The request body is not valid JSON.")
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        return _message(400, "The request body must be a JSON array of objects.")
    return body


def _refused(exc: Rejected) -> Response[Any]:
    return _json(400, [{"row": exc.row, "message": exc.message}])


# -- reads -----------------------------------------------------------------------------------


@get("/packages/v2/{key:str}", sync_to_thread=False)
def package_or_list(request: AnyRequest, key: FromPath[str]) -> Response[Any]:
    if refused := _lacks(request, VIEW):
        return refused
    state = _state(request)
    if key in _LISTS:
        return _envelope(request, state.listed(_license(request), key))
    if key == "adjustments":
        with state.lock:
            rows = [
                {k: v for k, v in a.items() if k != "License"} | {"LastModified": None}
                for a in state.adjustments
                if a["License"] == _license(request)
            ]
        query = request.query_params
        if query.get("lastModifiedStart") or query.get("lastModifiedEnd"):
            return _message(400, "Adjustments are not filtered by last modified date.")
        return _envelope(request, rows)
    package = state.find(_license(request), key)
    if package is None:
        return _message(401, "Authorization has been denied for this request.")
    return _json(200, package)


@get("/packages/v2/adjust/reasons", sync_to_thread=False)
def adjust_reasons(request: AnyRequest) -> Response[Any]:
    rows = [
        r
        | {
            "RequiresWasteWeight": False,
            "RequiresImmatureWasteWeight": False,
            "RequiresMatureWasteWeight": False,
        }
        for r in REASONS
    ]
    return _envelope(request, [r | {"Id": n, "LastModified": None} for n, r in enumerate(rows)])


@get("/items/v2/active", sync_to_thread=False)
def items(request: AnyRequest) -> Response[Any]:
    state = _state(request)
    with state.lock:
        rows = [dict(i) | {"LastModified": state.stamp()} for i in state.items.values()]
    return _envelope(request, rows)


@get("/unitsofmeasure/v2/active", sync_to_thread=False)
def units(request: AnyRequest) -> Response[Any]:
    return _json(200, UNITS)


@get("/tags/v2/package/available", sync_to_thread=False)
def tags(request: AnyRequest) -> Response[Any]:
    state = _state(request)
    with state.lock:
        labels = sorted(state.tags.get(_license(request), set()))
    return _json(
        200,
        [
            {"Id": n, "Label": label, "TagTypeName": "CannabisPackage", "FacilityId": 1}
            for n, label in enumerate(labels, start=1)
        ],
    )


@get("/facilities/v2/", sync_to_thread=False)
def facilities(request: AnyRequest) -> Response[Any]:
    state = _state(request)
    licenses = request.scope["state"]["metrc_licenses"]
    return _json(
        200,
        [
            {"Name": name, "License": {"Number": number}}
            for number, name in sorted(state.facilities.items())
            if number in licenses
        ],
    )


# -- writes ----------------------------------------------------------------------------------

Apply = Callable[[MetrcState, str, list[dict[str, Any]]], "list[int] | None"]


async def _write(request: AnyRequest, permission: str, apply: Apply) -> Response[Any]:
    """A write: the permission, a JSON array of objects, all rows or none; POSTs answer with
    the new ids, PUTs with an empty 200."""
    if refused := _lacks(request, permission):
        return refused
    rows = await _rows(request)
    if isinstance(rows, Response):
        return rows
    try:
        ids = apply(_state(request), _license(request), rows)
    except Rejected as exc:
        return _refused(exc)
    if ids is None:
        return Response(b"", status_code=200)
    return _json(200, {"Ids": ids, "Warnings": None})


@post("/packages/v2/adjust")
async def adjust(request: AnyRequest) -> Response[Any]:
    return await _write(request, MANAGE, MetrcState.adjust)


@post("/packages/v2/")
async def create(request: AnyRequest) -> Response[Any]:
    return await _write(request, CREATE, MetrcState.create)


@put("/packages/v2/finish")
async def finish(request: AnyRequest) -> Response[Any]:
    return await _write(request, MANAGE, lambda s, lic, rows: s.finish(lic, rows, True))


@put("/packages/v2/unfinish")
async def unfinish(request: AnyRequest) -> Response[Any]:
    return await _write(request, MANAGE, lambda s, lic, rows: s.finish(lic, rows, False))


@put("/packages/v2/item")
async def change_item(request: AnyRequest) -> Response[Any]:
    return await _write(request, CREATE, MetrcState.change_item)


# -- control routes for tests and the demo (no auth: loopback test tool) ----------------------


@post("/_sim/faults", status_code=200)
async def set_faults(request: AnyRequest) -> dict[str, Any]:
    state = _state(request)
    body = msgspec.json.decode(await request.body())
    faults = state.faults
    with state.lock:
        if "down_seconds" in body:
            faults.down_until = state.clock() + float(body["down_seconds"])
        if "latency_seconds" in body:
            faults.latency_seconds = float(body["latency_seconds"])
        for name in ("rate_limited", "errors_5xx", "lose_answers", "object_limit"):
            if name in body:
                setattr(faults, name, int(body[name]))
    return {"ok": True}


@post("/_sim/packages/{label:str}", status_code=200)
async def sim_change_package(request: AnyRequest, label: FromPath[str]) -> dict[str, Any]:
    """Change a package as someone working in METRC would (bumps LastModified)."""
    return _state(request).change(label, **msgspec.json.decode(await request.body()))


@get("/_sim/adjustments", sync_to_thread=False)
def sim_adjustments(request: AnyRequest) -> list[dict[str, Any]]:
    """Every adjustment applied (a duplicate shows as two with the same note)."""
    state = _state(request)
    with state.lock:
        return [dict(a) for a in state.adjustments]


@get("/_sim/requests", sync_to_thread=False)
def request_log(request: AnyRequest) -> list[dict[str, Any]]:
    state = _state(request)
    with state.lock:
        return [
            {"method": r.method, "path": r.path, "status": r.status, "body": r.body.decode()}
            for r in state.requests
        ]


class MetrcGate(ASGIMiddleware):
    """Faults, Basic auth, the license, the object limit and the request log."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, state: MetrcState) -> None:
        self.state = state

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["path"].startswith("/_sim"):
            await next_app(scope, receive, send)
            return
        body = await _read_body(receive)
        status = {"code": 0}

        async def replay() -> ReceiveMessage:
            return {"type": "http.request", "body": body, "more_body": False}

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            refused = await self._gate(scope, body)
            if refused is not None:
                await refused.to_asgi_response(app=None, request=None)(  # type: ignore[arg-type]
                    scope, replay, recording_send
                )
            elif self._loses_answer(scope):
                await next_app(scope, replay, _discard)  # applied, and the answer is lost
                await _message(504, "Gateway Timeout").to_asgi_response(
                    app=None,
                    request=None,  # type: ignore[arg-type]
                )(scope, replay, recording_send)
            else:
                await next_app(scope, replay, recording_send)
        finally:
            self.state.record(
                RecordedRequest(
                    at=time.time(),
                    method=str(scope.get("method", "")),
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode(),
                    body=body,
                    status=status["code"],
                )
            )

    def _loses_answer(self, scope: Scope) -> bool:
        faults = self.state.faults
        with self.state.lock:
            if scope.get("method") in {"POST", "PUT"} and faults.lose_answers > 0:
                faults.lose_answers -= 1
                return True
        return False

    async def _gate(self, scope: Scope, body: bytes) -> Response[Any] | None:
        state, faults = self.state, self.state.faults
        if faults.latency_seconds:
            await asyncio.sleep(faults.latency_seconds)
        with state.lock:
            if state.clock() < faults.down_until:
                return _message(503, "The service is unavailable.")
            if faults.rate_limited > 0:
                faults.rate_limited -= 1
                return _message(429, "Too Many Requests")
            if faults.errors_5xx > 0:
                faults.errors_5xx -= 1
                return _message(500, "An error has occurred.")
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        vendor, user = _basic(headers.get("authorization", ""))
        found = state.user(vendor, user)
        if isinstance(found, str):
            return _message(401, found)
        licenses, permissions = found
        query = parse_qs(scope.get("query_string", b"").decode())
        number = query.get("licenseNumber", [""])[0]
        needs_license = scope["path"].rstrip("/") not in {
            "/unitsofmeasure/v2/active",
            "/facilities/v2",
        }
        if needs_license and number not in licenses:
            return _message(401, "Authorization has been denied for this request.")
        scope.setdefault("state", {})
        scope["state"].update(
            metrc_license=number, metrc_permissions=permissions, metrc_licenses=licenses
        )
        if scope.get("method") in {"POST", "PUT"}:
            try:
                rows = msgspec.json.decode(body)
            except msgspec.DecodeError:
                rows = None
            if isinstance(rows, list) and len(rows) > faults.object_limit:
                return _message(413, "The content being submitted is too large")
        return None


def _basic(header: str) -> tuple[str, str]:
    if not header.startswith("Basic "):
        return "", ""
    try:
        vendor, _, user = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return vendor, user


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(c for c in chunks if isinstance(c, bytes))


async def _discard(message: Message) -> None:
    return None


def create_metrc_app(state: MetrcState) -> Litestar:
    return Litestar(
        route_handlers=[
            package_or_list,
            adjust_reasons,
            items,
            units,
            tags,
            facilities,
            adjust,
            create,
            finish,
            unfinish,
            change_item,
            set_faults,
            sim_change_package,
            sim_adjustments,
            request_log,
        ],
        middleware=[MetrcGate(state)],
        state=State({"metrc": state}),
        openapi_config=None,
    )
