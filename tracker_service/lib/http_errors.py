"""The one place where errors become HTTP answers: ``{"error", "detail", ...}`` (docs/api.md)."""

from __future__ import annotations

import logging
import re
import typing
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from tracker_service.lib.decoding import describe
from tracker_service.lib.errors import TrackerError

__all__ = ["EXCEPTION_HANDLERS"]

log = logging.getLogger(__name__)

_MSGSPEC_PATH = re.compile(r"at `\$(?P<path>[^`]*)`")


def _json(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _tracker_error(_: Request[Any, Any, Any], exc: TrackerError) -> Response[dict[str, Any]]:
    return _json(exc.status_code, exc.body(), exc.headers())


def _field_of(item: dict[str, Any]) -> str | None:
    match = _MSGSPEC_PATH.search(str(item.get("message", "")))
    if match:
        return match.group("path").lstrip(".") or "body"
    key = item.get("key")
    # Litestar names the request body "data"; callers know it as the body.
    if key and key != "data":
        return str(key)
    return None


def _body_error(request: Request[Any, Any, Any]) -> str | None:
    """Decode the body again to learn the full path of a nested error (Litestar drops it)."""
    body = getattr(request, "_body", None)
    handler = request.scope.get("route_handler")
    signature = getattr(handler, "parsed_fn_signature", None)
    data = signature.parameters.get("data") if signature is not None else None
    if not isinstance(body, bytes) or data is None:
        return None
    try:
        msgspec.json.decode(body, type=data.annotation, strict=False)
    except msgspec.ValidationError as error:
        return _name_dict_key(body, data.annotation, str(error))
    except Exception:  # any other failure: keep Litestar's own message
        return None
    return None


def _name_dict_key(body: bytes, annotation: Any, message: str) -> str:
    """msgspec writes ``$[...]`` for a key of a mapping body; put the real key there."""
    if "`$[...]" not in message or typing.get_origin(annotation) is not dict:
        return message
    value_type = typing.get_args(annotation)[1]
    for key, raw in msgspec.json.decode(body, type=dict[str, msgspec.Raw]).items():
        try:
            msgspec.json.decode(raw, type=value_type, strict=False)
        except msgspec.ValidationError as error:
            inner = str(error)
            path = _MSGSPEC_PATH.search(inner)
            suffix = path.group("path") if path else ""
            return (
                _MSGSPEC_PATH.sub(f"at `$.{key}{suffix}`", inner)
                if path
                else (f"{inner} - at `$.{key}`")
            )
    return message


def _validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    items = exc.extra if isinstance(exc.extra, list) else []
    first = items[0] if items and isinstance(items[0], dict) else {}
    if first.get("source") == "body" and (precise := _body_error(request)):
        first = {"message": precise}
    message = str(first.get("message") or exc.detail)
    if "JSON is malformed" in message or "invalid json" in message.lower():
        return _json(400, {"error": "malformed_json", "detail": message, "field": "body"})
    named, problem = describe(message)
    field = named or _field_of(first) or "body"
    return _json(422, {"error": "invalid_input", "detail": f"{field}: {problem}", "field": field})


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
