"""The METRC sync's loop in the tracker process: pull every ``pull_interval_seconds`` (and on
demand), send the outbox as soon as it has something due (docs/metrc.md).

It is one asyncio task. Writes anywhere in the tracker wake it (``wake`` is safe from any
thread); everything it needs between runs is in SQLite, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from tracker_service.lib.clock import now_iso
from tracker_service.metrc import repository as repo
from tracker_service.metrc.client import MetrcClient, MetrcCredentials
from tracker_service.metrc.errors import MetrcError
from tracker_service.metrc.models import MetrcPackage
from tracker_service.metrc.pull import plan_pull
from tracker_service.metrc.schemas import MetrcSettings
from tracker_service.metrc.sender import OutboxSender
from tracker_service.metrc.service import MetrcService

__all__ = ["FIRST_WINDOW_START", "WINDOW_OVERLAP", "MetrcWorker"]

log = logging.getLogger(__name__)
#: The first pull reads from here (METRC accepted it in one window, docs/decisions.md).
FIRST_WINDOW_START = datetime(2015, 1, 1, tzinfo=UTC)
WINDOW_OVERLAP = timedelta(minutes=5)
#: METRC's reasons and items are read again this often.
REFERENCE_TTL_SECONDS = 3600.0
#: The whole active list is read this often: a package can leave it (an outgoing transfer)
#: without showing up as changed in any list.
FULL_LISTING_SECONDS = 86_400.0
IDLE_SECONDS = 30.0


class MetrcWorker:
    def __init__(
        self,
        service: MetrcService,
        sender: OutboxSender,
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.service = service
        self.sender = sender
        self.clock = clock
        self.transport = transport
        self.requests = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._pull_lock = asyncio.Lock()
        self._next_pull = 0.0
        self._reference_read = 0.0
        #: METRC answered 413 at this many objects: stay below it (until the settings change).
        self._learned_limit: int | None = None

    # -- control ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Something changed (any thread): look at the outbox now."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not stop.is_set():
            try:
                delay = await self.step()
            except Exception:  # the loop must outlive any bug: log it and go on
                log.exception("the METRC sync failed; trying again")
                delay = IDLE_SECONDS
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            _, pending = await asyncio.wait(
                waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()

    async def step(self) -> float:
        """One round: pull if due, send what is due; returns seconds until the next round."""
        settings = self.service.settings()
        if not (settings.enabled and settings.complete):
            return IDLE_SECONDS
        async with self._http() as http:
            client = self._client(settings, http)
            if self.clock() >= self._next_pull:
                await self._pull(client, settings)
            while await self.sender.send_due(client, client.object_limit):
                pass
            if client.object_limit < settings.object_limit:
                self._learned_limit = client.object_limit
            self.requests += client.requests
        now = self.clock()
        due = [self._next_pull - now]
        # The soonest retry of any package, not only the oldest entry's (they back off apart).
        soonest = self.service.db.query(repo.earliest_attempt)
        if soonest is not None:
            due.append(soonest - now)
        return max(0.05, min(due))

    def pull_soon(self) -> None:
        """New settings: pull at the next round (any thread)."""
        self._next_pull = 0.0
        self._learned_limit = None
        self.wake()

    async def pull_now(self) -> None:
        """``POST /api/metrc/pull``: pull at once and send what is due."""
        settings = self.service.settings()
        if not (settings.enabled and settings.complete):
            return
        async with self._http() as http:
            client = self._client(settings, http)
            await self._pull(client, settings)
            self.requests += client.requests
        self.wake()

    async def test_connection(self, settings: MetrcSettings) -> tuple[bool, str]:
        """Each step names what is wrong: the keys, the license, a permission, METRC down."""
        async with self._http() as http:
            client = self._client(settings, http)
            try:
                await client.units()
                licenses = {f.license.number for f in await client.facilities()}
                if settings.license_number not in licenses:
                    listed = ", ".join(sorted(licenses)) or "none"
                    return False, (
                        f"this METRC user may not use license {settings.license_number}"
                        f" (it may use: {listed})"
                    )
                now = datetime.now(UTC)
                async for _ in client.packages("active", now - timedelta(minutes=1), now):
                    break
                await client.reasons()
            except MetrcError as exc:
                return False, str(exc)
        return True, f"connected to METRC as license {settings.license_number}"

    # -- inside ----------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=30, transport=self.transport)

    def _client(self, settings: MetrcSettings, http: httpx.AsyncClient) -> MetrcClient:
        credentials = MetrcCredentials(
            api_url=settings.api_url,
            license_number=settings.license_number,
            vendor_key=settings.vendor_key,
            user_key=settings.user_key,
        )
        limit = min(settings.object_limit, self._learned_limit or settings.object_limit)
        return MetrcClient(credentials, http, object_limit=limit)

    async def _pull(self, client: MetrcClient, settings: MetrcSettings) -> None:
        async with self._pull_lock:
            self._next_pull = self.clock() + settings.pull_interval_seconds
            status = self.service.pull_status()
            end = datetime.fromtimestamp(self.clock(), UTC)
            try:
                if (
                    self.clock() - self._reference_read > REFERENCE_TTL_SECONDS
                    or not status.reasons
                ):
                    await self._read_reference(client, status, settings, end)
                full = self.clock() - status.full_listing_at >= FULL_LISTING_SECONDS
                if full:
                    status.windows.pop("active", None)  # the whole list, from the first window
                active = await self._changed(client, "active", status, end)
                finished = await self._changed(client, "inactive", status, end)
            except MetrcError as exc:
                status.last_pull_ok = False
                status.message = str(exc)
                status.failing_since = status.failing_since or now_iso()
                self.service.record_pull(status)
                log.warning("METRC pull failed: %s", exc)
                return
            gone: set[str] = set()
            if full:
                gone = self.service.known_active() - {p.label for p in active}
                status.full_listing_at = self.clock()
            actions = plan_pull(
                active,
                finished,
                self.service.tracker_sides(),
                self.service.in_flight(),
                settings.item_filter,
                gone,
            )
            skipped = self.service.apply_pull(actions)
            status.windows = {"active": end.isoformat(), "inactive": end.isoformat()}
            status.last_pull_at = now_iso()
            status.last_pull_ok = True
            status.failing_since = None
            status.message = f"pulled: {len(active)} changed package(s)" + (
                f"; not taken: {'; '.join(skipped)}" if skipped else ""
            )
            self.service.record_pull(status)

    async def _changed(
        self, client: MetrcClient, which: str, status: repo.PullStatus, end: datetime
    ) -> list[MetrcPackage]:
        last = status.windows.get(which)
        start = datetime.fromisoformat(last) - WINDOW_OVERLAP if last else FIRST_WINDOW_START
        return [package async for package in client.packages(which, start, end)]

    async def _read_reference(
        self, client: MetrcClient, status: repo.PullStatus, settings: MetrcSettings, end: datetime
    ) -> None:
        reasons = await client.reasons()
        wanted = re.compile(settings.item_filter)
        items = await client.items(FIRST_WINDOW_START, end)
        status.reasons = [(r.name, r.requires_note) for r in reasons]
        status.items = [
            (i.name, i.strain_name or "")
            for i in items
            if wanted.search(i.name) or wanted.search(i.product_category_name or "")
        ]
        self._reference_read = self.clock()
