"""The one place where errors become HTTP answers: ``{"error", "detail", ...}`` (SPEC §2.4)."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from tracker_service.lib.errors import TrackerError

__all__ = ["EXCEPTION_HANDLERS"]

log = logging.getLogger(__name__)

_MSGSPEC_PATH = re.compile(r"at `\$(?P<path>[^`]*)`")


def _json(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(body, status_code=status, media_type="application/json")


def _tracker_error(_: Request[Any, Any, Any], exc: TrackerError) -> Response[dict[str, Any]]:
    return _json(exc.status_code, exc.body())


def _field_of(item: dict[str, Any]) -> str | None:
    match = _MSGSPEC_PATH.search(str(item.get("message", "")))
    if match:
        return match.group("path").lstrip(".") or "body"
    key = item.get("key")
    # Litestar names the request body "data"; callers know it as the body.
    if key and key != "data":
        return str(key)
    return None


def _validation_error(
    _: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    items = exc.extra if isinstance(exc.extra, list) else []
    first = items[0] if items and isinstance(items[0], dict) else {}
    message = str(first.get("message") or exc.detail)
    field = _field_of(first) or "body"
    if "JSON is malformed" in message or "invalid json" in message.lower():
        return _json(400, {"error": "malformed_json", "detail": message, "field": "body"})
    if "Object missing required field" in message:
        missing = re.search(r"required field `(?P<name>[^`]+)`", message)
        if missing:
            field = f"{field}.{missing['name']}" if field != "body" else missing["name"]
    elif "Object contains unknown field" in message:
        unknown = re.search(r"unknown field `(?P<name>[^`]+)`", message)
        if unknown:
            field = f"{field}.{unknown['name']}" if field != "body" else unknown["name"]
    return _json(422, {"error": "invalid_input", "detail": f"{field}: {message}", "field": field})


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if exc.status_code == 400:
        detail = f"the request body could not be read as JSON: {exc.detail}"
        return _json(400, {"error": "bad_request", "detail": detail, "field": "body"})
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    return _json(
        exc.status_code,
        {"error": code.get(exc.status_code, "http_error"), "detail": str(exc.detail)},
    )


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json(
        500,
        {
            "error": "internal_error",
            "detail": "the tracker hit an unexpected error; it is in the server log",
        },
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    TrackerError: _tracker_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _internal_error,
}
