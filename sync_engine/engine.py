"""``SyncEngine``: keeps Apex batch quantities equal to the tracker's units.

Three tasks: the sync cycle (woken at once by the tracker's change feed, and every
``interval_seconds`` as a fallback), the change-feed watcher, and the lease keeper (only the
lease holder pushes). Failures back off (tracker: up to 10 s, Apex: up to 60 s) and never cause
a PATCH: a cycle only plans from a complete, decoded tracker answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from sync_engine.clients.apex import ApexClient
from sync_engine.clients.retry import backoff_delay
from sync_engine.clients.tracker import TrackerClient
from sync_engine.config import Config
from sync_engine.errors import ApexError, LeaseHeld, LeaseLost, TrackerError
from sync_engine.inventory.applier import apply_plan
from sync_engine.inventory.planner import plan_sync
from sync_engine.mapping.service import BatchMappingService
from sync_engine.orders.packing import Editable
from sync_engine.orders.service import OrdersService
from sync_engine.sheets.service import PackingListSync
from sync_engine.state import EngineState
from sync_engine.status import EngineStatus, utc_now
from sync_engine.tracker_models import CustomSku, PackageCalc

__all__ = ["LEASE_TTL_SECONDS", "SyncEngine"]

log = logging.getLogger(__name__)

LEASE_TTL_SECONDS = 30
TRACKER_BACKOFF_CAP = 10.0
APEX_BACKOFF_CAP = 60.0
_CUSTOM_SKU_KINDS = frozenset({"created", "custom_skus"})


class SyncEngine:
    def __init__(
        self,
        config: Config,
        tracker: TrackerClient,
        apex: ApexClient,
        state: EngineState,
        *,
        holder: str,
        long_poll_seconds: float = 25.0,
        use_change_feed: bool = True,
        config_dir: Path = Path(),
    ) -> None:
        self.config = config
        self.settings = config.batch_inventory_sync
        self.tracker = tracker
        self.apex = apex
        self.state = state
        self.holder = holder
        self.long_poll_seconds = long_poll_seconds
        self.use_change_feed = use_change_feed  # off only to measure pure polling (bench/)
        self.mapping = BatchMappingService(apex, state, self.settings.mapping_ttl_seconds)
        self.orders = OrdersService(config, apex, tracker, state)
        self.sheets = PackingListSync(config.google_sheets, config_dir, state.meta("sheets", {}))
        self._orders_wake = asyncio.Event()
        self.status = EngineStatus(
            sync_enabled=self.settings.enabled, dry_run=self.settings.dry_run
        )
        if not config.auto_refresh_enabled:  # no orders, so no packing list to keep
            self.status.sheets.state = "off"
            self.status.sheets.reason = "Off (auto_refresh_enabled is false: no orders fetched)"
        self._wake = asyncio.Event()
        self._etag: str | None = None
        self._packages: dict[str, PackageCalc] | None = None
        self._custom: dict[str, dict[str, CustomSku]] | None = None
        self._dirty = True
        self._cursor = 0
        self._allow_mass_zero = False
        self._tracker_failures = 0
        self._apex_failures = 0
        self._apex_checked: float | None = None
        self._apex_check: asyncio.Task[None] | None = None
        self.cycles = 0

    # -- commands (dashboard, tray menu) ---------------------------------------------------

    def sync_now(self) -> None:
        self._dirty = True
        self._wake.set()

    def pause(self) -> None:
        self.status.paused = True

    def resume(self) -> None:
        self.status.paused = False
        self.sync_now()

    def refresh_mapping(self) -> None:
        self.mapping.invalidate()
        self.sync_now()

    def confirm_mass_zero(self) -> None:
        """Push a held-back cycle that zeroes many batches, once."""
        self._allow_mass_zero = True
        self.sync_now()

    # -- running ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        # The lease first, so the first cycle already knows whether this installation pushes.
        if self.settings.enabled or self.config.auto_refresh_enabled:
            await self._take_lease()
        # Orders first: their reservations decide the units, so Apex never sees a count that
        # ignores open orders, not even for the first seconds.
        fresh_orders = self.config.auto_refresh_enabled and await self._sync_orders()
        tasks = [asyncio.create_task(self._cycle_loop(stop), name="sync-cycle")]
        if self.settings.enabled or self.config.auto_refresh_enabled:
            tasks.append(asyncio.create_task(self._keep_lease(stop), name="sync-lease"))
        if self.settings.enabled and self.use_change_feed:
            tasks.append(asyncio.create_task(self._watch_changes(stop), name="sync-changes"))
        if self.config.auto_refresh_enabled:
            tasks.append(
                asyncio.create_task(self._orders_loop(stop, skip_first=fresh_orders), name="orders")
            )
            tasks.append(asyncio.create_task(self._sheets_loop(stop), name="packing-list"))
        await stop.wait()
        if self._apex_check is not None:
            tasks.append(self._apex_check)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.status.has_lease:
            with contextlib.suppress(TrackerError):
                await self.tracker.release_lease(self.holder)
        self.state.flush()

    async def _cycle_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            delay = await self.cycle()
            self.status.next_run_in_seconds = round(delay, 3)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()

    async def cycle(self) -> float:
        """One sync cycle; returns the seconds until the next one."""
        interval = float(self.settings.interval_seconds)
        if not self.settings.enabled:
            await self._check_connections()
            return interval
        if self.status.paused:
            return interval
        started = time.monotonic()
        try:
            await self._read_tracker()
        except TrackerError as exc:
            self._tracker_failures += 1
            self.status.tracker.failing(str(exc))
            log.warning("tracker: %s", exc)
            # The Apex light must not wait for the tracker to return, nor the tracker's next
            # try for a slow Apex: the check runs beside the cycle.
            if self._apex_check is None or self._apex_check.done():
                self._apex_check = asyncio.create_task(self._check_apex(), name="apex-check")
            return backoff_delay(self._tracker_failures, TRACKER_BACKOFF_CAP)
        self._tracker_failures = 0
        self.status.tracker.ok()
        if not self.status.has_lease:
            return interval
        try:
            await self._push()
        except ApexError as exc:
            self._apex_failures += 1
            self._dirty = True
            self.status.apex.failing(str(exc))
            log.warning("Apex Trading: %s", exc)
            return backoff_delay(self._apex_failures, APEX_BACKOFF_CAP)
        finally:
            self.cycles += 1
            self.status.last_cycle_at = utc_now()
            self.status.last_cycle_seconds = round(time.monotonic() - started, 4)
        self._apex_failures = 0
        return interval

    async def _read_tracker(self) -> None:
        answer = await self.tracker.apex_calculate(self._etag)
        if answer is not None:
            self._packages, self._etag = answer
            self._dirty = True
        if self._custom is None:
            skus = await self.tracker.custom_skus()
            self._custom = {tag: package.custom_skus for tag, package in skus.items()}
            self._dirty = True

    async def _push(self) -> None:
        if self.mapping.stale():
            mapping = await self.mapping.refresh()
            self.status.mapping_refreshed_at = self.mapping.refreshed_at
            self.status.mapped_batches = mapping.batch_count
            self._dirty = True
        if not self._dirty or self._packages is None or self.mapping.mapping is None:
            return
        plan = plan_sync(
            self._packages,
            self._custom or {},
            self.mapping.mapping,
            self.state.confirmed(),
            max_zero_share=self.settings.max_zero_share,
            allow_mass_zero=self._allow_mass_zero,
        )
        self._allow_mass_zero = False
        self.status.problems = list(plan.problems)
        self.status.held_back = plan.held_back
        if plan.held_back:
            log.warning("%s", plan.held_back)
            return
        result = await apply_plan(plan, self.apex, self.state, dry_run=self.settings.dry_run)
        self.status.batches_changed_last_cycle = len(result.changed)
        self.status.batches_changed_total += len(result.changed)
        self.status.batches_failed_last_cycle = len(result.failed)
        if result.failed:
            first = next(iter(result.failed.values()))
            raise ApexError(f"{len(result.failed)} batch update(s) failed, e.g. {first}")
        self._dirty = False
        self.status.apex.ok()

    def refresh_orders(self) -> None:
        """Fetch orders and resend the packing data now (after an edit, or on demand)."""
        self._orders_wake.set()

    async def _sync_orders(self) -> bool:
        """Fetch what changed, rebuild the packing list, tell the tracker; False on failure."""
        try:
            await self.orders.refresh()
            self.status.apex.ok()
            if self.status.has_lease:
                await self._read_tracker()
                self.status.tracker.ok()
                await self._send_lines()
            self._report_orders()
            return True
        except (ApexError, TrackerError) as exc:
            peer = self.status.apex if isinstance(exc, ApexError) else self.status.tracker
            peer.failing(str(exc))
            log.warning("orders: %s", exc)
            return False

    async def _orders_loop(self, stop: asyncio.Event, *, skip_first: bool = False) -> None:
        failures = 0
        while not stop.is_set():
            delay = float(self.config.order_refresh_seconds)
            if skip_first:
                skip_first = False
            elif await self._sync_orders():
                failures = 0
            else:
                failures += 1
                delay = min(delay, backoff_delay(failures, APEX_BACKOFF_CAP))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._orders_wake.wait(), delay)
            self._orders_wake.clear()

    async def _sheets_loop(self, stop: asyncio.Event) -> None:
        """Poll the packing list; edits made there reach the tracker at once."""
        interval = float(self.config.google_sheets.poll_interval_seconds)
        while not stop.is_set():
            packing = self.orders.packing
            if packing is not None:
                try:
                    edits = await asyncio.to_thread(self.sheets.poll, packing.rows)
                    await self._keep_edits(edits)
                except (ApexError, TrackerError) as exc:
                    log.warning("packing list: %s", exc)
                except Exception:  # a bug in one poll must not stop the packing list
                    log.exception("packing list poll failed")
                self.status.sheets = self.sheets.status
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def _keep_edits(self, edits: dict[int, Editable]) -> None:
        current = self.state.edits()
        changed = {key: edit for key, edit in edits.items() if current.get(key, Editable()) != edit}
        for key, edit in changed.items():
            self.state.save_edit(key, edit)
        self.state.set_meta("sheets", self.sheets.saved())
        self.state.flush()
        if changed and self.status.has_lease:
            await self._read_tracker()
            await self._send_lines()
            self._report_orders()

    async def _send_lines(self) -> None:
        """Send the order lines; a tracker that says the lease moved on ends pushing here."""
        try:
            await self.orders.sync(self._packages or {}, self._custom or {}, self.holder)
        except LeaseLost as lost:
            log.warning("%s", lost)
            self.status.has_lease, self.status.lease_holder = False, lost.holder or ""

    def edit_row(self, key: int, edit: Editable) -> None:
        """A dashboard edit of a packing-list row: kept, then merged into the sheet."""
        self.state.save_edit(key, edit)
        self.state.flush()
        self.refresh_orders()

    def _report_orders(self) -> None:
        packing = self.orders.packing
        self.status.orders_refreshed_at = self.orders.refreshed_at
        self.status.unassigned_lines = list(self.orders.unassigned)
        if packing is not None:
            self.status.packing_rows = sum(1 for row in packing.rows if row.state == "open")

    async def _check_connections(self) -> None:
        """With sync disabled, still tell the dashboard whether both peers answer."""
        try:
            await self.tracker.overview()
            self.status.tracker.ok()
        except TrackerError as exc:
            self.status.tracker.failing(str(exc))
        await self._check_apex()

    async def _check_apex(self) -> None:
        """Ask Apex whether the token works, at most once per mapping lifetime, when nothing
        else talks to it (sync disabled, or the tracker unreachable)."""
        now = time.monotonic()
        if (
            self._apex_checked is None
            or now - self._apex_checked >= self.settings.mapping_ttl_seconds
        ):
            self._apex_checked = now
            try:
                await self.apex.welcome()
                self.status.apex.ok()
            except ApexError as exc:
                self.status.apex.failing(str(exc))

    async def _take_lease(self) -> None:
        try:
            await self.tracker.take_lease(self.holder, LEASE_TTL_SECONDS)
        except LeaseHeld as held:
            if self.status.has_lease or self.status.lease_holder != held.holder:
                log.info("sync handled by %s", held.holder)
            self.status.has_lease, self.status.lease_holder = False, held.holder
            return
        except TrackerError as exc:
            self.status.tracker.failing(str(exc))
            return
        if not self.status.has_lease:
            log.info("sync lease taken by %s", self.holder)
            self._dirty = True
            self.orders.resend()  # another holder may have sent other lines meanwhile
        self.status.has_lease, self.status.lease_holder = True, self.holder

    async def _keep_lease(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(LEASE_TTL_SECONDS / 3)
            had = self.status.has_lease
            await self._take_lease()
            if self.status.has_lease and not had:
                self._wake.set()

    async def _watch_changes(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                feed = await self.tracker.changes(self._cursor, self.long_poll_seconds)
            except TrackerError:
                failures += 1
                await asyncio.sleep(backoff_delay(failures, TRACKER_BACKOFF_CAP))
                continue
            failures = 0
            if feed.changes:
                if any(change.kind in _CUSTOM_SKU_KINDS for change in feed.changes):
                    self._custom = None
                self._wake.set()
            self._cursor = feed.cursor
