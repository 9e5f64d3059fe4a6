"""Route guards: the ``X-API-Key`` check of every API route."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from tracker_service.lib.errors import Unauthorized

__all__ = ["API_KEY_HEADER", "actor_of", "require_api_key", "unauthorized"]

API_KEY_HEADER = "X-API-Key"


def unauthorized() -> Unauthorized:
    return Unauthorized(
        f"missing or wrong {API_KEY_HEADER} header; copy the key from the tracker's Settings "
        "page (or run `preroll-tracker api-key --new`)"
    )


async def require_api_key(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Async on purpose: a sync guard would cost a thread hop on every request."""
    actor = connection.app.state.services.api_keys.identify(connection.headers.get(API_KEY_HEADER))
    if actor is None:
        raise unauthorized()
    connection.state.actor = actor


def actor_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(connection.state.actor)
