"""A local Apex Trading API, faithful to the facts in docs/apexapi.md, with fault switches.

``create_apex_app(state)`` is a Litestar app; tests run it in-process on loopback, ``make demo``
runs it as a program (``python -m simulators.apex``). ``/_sim/...`` routes (no auth) let
another process flip faults and read the request log.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, delete, get, patch, post, put
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.params import FromPath
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from simulators.apex.state import ApexState, RecordedRequest

__all__ = ["create_apex_app"]

AnyRequest = Request[Any, Any, Any]
_REQUIRED = "The updated at from field is required."


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _message(status: int, message: str, **extra: Any) -> Response[Any]:
    return _json(status, {"message": message, **extra})


def _parse_moment(text: str) -> float | None:
    text = text.strip().replace(" ", "T")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    return None


def _updated_ts(item: dict[str, Any]) -> float:
    return _parse_moment(item["updated_at"]) or 0.0


def _list(request: AnyRequest, key: str, items: list[dict[str, Any]]) -> Response[Any]:
    """The list envelope: required updated_at_from, ids[], page/per_page, links and meta."""
    query = request.query_params
    since_text = query.get("updated_at_from")
    if not since_text:
        return _message(422, _REQUIRED, errors={"updated_at_from": [_REQUIRED]})
    since = _parse_moment(since_text)
    if since is None:
        msg = "The updated at from field must be a valid date."
        return _message(422, msg, errors={"updated_at_from": [msg]})
    try:
        page = int(query.get("page") or 1)
        per_page = int(query.get("per_page") or 15)
    except ValueError:
        return _message(422, "The page field must be an integer.")
    if per_page > 500 or per_page < 1 or page < 1:
        msg = "The per page field must be between 1 and 500."
        return _message(422, msg, errors={"per_page": [msg]})
    ids = {int(i) for i in query.getall("ids[]", []) if str(i).isdigit()}
    chosen = [i for i in items if _updated_ts(i) >= since and (not ids or i["id"] in ids)]
    chosen.sort(key=lambda i: i["id"])
    last_page = max(1, math.ceil(len(chosen) / per_page))
    page_items = chosen[(page - 1) * per_page : page * per_page]
    base = str(request.url).split("?")[0]
    links = {
        "first": f"{base}?page=1",
        "last": f"{base}?page={last_page}",
        "prev": f"{base}?page={page - 1}" if page > 1 else None,
        "next": f"{base}?page={page + 1}" if page < last_page else None,
    }
    meta = {
        "current_page": page,
        "last_page": last_page,
        "per_page": per_page,
        "total": len(chosen),
        "from": (page - 1) * per_page + 1 if page_items else None,
        "to": (page - 1) * per_page + len(page_items) if page_items else None,
    }
    return _json(200, {key: page_items, "links": links, "meta": meta})


def _state(request: AnyRequest) -> ApexState:
    return request.app.state.apex  # type: ignore[no-any-return]


@get("/api/v1/welcome", sync_to_thread=False)
def welcome(request: AnyRequest) -> Response[Any]:
    return _json(200, {"message": "Welcome to the Apex Trading API"})


@get("/api/v1/products", sync_to_thread=False)
def products(request: AnyRequest) -> Response[Any]:
    state = _state(request)
    with state.lock:
        return _list(request, "products", [dict(p) for p in state.products.values()])


@get("/api/v2/batches", sync_to_thread=False)
def batches(request: AnyRequest) -> Response[Any]:
    state = _state(request)
    with state.lock:
        return _list(request, "batches", [dict(b) for b in state.batches.values()])


@get("/api/v1/shipping-orders", sync_to_thread=False)
def shipping_orders(request: AnyRequest) -> Response[Any]:
    state = _state(request)
    with_items = request.query_params.get("with_items") == "true"
    with state.lock:
        orders = [
            {k: v for k, v in o.items() if with_items or k != "items"}
            for o in state.orders.values()
        ]
        return _list(request, "orders", orders)


@get("/api/v1/deal-flows", sync_to_thread=False)
def deal_flows(request: AnyRequest) -> Response[Any]:
    state = _state(request)
    flow: dict[str, Any] = {"id": 1, "name": "Wholesale"}
    if request.query_params.get("with_order_statuses") == "true":
        flow["order_statuses"] = list(state.statuses.values())
    return _json(200, {"deal_flows": [flow]})


@get("/api/v2/batches/{batch_id:int}", sync_to_thread=False)
def read_batch(request: AnyRequest, batch_id: FromPath[int]) -> Response[Any]:
    state = _state(request)
    with state.lock:
        if batch_id not in state.batches:
            return _message(404, "Not Found")
        return _json(200, {"batch": dict(state.batches[batch_id])})


async def _update_batch(request: AnyRequest, batch_id: int) -> Response[Any]:
    state = _state(request)
    try:
        body = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return _message(400, "Malformed JSON")
    if not isinstance(body, dict):
        return _message(422, "The given data was invalid.")
    with state.lock:
        if batch_id not in state.batches:
            return _message(404, "Not Found")
        quantity = body.get("quantity")
        bad = not isinstance(quantity, int | float) or isinstance(quantity, bool) or quantity < 0
        if "quantity" in body and quantity is not None and bad:
            msg = "The quantity field must be at least 0."
            return _message(422, "The given data was invalid.", errors={"quantity": [msg]})
        allowed = {
            k: v
            for k, v in body.items()
            if k in {"quantity", "hold", "archived", "name", "unlimited_quantity"}
        }
        return _json(200, {"batch": state.update_batch(batch_id, allowed)})


@patch("/api/v2/batches/{batch_id:int}")
async def patch_batch(request: AnyRequest, batch_id: FromPath[int]) -> Response[Any]:
    return await _update_batch(request, batch_id)


@put("/api/v2/batches/{batch_id:int}")
async def put_batch(request: AnyRequest, batch_id: FromPath[int]) -> Response[Any]:
    return await _update_batch(request, batch_id)


# -- control routes for other processes (no auth: loopback test tool) ---------------------


@post("/_sim/faults", status_code=200)
async def set_faults(request: AnyRequest) -> dict[str, Any]:
    state = _state(request)
    body = msgspec.json.decode(await request.body())
    faults = state.faults
    faults.latency_seconds = float(body.get("latency_seconds", faults.latency_seconds))
    if "storm_seconds" in body:
        faults.storm_until = time.time() + float(body["storm_seconds"])
    for name in ("errors_5xx", "timeouts", "malformed"):
        if name in body:
            setattr(faults, name, int(body[name]))
    return {"ok": True}


@get("/_sim/requests", sync_to_thread=False)
def request_log(request: AnyRequest) -> list[dict[str, Any]]:
    state = _state(request)
    with state.lock:
        return [
            {
                "at": r.at,
                "method": r.method,
                "path": r.path,
                "query": r.query,
                "status": r.status,
                "body": r.body.decode(errors="replace"),
            }
            for r in state.requests
        ]


@post("/_sim/batches/{batch_id:int}", status_code=200)
async def sim_set_batch(request: AnyRequest, batch_id: FromPath[int]) -> dict[str, Any]:
    return _state(request).update_batch(batch_id, msgspec.json.decode(await request.body()))


@delete("/_sim/batches/{batch_id:int}", status_code=200, sync_to_thread=False)
def sim_delete_batch(request: AnyRequest, batch_id: FromPath[int]) -> dict[str, Any]:
    _state(request).delete_batch(batch_id)
    return {"deleted": batch_id}


class ApexGate(ASGIMiddleware):
    """Auth, Accept, rate limit, faults and the request log, in front of every API route."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, state: ApexState) -> None:
        self.state = state

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = scope["path"]
        if path.startswith("/_sim"):
            await next_app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording_receive() -> ReceiveMessage:
            message = await receive()
            body = message.get("body", b"")
            chunks.append(body if isinstance(body, bytes) else b"")
            return message

        status = {"code": 0}
        faults = self.state.faults
        malformed = faults.malformed > 0
        if malformed:
            faults.malformed -= 1

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            elif message["type"] == "http.response.body" and malformed:
                message = {**message, "body": b'{"batches": [{"id": 1, "quan'}
            await send(message)

        try:
            response = await self._gate(scope)
            if response is not None:
                await response.to_asgi_response(app=None, request=None)(  # type: ignore[arg-type]
                    scope, recording_receive, recording_send
                )
            else:
                await next_app(scope, recording_receive, recording_send)
        finally:
            self.state.record(
                RecordedRequest(
                    at=time.time(),
                    method=str(scope.get("method", "")),
                    path=path,
                    query=scope.get("query_string", b"").decode(),
                    body=b"".join(chunks),
                    status=status["code"],
                )
            )

    async def _gate(self, scope: Scope) -> Response[Any] | None:
        faults = self.state.faults
        if faults.latency_seconds:
            await asyncio.sleep(faults.latency_seconds)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token not in self.state.tokens:
            return _message(401, "Unauthenticated.")
        if "application/json" not in headers.get("accept", ""):
            return _message(406, "Send the header Accept: application/json")
        now = time.time()
        limit = str(self.state.rate_limit_per_second)
        if now < faults.storm_until:
            return _json(
                429,
                {"message": "Too Many Attempts."},
                {"Retry-After": "1", "X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "0"},
            )
        allowed, _ = self.state.take_rate_slot(token, now)
        if not allowed:
            return _json(
                429,
                {"message": "Too Many Attempts."},
                {"Retry-After": "1", "X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "0"},
            )
        if faults.errors_5xx > 0:
            faults.errors_5xx -= 1
            return _message(500, "Server Error")
        if faults.timeouts > 0:
            faults.timeouts -= 1
            await asyncio.sleep(faults.timeout_seconds)
            return _message(504, "Gateway Timeout")
        return None


def create_apex_app(state: ApexState) -> Litestar:
    from litestar.datastructures import State

    return Litestar(
        route_handlers=[
            welcome,
            products,
            batches,
            shipping_orders,
            deal_flows,
            read_batch,
            patch_batch,
            put_batch,
            set_faults,
            request_log,
            sim_set_batch,
            sim_delete_batch,
        ],
        middleware=[ApexGate(state)],
        state=State({"apex": state}),
        openapi_config=None,
    )
