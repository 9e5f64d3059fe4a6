"""``TrackerClient``: PreRollTracker's API as the engine uses it (docs/api.md).

Every failure becomes a :class:`TrackerError` whose text says what to do (guide §6.1); an
answer that does not decode is a failure too, never a partial result.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import msgspec

from preroll_contract import NOT_LEASE_HOLDER, OrderLine, OrderLinesPut
from sync_engine.clients.network import connect_problem
from sync_engine.errors import LeaseHeld, LeaseLost, TrackerError
from sync_engine.tracker_models import ChangeFeed, OrderLinesAnswer, PackageCalc

__all__ = ["NOT_MODIFIED", "TrackerClient"]

T = TypeVar("T")
NOT_MODIFIED = None


class _Lease(msgspec.Struct):
    holder: str
    expires_at: str


class _Holder(msgspec.Struct):
    holder: str


class _Refusal(msgspec.Struct):
    error: str = ""
    holder: str | None = None


def _refusal(response: httpx.Response) -> _Refusal:
    try:
        return msgspec.json.decode(response.content, type=_Refusal)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _Refusal()


class TrackerClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._headers = {"X-API-Key": api_key, "Accept": "application/json"}

    async def _call(
        self,
        method: str,
        path: str,
        *,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        url = f"{self.base_url}{path}"
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            response = await self._http.request(
                method, url, headers=self._headers | (headers or {}), **extra, **kwargs
            )
        except httpx.ConnectError as exc:
            raise TrackerError(self._cannot_connect(exc)) from None
        except httpx.TimeoutException:
            raise TrackerError(
                f"PreRollTracker at {self.base_url} timed out: check the server "
                "load and the network"
            ) from None
        except httpx.TransportError as exc:
            raise TrackerError(
                f"PreRollTracker at {self.base_url} could not be reached ({exc})"
            ) from None
        except httpx.HTTPError as exc:  # e.g. a body that cannot be decoded
            raise TrackerError(
                f"PreRollTracker at {self.base_url} sent an answer that cannot be read ({exc})"
            ) from None
        if response.status_code == 401:
            raise TrackerError(
                "PreRollTracker rejected the API key (401 Unauthorized): copy the "
                "key from PreRollTracker Settings into dashboard_api_key",
                status=401,
                retryable=False,
            )
        if response.status_code >= 500:
            raise TrackerError(
                f"PreRollTracker error {response.status_code} on {path}",
                status=response.status_code,
            )
        return response

    def _cannot_connect(self, exc: httpx.ConnectError) -> str:
        host = httpx.URL(self.base_url).host
        match connect_problem(exc):
            case "ssl":
                return (
                    f"SSL error talking to PreRollTracker at {self.base_url}: its HTTPS "
                    f"certificate does not verify ({exc}); check that the certificate is "
                    "valid and this computer's date and time are right"
                )
            case "dns":
                return (
                    f"Cannot find PreRollTracker's server {host!r} (DNS lookup failed): check "
                    "dashboard_url and this computer's network connection"
                )
            case "refused":
                return (
                    f"Cannot connect to PreRollTracker at {self.base_url} (connection "
                    "refused): is it running? On the server: sudo systemctl start "
                    "preroll-tracker"
                )
            case _:
                return f"Cannot connect to PreRollTracker at {self.base_url} ({exc})"

    @staticmethod
    def _decode(response: httpx.Response, kind: type[T], what: str) -> T:
        if response.status_code >= 400:
            raise TrackerError(
                f"PreRollTracker refused {what} ({response.status_code}): {response.text[:300]}",
                status=response.status_code,
            )
        try:
            return msgspec.json.decode(response.content, type=kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise TrackerError(f"PreRollTracker sent an unreadable {what}: {exc}") from None

    async def overview(self) -> dict[str, Any]:
        response = await self._call("GET", "/api/overview")
        return self._decode(response, dict[str, Any], "overview")

    async def apex_calculate(
        self, etag: str | None = None
    ) -> tuple[dict[str, PackageCalc], str] | None:
        """Units per package; None when ``etag`` is still current (304)."""
        headers = {"If-None-Match": etag} if etag else {}
        response = await self._call("GET", "/apex-calculate", headers=headers)
        if response.status_code == 304:
            return NOT_MODIFIED
        packages = self._decode(response, dict[str, PackageCalc], "/apex-calculate answer")
        return packages, response.headers.get("etag", "")

    async def changes(self, since: int, wait: float) -> ChangeFeed:
        response = await self._call(
            "GET", "/api/changes", params={"since": since, "wait": wait}, timeout=wait + 15
        )
        return self._decode(response, ChangeFeed, "change feed")

    async def put_order_lines(self, holder: str, lines: list[OrderLine]) -> OrderLinesAnswer:
        """Send every order line as the lease holder; LeaseLost when the tracker says another
        installation (or nobody) holds the lease now: nothing was changed."""
        body = msgspec.json.encode(OrderLinesPut(holder=holder, lines=lines))
        response = await self._call(
            "PUT",
            "/api/sync/order-lines",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        if response.status_code == 409:
            refusal = _refusal(response)
            if refusal.error == NOT_LEASE_HOLDER:
                raise LeaseLost(refusal.holder)
        return self._decode(response, OrderLinesAnswer, "order-lines answer")

    async def take_lease(self, holder: str, ttl_seconds: int) -> str:
        response = await self._call(
            "POST", "/api/sync/lease", json={"holder": holder, "ttl_seconds": ttl_seconds}
        )
        if response.status_code == 409:
            try:
                holder = msgspec.json.decode(response.content, type=_Holder).holder
            except (msgspec.DecodeError, msgspec.ValidationError):
                holder = "another installation"
            raise LeaseHeld(holder)
        return self._decode(response, _Lease, "lease answer").expires_at

    async def release_lease(self, holder: str) -> None:
        response = await self._call("DELETE", "/api/sync/lease", params={"holder": holder})
        if response.status_code not in (200, 409):
            raise TrackerError(
                f"PreRollTracker refused to release the lease ({response.status_code})"
            )
