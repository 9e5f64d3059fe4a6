"""The tracker's METRC v2 client: Basic auth, the license on every call, pages of 20,
``lastModified`` windows, writes chunked to the object limit, errors sorted (errors.py).

It takes an ``httpx.AsyncClient`` (tests aim it at the simulator) and does no retrying of its
own: a write that went out and got no answer is ``OutcomeUnknown``, and only the outbox, which
re-reads the package first, decides whether to send it again (docs/metrc.md, "Exactly once").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import msgspec

from tracker_service.metrc.errors import (
    KeysRefused,
    LicenseRefused,
    MetrcError,
    MetrcUnavailable,
    OutcomeUnknown,
    PermissionMissing,
    Rejected,
    TooLarge,
)
from tracker_service.metrc.models import (
    AdjustReason,
    Facility,
    MetrcItem,
    MetrcPackage,
    Page,
    Unit,
)

__all__ = ["PAGE_SIZE", "MetrcClient", "MetrcCredentials", "metrc_time"]

PAGE_SIZE = 20  # the most METRC pages at
T = TypeVar("T")
_encoder = msgspec.json.Encoder(decimal_format="number")


class _Message(msgspec.Struct, rename="pascal"):
    message: str = ""


class _RowError(msgspec.Struct):
    row: int = 0
    message: str = ""


class _Ids(msgspec.Struct, rename="pascal"):
    ids: list[int] | None = None


class MetrcCredentials(msgspec.Struct, frozen=True):
    api_url: str
    license_number: str
    vendor_key: str
    user_key: str


def metrc_time(moment: datetime) -> str:
    """``yyyy-mm-ddThh:mm:ssZ``, the form METRC takes in a query."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MetrcClient:
    def __init__(
        self,
        credentials: MetrcCredentials,
        http: httpx.AsyncClient,
        *,
        object_limit: int = 10,
    ) -> None:
        self.credentials = credentials
        self.http = http
        self.object_limit = object_limit
        self.requests = 0  # sent, for the benchmark and the status page
        self._auth = httpx.BasicAuth(credentials.vendor_key, credentials.user_key)

    # -- transport -------------------------------------------------------------------------

    async def _send(
        self, method: str, path: str, *, licensed: bool = True, **kwargs: Any
    ) -> httpx.Response:
        params = dict(kwargs.pop("params", {}))
        if licensed:
            params["licenseNumber"] = self.credentials.license_number
        url = self.credentials.api_url.rstrip("/") + path
        self.requests += 1
        writing = method in {"POST", "PUT"}
        try:
            response = await self.http.request(
                method, url, params=params, auth=self._auth, **kwargs
            )
        except httpx.TimeoutException as exc:
            if writing:
                raise OutcomeUnknown(f"METRC did not answer in time ({path})") from exc
            raise MetrcUnavailable(f"METRC did not answer in time ({path})") from exc
        except httpx.HTTPError as exc:
            if writing and not isinstance(exc, httpx.ConnectError):
                raise OutcomeUnknown(f"the connection to METRC broke ({path}): {exc}") from exc
            raise MetrcUnavailable(f"cannot reach METRC at {url}: {exc}") from exc
        _raise_for(response, path, writing)
        return response

    async def _json(self, path: str, kind: type[T], **kwargs: Any) -> T:
        response = await self._send("GET", path, **kwargs)
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.ValidationError as exc:
            raise MetrcUnavailable(f"METRC sent an answer we cannot read ({path}): {exc}") from exc

    async def _pages(
        self, path: str, kind: type[T], params: dict[str, str] | None = None
    ) -> AsyncIterator[T]:
        number = 1
        while True:
            query = {**(params or {}), "pageNumber": str(number), "pageSize": str(PAGE_SIZE)}
            page = await self._json(path, Page, params=query)
            for raw in page.data:
                yield msgspec.json.decode(raw, type=kind)
            if number >= page.total_pages or not page.data:
                return
            number += 1

    # -- reads -----------------------------------------------------------------------------

    async def packages(
        self, which: str, start: datetime, end: datetime
    ) -> AsyncIterator[MetrcPackage]:
        """Packages of the ``active``/``inactive``/``onhold`` list modified in [start, end]."""
        window = _window(start, end)
        async for package in self._pages(f"/packages/v2/{which}", MetrcPackage, window):
            yield package

    async def package(self, label: str) -> MetrcPackage | None:
        """One package by label; None when METRC does not have it under this license."""
        try:
            return await self._json(f"/packages/v2/{label}", MetrcPackage)
        except LicenseRefused:
            return None  # METRC answers 401 for a label that is not under the license

    async def adjustments(self) -> AsyncIterator[dict[str, Any]]:
        """Every adjustment METRC recorded for the license (no window: it takes none)."""
        async for row in self._pages("/packages/v2/adjustments", dict[str, Any]):
            yield row

    async def reasons(self) -> list[AdjustReason]:
        return [r async for r in self._pages("/packages/v2/adjust/reasons", AdjustReason)]

    async def items(self, start: datetime, end: datetime) -> list[MetrcItem]:
        window = _window(start, end)
        return [i async for i in self._pages("/items/v2/active", MetrcItem, window)]

    async def units(self) -> list[Unit]:
        return await self._json("/unitsofmeasure/v2/active", list[Unit], licensed=False)

    async def facilities(self) -> list[Facility]:
        return await self._json("/facilities/v2/", list[Facility], licensed=False)

    # -- writes (JSON arrays, chunked to the object limit) ----------------------------------

    async def adjust(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        return await self._write("POST", "/packages/v2/adjust", rows)

    async def create(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        return await self._write("POST", "/packages/v2/", rows)

    async def finish(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._write("PUT", "/packages/v2/finish", rows)

    async def _write(self, method: str, path: str, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Each chunk is its own request: the caller sends one chunk per outbox entry when it
        needs to know exactly what was applied."""
        ids: list[int] = []
        for start in range(0, len(rows), self.object_limit):
            chunk = list(rows[start : start + self.object_limit])
            response = await self._send(
                method,
                path,
                content=_encoder.encode(chunk),
                headers={"Content-Type": "application/json"},
            )
            if response.content.strip():
                try:
                    answer = msgspec.json.decode(response.content, type=_Ids)
                except msgspec.ValidationError:
                    answer = _Ids()
                ids.extend(answer.ids or [])
        return ids


def _window(start: datetime, end: datetime) -> dict[str, str]:
    """Both bounds, always; METRC takes whole seconds, so the end is rounded up (a change
    made within the last second is not left out)."""
    return {
        "lastModifiedStart": metrc_time(start),
        "lastModifiedEnd": metrc_time(end + timedelta(seconds=1)),
    }


def _raise_for(response: httpx.Response, path: str, writing: bool) -> None:
    status = response.status_code
    if status < 400:
        return
    message = _message_of(response)
    if status == 400:
        try:
            rows = msgspec.json.decode(response.content, type=list[_RowError])
        except msgspec.ValidationError:
            rows = []
        except msgspec.DecodeError:
            rows = []
        if rows:
            raise Rejected({r.row: r.message for r in rows})
        # A server fault has been seen dressed as a 400 with a Message (docs/metrc.md).
        if "assembly" in message or "exception" in message.lower():
            raise (OutcomeUnknown if writing else MetrcUnavailable)(
                f"METRC failed ({path}): {message}", status=400
            )
        raise Rejected({0: message or "bad request"})
    if status == 401:
        raise _refusal(message, path)
    if status == 403:
        raise PermissionMissing(
            f"this METRC user is not permitted to use {path}: {message}", status=403
        )
    if status == 413:
        raise TooLarge(f"METRC took too many objects at once ({path}): {message}", status=413)
    if status == 429:
        retry = response.headers.get("retry-after")
        raise MetrcUnavailable(
            "METRC asks us to slow down (429)",
            status=429,
            retry_after=float(retry) if retry and retry.replace(".", "", 1).isdigit() else None,
        )
    if writing and status in {502, 504}:
        raise OutcomeUnknown(f"METRC's gateway lost the answer ({status}, {path})", status=status)
    if status >= 500:
        raise MetrcUnavailable(f"METRC is failing ({status}): {message or path}", status=status)
    raise MetrcError(f"METRC answered {status} ({path}): {message}", status=status)


def _refusal(message: str, path: str) -> MetrcError:
    """401 means several things; METRC's message (when it sends one) tells which."""
    lowered = message.lower()
    if "vendor" in lowered or "software" in lowered:
        return KeysRefused(f"METRC refused the vendor key: {message}", status=401)
    if "user" in lowered and "key" in lowered:
        return KeysRefused(f"METRC refused the user key: {message}", status=401)
    if "permission" in lowered:
        return PermissionMissing(f"{message} ({path})", status=401)
    return LicenseRefused(
        f"METRC refused the request for this license ({path}): {message or 'unauthorized'}",
        status=401,
    )


def _message_of(response: httpx.Response) -> str:
    try:
        return msgspec.json.decode(response.content, type=_Message).message
    except (msgspec.ValidationError, msgspec.DecodeError):
        return response.text.strip()[:200]
