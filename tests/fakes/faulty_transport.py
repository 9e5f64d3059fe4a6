"""An httpx transport that passes requests to the real one, except where a test says
otherwise: cut a host off, slow or fail chosen requests. It also records every request it
started, so a test can say what an engine sent and when."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

__all__ = ["FaultyTransport", "Sent"]


@dataclass(frozen=True)
class Sent:
    at: float  # time.monotonic() when the request left
    method: str
    url: str


@dataclass
class FaultyTransport(httpx.AsyncBaseTransport):
    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)
    #: Hosts ("127.0.0.1:8000") that cannot be reached (ConnectError, like a cut cable).
    cut: set[str] = field(default_factory=set)
    #: Seconds the answer to each request matching (method, path prefix) takes to come back.
    slow: dict[tuple[str, str], float] = field(default_factory=dict)
    #: One-shot failures: the next request whose path starts with the key raises the value.
    fail_next: dict[str, Callable[[httpx.Request], Exception]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = f"{request.url.host}:{request.url.port}"
        if host in self.cut:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        for prefix in list(self.fail_next):
            if request.url.path.startswith(prefix):
                raise self.fail_next.pop(prefix)(request)
        self.sent.append(Sent(time.monotonic(), request.method, str(request.url)))
        response = await self.inner.handle_async_request(request)
        for (method, prefix), seconds in self.slow.items():
            if request.method == method and request.url.path.startswith(prefix):
                await asyncio.sleep(seconds)
        return response

    def started(self, method: str, path_part: str, after: float = 0.0) -> list[Sent]:
        """Requests of ``method`` whose URL holds ``path_part``, sent after ``after``."""
        return [s for s in self.sent if s.method == method and path_part in s.url and s.at > after]

    async def aclose(self) -> None:
        await self.inner.aclose()
