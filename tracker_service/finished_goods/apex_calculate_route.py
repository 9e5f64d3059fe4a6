"""``GET /apex-calculate`` as a raw ASGI route: the hottest path of the tracker.

The body is computed on write (:mod:`calculation_cache`), so a read is an API-key check, one
``PRAGMA data_version`` and sending bytes. Going around Litestar's request/response objects
keeps it at the speed of a server answering fixed bytes (see ``bench/``). It keeps the same
contract as every other route: ``X-API-Key`` required, JSON errors, ``ETag``/``If-None-Match``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import asgi
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, PathItem, Schema
from litestar.types import Receive, Scope, Send

from tracker_service.lib.guards import API_KEY_HEADER, unauthorized
from tracker_service.services import Services

__all__ = ["APEX_CALCULATE_PATH", "apex_calculate", "apex_calculate_openapi"]

APEX_CALCULATE_PATH = "/apex-calculate"
_KEY_HEADER = API_KEY_HEADER.lower().encode()
_JSON = (b"content-type", b"application/json")
_NO_CACHE = (b"cache-control", b"no-cache")


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


@asgi(APEX_CALCULATE_PATH, is_mount=False, copy_scope=False, include_in_schema=False)
async def apex_calculate(scope: Scope, receive: Receive, send: Send) -> None:
    """Every active package, plus those archived or orphaned in the last 30 days."""
    services: Services = scope["litestar_app"].state.services
    key = match = None
    for name, value in scope["headers"]:
        if name == _KEY_HEADER:
            key = value
        elif name == b"if-none-match":
            match = value.decode("latin-1")
    method = scope.get("method", "GET")
    version = services.db.data_version()
    if services.api_keys.identify(key, data_version=version) is None:
        await _send(send, 401, [_JSON], msgspec.json.encode(unauthorized().body()))
        return
    if method not in ("GET", "HEAD"):
        error = {"error": "method_not_allowed", "detail": "use GET on /apex-calculate"}
        await _send(send, 405, [_JSON, (b"allow", b"GET, HEAD")], msgspec.json.encode(error))
        return
    body, etag = services.calculation.current(data_version=version)
    headers = [_JSON, _NO_CACHE, (b"etag", etag.encode())]
    if match is not None and (match.strip() == "*" or etag in match):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif method == "HEAD":
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    else:
        await _send(send, 200, headers, body)


def apex_calculate_openapi(calculation_schema: Schema | Any) -> PathItem:
    """The route's OpenAPI entry (raw ASGI routes are not described by Litestar itself)."""
    return PathItem(
        get=Operation(
            summary="Units per SKU of every package the sync engine should see",
            description=(apex_calculate.fn.__doc__ or "").strip()
            + " Answers 304 when If-None-Match holds the current ETag.",
            operation_id="ApexCalculate",
            tags=["finished goods"],
            security=[{"ApiKey": []}],
            responses={
                "200": OpenAPIResponse(
                    description="metrc_number -> {strain, status, available_grams, units}",
                    content={"application/json": OpenAPIMediaType(schema=calculation_schema)},
                ),
                "304": OpenAPIResponse(description="Not modified since the ETag given"),
                "401": OpenAPIResponse(description="Missing or wrong X-API-Key"),
            },
        )
    )
