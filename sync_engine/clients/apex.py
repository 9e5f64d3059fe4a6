"""``ApexClient``: Apex Trading over httpx with pagination, rate limits and retries.

All requests share one limiter (Apex counts per token), so orders and batch updates together
stay under 15 requests per second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import httpx
import msgspec
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from sync_engine.apex_models import ApexBatch, ApexProduct, ListMeta
from sync_engine.clients.network import connect_problem
from sync_engine.clients.rate_limit import SlidingWindowLimiter
from sync_engine.clients.retry import PeerWait, is_retryable
from sync_engine.errors import ApexError, Fenced, RateLimited
from sync_engine.orders.models import ApexOrder

__all__ = ["DEFAULT_REQUESTS_PER_SECOND", "ApexClient"]

log = logging.getLogger(__name__)

#: One under Apex's 15 per second, with a slightly longer window, so clock skew never tips it.
DEFAULT_REQUESTS_PER_SECOND = 14
_PER_PAGE = 500
_IDS_PER_REQUEST = 100
T = TypeVar("T")


class _Page(msgspec.Struct):
    meta: ListMeta


class _BatchEnvelope(msgspec.Struct):
    batch: ApexBatch


class ApexClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        token: str,
        *,
        limiter: SlidingWindowLimiter | None = None,
        attempts: int = 5,
        wait: PeerWait | None = None,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.limiter = limiter or SlidingWindowLimiter(DEFAULT_REQUESTS_PER_SECOND, window=1.05)
        self._attempts = attempts
        self._wait = wait or PeerWait(cap=60.0)
        self.requests_sent = 0

    async def _request(
        self, method: str, path: str, fence: Callable[[], bool] | None = None, **kwargs: Any
    ) -> bytes:
        """Send with retries; ``fence`` is asked before every attempt (Fenced when False)."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            wait=self._wait,
            stop=stop_after_attempt(self._attempts),
            reraise=True,
        ):
            with attempt:
                return await self._send_once(method, path, fence, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(
        self, method: str, path: str, fence: Callable[[], bool] | None, **kwargs: Any
    ) -> bytes:
        await self.limiter.acquire()
        if fence is not None and not fence():
            raise Fenced
        self.requests_sent += 1
        url = f"{self._base}{path}"
        try:
            response = await self._http.request(method, url, headers=self._headers, **kwargs)
        except httpx.TimeoutException:
            raise ApexError(f"Apex Trading did not answer {method} {path} in time") from None
        except httpx.ConnectError as exc:
            raise ApexError(_cannot_connect(self._base, exc)) from None
        except httpx.TransportError as exc:
            raise ApexError(f"cannot reach Apex Trading at {self._base} ({exc})") from None
        except httpx.HTTPError as exc:  # e.g. a body that cannot be decoded
            raise ApexError(f"Apex Trading answered {method} {path} unreadably ({exc})") from None
        status = response.status_code
        if status == 429:
            raise RateLimited(_retry_after(response.headers.get("retry-after")))
        if status == 401:
            raise ApexError(
                "Apex Trading rejected the API token (401 Unauthenticated): "
                "generate a new token in Apex Trading and update api_token",
                status=401,
                retryable=False,
            )
        if status >= 500:
            raise ApexError(f"Apex Trading server error {status} on {method} {path}", status=status)
        if status >= 400:
            detail = _message(response.content)
            raise ApexError(
                f"Apex Trading refused {method} {path} ({status}): {detail}",
                status=status,
                retryable=False,
            )
        return response.content

    async def _list(
        self, path: str, key: str, item_type: type[T], params: dict[str, Any]
    ) -> list[T]:
        """Every page of a list: the same query each time, page=2..meta.last_page."""
        envelope: Any = msgspec.defstruct("Envelope", [(key, list[item_type]), ("meta", ListMeta)])  # type: ignore[valid-type]
        items: list[T] = []
        page, last_page = 1, 1
        while page <= last_page:
            raw = await self._request(
                "GET", path, params={**params, "page": page, "per_page": _PER_PAGE}
            )
            try:
                decoded = msgspec.json.decode(raw, type=envelope)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise ApexError(
                    f"Apex Trading sent an unreadable {path} page {page}: {exc}"
                ) from None
            items.extend(getattr(decoded, key))
            last_page = int(decoded.meta.last_page)
            page += 1
        return items

    async def welcome(self) -> None:
        await self._request("GET", "/v1/welcome")

    async def list_batches(self, updated_at_from: str) -> list[ApexBatch]:
        return await self._list(
            "/v2/batches", "batches", ApexBatch, {"updated_at_from": updated_at_from}
        )

    async def list_products(
        self, ids: Iterable[int] | None = None, updated_at_from: str = "2000-01-01"
    ) -> list[ApexProduct]:
        """Products by id (in chunks), or every product changed since ``updated_at_from``."""
        if ids is None:
            return await self._list(
                "/v1/products", "products", ApexProduct, {"updated_at_from": updated_at_from}
            )
        wanted = sorted(set(ids))
        products: list[ApexProduct] = []
        for start in range(0, len(wanted), _IDS_PER_REQUEST):
            chunk = wanted[start : start + _IDS_PER_REQUEST]
            products += await self._list(
                "/v1/products",
                "products",
                ApexProduct,
                {"updated_at_from": updated_at_from, "ids[]": chunk},
            )
        return products

    async def list_orders(self, updated_at_from: str) -> list[ApexOrder]:
        """Shipping orders changed since ``updated_at_from``, with their items."""
        return await self._list(
            "/v1/shipping-orders",
            "orders",
            ApexOrder,
            {"updated_at_from": updated_at_from, "with_items": "true"},
        )

    async def get_batch(self, batch_id: int) -> ApexBatch | None:
        """One batch as Apex holds it now; None when Apex no longer has it (404)."""
        try:
            raw = await self._request("GET", f"/v2/batches/{batch_id}")
        except ApexError as exc:
            if exc.status == 404:
                return None
            raise
        return _batch_of(raw, batch_id)

    async def set_batch_quantity(
        self, batch_id: int, quantity: int, fence: Callable[[], bool] | None = None
    ) -> ApexBatch:
        """PATCH the quantity; the answer is what Apex confirmed. ``fence`` is asked before
        each attempt: retries of an installation that lost the lease are never sent."""
        raw = await self._request(
            "PATCH", f"/v2/batches/{batch_id}", fence, json={"quantity": quantity}
        )
        return _batch_of(raw, batch_id)


def _batch_of(raw: bytes, batch_id: int) -> ApexBatch:
    try:
        return msgspec.json.decode(raw, type=_BatchEnvelope).batch
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ApexError(
            f"Apex Trading sent an unreadable answer for batch {batch_id}: {exc}"
        ) from None


def _cannot_connect(base: str, exc: httpx.ConnectError) -> str:
    match connect_problem(exc):
        case "ssl":
            return (
                f"SSL error talking to Apex Trading at {base}: its certificate does not "
                f"verify ({exc}); check this computer's date and time, or a proxy that "
                "intercepts HTTPS"
            )
        case "dns":
            return (
                f"Cannot find Apex Trading's server {httpx.URL(base).host!r} (DNS lookup "
                "failed): check api_base_url and this computer's network connection"
            )
        case "refused":
            return f"Apex Trading at {base} refused the connection: check api_base_url"
        case _:
            return f"cannot reach Apex Trading at {base} ({exc})"


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 1.0
    except ValueError:
        return 1.0


def _message(content: bytes) -> str:
    try:
        body = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return content[:200].decode(errors="replace")
    if isinstance(body, dict):
        return str(body.get("message") or body)
    return str(body)
