"""``SyncEngine``: keeps Apex batch quantities equal to the tracker's units.

Its loops run under one :class:`~sync_engine.supervisor.Supervisor` (none can stop silently):
the sync cycle (woken at once by the tracker's change feed, and every ``interval_seconds`` as a
fallback), the change-feed watcher, the lease keeper (only the lease holder pushes, and only
while it can prove it holds the lease), the order refresh and the packing-list poll. Failures
back off (tracker: up to 10 s, Apex: up to 60 s) and never cause a PATCH: a cycle only plans
from a complete, decoded tracker answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from sync_engine.clients.apex import ApexClient
from sync_engine.clients.retry import backoff_delay
from sync_engine.clients.tracker import TrackerClient
from sync_engine.config import Config
from sync_engine.errors import ApexError, LeaseLost, TrackerError
from sync_engine.inventory.applier import ApplyResult, apply_plan
from sync_engine.inventory.planner import Plan, plan_sync
from sync_engine.lease import LeaseKeeper
from sync_engine.mapping.service import BatchMappingService
from sync_engine.orders.packing import Editable
from sync_engine.orders.service import OrdersService
from sync_engine.sheets.service import PackingListSync
from sync_engine.state import EngineState
from sync_engine.status import EngineStatus, utc_now
from sync_engine.supervisor import Supervisor
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
        lease_ttl_seconds: float = LEASE_TTL_SECONDS,
    ) -> None:
        self.config = config
        self.settings = config.batch_inventory_sync
        self.tracker = tracker
        self.apex = apex
        self.state = state
        self.holder = holder
        self.long_poll_seconds = long_poll_seconds
        self.use_change_feed = use_change_feed  # off only to measure pure polling (bench/)
        self.lease = LeaseKeeper(tracker, holder, lease_ttl_seconds)
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
        self._order_failures = 0
        self._change_failures = 0
        self._apex_checked: float | None = None
        self._apex_check: asyncio.Task[None] | None = None
        self._reported_unmatched: set[str] = set()
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

    def refresh_orders(self) -> None:
        """Fetch orders and resend the packing data now (after an edit, or on demand)."""
        self._orders_wake.set()

    def edit_row(self, key: int, edit: Editable) -> None:
        """A dashboard edit of a packing-list row: kept, then merged into the sheet."""
        self.state.save_edit(key, edit)
        self.state.flush()
        self.refresh_orders()

    # -- running ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        pushes = self.settings.enabled or self.config.auto_refresh_enabled
        # The lease first, so the first cycle already knows whether this installation pushes.
        if pushes:
            await self._lease_step()
        # Orders first: their reservations decide the units, so Apex never sees a count that
        # ignores open orders, not even for the first seconds.
        orders_delay = 0.0
        if self.config.auto_refresh_enabled:
            try:
                orders_delay = await self._orders_step()
            except Exception:  # the supervised loop below reports it and tries again
                log.exception("the first order refresh failed")
        loops = Supervisor(self.status, stop)
        loops.start("sync cycle", self._cycle_step, self._wake)
        if pushes:
            loops.start("sync lease", self._lease_step, first_delay=self.lease.ttl / 3)
        if self.settings.enabled and self.use_change_feed:
            loops.start("change feed", self._changes_step)
        if self.config.auto_refresh_enabled:
            loops.start("orders", self._orders_step, self._orders_wake, first_delay=orders_delay)
            loops.start("packing list", self._sheets_step)
        try:
            await stop.wait()
        finally:
            if self._apex_check is not None:
                loops.tasks.append(self._apex_check)
            await loops.stop()
            await self.lease.release()
            self._show_lease()
            self.state.flush()

    def _show_lease(self) -> None:
        """What the dashboard shows of the lease (the fence itself is ``self.lease.held``)."""
        held = self.lease.held
        self.status.has_lease = held
        self.status.lease_holder = self.holder if held else self.lease.other

    async def _lease_step(self) -> float:
        try:
            taken = await self.lease.renew()
        except TrackerError as exc:
            self.status.tracker.failing(str(exc))
            taken = False
        if taken:
            self._dirty = True
            self.orders.resend()  # another holder may have sent other lines meanwhile
            self._wake.set()
        self._show_lease()
        return self.lease.ttl / 3

    async def _changes_step(self) -> float:
        try:
            feed = await self.tracker.changes(self._cursor, self.long_poll_seconds)
        except TrackerError:
            self._change_failures += 1
            return backoff_delay(self._change_failures, TRACKER_BACKOFF_CAP)
        self._change_failures = 0
        if feed.changes:
            if any(change.kind in _CUSTOM_SKU_KINDS for change in feed.changes):
                self._custom = None
            self._wake.set()
        self._cursor = feed.cursor
        return 0.0

    # -- the sync cycle --------------------------------------------------------------------

    async def _cycle_step(self) -> float:
        delay = await self.cycle()
        self.status.next_run_in_seconds = round(delay, 3)
        return delay

    async def cycle(self) -> float:
        """One sync cycle; returns the seconds until the next one."""
        interval = float(self.settings.interval_seconds)
        self._show_lease()
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
        if not self.lease.held:
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
            self._reported_unmatched.clear()
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
        self._report_plan(plan)
        if plan.held_back:
            log.warning("%s", plan.held_back)
            return
        result = await apply_plan(
            plan,
            self.apex,
            self.state,
            dry_run=self.settings.dry_run,
            fence=lambda: self.lease.held,
        )
        self._record(result)

    def _report_plan(self, plan: Plan) -> None:
        self.status.problems = list(plan.problems)
        self.status.held_back = plan.held_back
        self.status.zero_batches = list(plan.zeroing) if plan.held_back else []
        # The guide's troubleshooting tells users to look for this in the log: once per strain
        # per mapping refresh.
        for problem in plan.problems:
            if (
                problem.kind == "unmatched_strain"
                and problem.strain not in self._reported_unmatched
            ):
                self._reported_unmatched.add(problem.strain)
                log.warning("%s", problem.detail)

    def _record(self, result: ApplyResult) -> None:
        self.status.batches_changed_last_cycle = len(result.changed)
        self.status.batches_changed_total += len(result.changed)
        self.status.batches_failed_last_cycle = len(result.failed)
        if result.gone:
            self.mapping.drop(result.gone)  # and list every batch at once: a replacement?
            self._wake.set()
        if result.failed:
            first = next(iter(result.failed.values()))
            raise ApexError(f"{len(result.failed)} batch update(s) failed, e.g. {first}")
        self._dirty = bool(result.gone or result.abandoned)
        self.status.apex.ok()

    # -- orders and the packing list ---------------------------------------------------------

    async def _orders_step(self) -> float:
        """Fetch what changed, rebuild the packing list, tell the tracker."""
        delay = float(self.config.order_refresh_seconds)
        try:
            await self.orders.refresh()
            self.status.apex.ok()
            if self.lease.held:
                await self._read_tracker()
                self.status.tracker.ok()
                await self._send_lines()
            self._report_orders()
        except (ApexError, TrackerError) as exc:
            peer = self.status.apex if isinstance(exc, ApexError) else self.status.tracker
            peer.failing(str(exc))
            log.warning("orders: %s", exc)
            self._order_failures += 1
            return min(delay, backoff_delay(self._order_failures, APEX_BACKOFF_CAP))
        self._order_failures = 0
        return delay

    async def _sheets_step(self) -> float:
        """Poll the packing list; edits made there reach the tracker at once."""
        interval = float(self.config.google_sheets.poll_interval_seconds)
        packing = self.orders.packing
        if packing is None:
            return interval
        try:
            edits = await asyncio.to_thread(self.sheets.poll, packing.rows)
            await self._keep_edits(edits)
        except (ApexError, TrackerError) as exc:
            log.warning("packing list: %s", exc)
        finally:
            self.status.sheets = self.sheets.status
        return interval

    async def _keep_edits(self, edits: dict[int, Editable]) -> None:
        current = self.state.edits()
        changed = {key: edit for key, edit in edits.items() if current.get(key, Editable()) != edit}
        for key, edit in changed.items():
            self.state.save_edit(key, edit)
        self.state.set_meta("sheets", self.sheets.saved())
        self.state.flush()
        if changed and self.lease.held:
            await self._read_tracker()
            await self._send_lines()
            self._report_orders()

    async def _send_lines(self) -> None:
        """Send the order lines; a tracker that says the lease moved on ends pushing here."""
        if not self.lease.held:
            return
        try:
            await self.orders.sync(self._packages or {}, self._custom or {}, self.holder)
        except LeaseLost as lost:
            log.warning("%s", lost)
            self.lease.lost(lost.holder)
            self._show_lease()

    def _report_orders(self) -> None:
        packing = self.orders.packing
        self.status.orders_refreshed_at = self.orders.refreshed_at
        self.status.unassigned_lines = list(self.orders.unassigned)
        if packing is not None:
            self.status.packing_rows = sum(1 for row in packing.rows if row.state == "open")

    # -- connection checks -----------------------------------------------------------------

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
