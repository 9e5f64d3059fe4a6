"""``SyncEngine``: a small scheduler over snapshot → planners → applier (docs/apexapi.md,
"How the engine works").

One :class:`~sync_engine.snapshot.SnapshotReader` reads the tracker, Apex and the local state
into a frozen snapshot; pure planners turn it into actions (inventory, order lines, the
sheet); one :class:`~sync_engine.applier.Applier` performs them and records the results; the
:class:`~sync_engine.status.StatusStore` pushes every change to the dashboard and the tray.

The loops, each under one :class:`~sync_engine.supervisor.Supervisor` (none can stop
silently): the sync cycle (woken at once by the tracker's change feed, and every
``interval_seconds`` as a fallback), the change-feed watcher, the lease keeper (only the lease
holder pushes, and only while it can prove it holds the lease), the order refresh (every 5 s
while orders are flowing), the packing-list poll and the notices. Failures back off (tracker:
up to 10 s, Apex: up to 60 s) and never cause a PATCH: a cycle plans only from a complete,
decoded tracker answer that already counts the order lines last sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from sync_engine.applier import Applier, ApplyResult
from sync_engine.clients.apex import ApexClient
from sync_engine.clients.retry import backoff_delay
from sync_engine.clients.tracker import TrackerClient
from sync_engine.config import Config
from sync_engine.errors import ApexError, LeaseLost, TrackerError
from sync_engine.kinds import Command, ProblemKind, SheetsState
from sync_engine.lease import LeaseKeeper
from sync_engine.mapping.service import BatchMappingService
from sync_engine.notices import Notifier
from sync_engine.orders.packing import Editable, Packing
from sync_engine.orders.service import OrdersService
from sync_engine.planners.inventory import InventoryPlan, InventorySettings, plan_inventory
from sync_engine.planners.order_lines import plan_order_lines
from sync_engine.reconcile import batch_rows
from sync_engine.sheets.service import PackingListSync
from sync_engine.snapshot import SnapshotReader
from sync_engine.state import EngineState
from sync_engine.status import EngineStatus, LineProblem, StatusStore, utc_now
from sync_engine.supervisor import Supervisor
from sync_engine.tracker_models import OrderLinesAnswer

__all__ = [
    "FLOWING_POLL_SECONDS",
    "FLOWING_WINDOW_SECONDS",
    "LEASE_TTL_SECONDS",
    "SyncEngine",
]

log = logging.getLogger(__name__)

LEASE_TTL_SECONDS = 30
TRACKER_BACKOFF_CAP = 10.0
APEX_BACKOFF_CAP = 60.0
#: While an order changed within this many seconds, orders are fetched every ...
FLOWING_WINDOW_SECONDS = 600.0
#: ... this many seconds (demand comes in bursts).
FLOWING_POLL_SECONDS = 5.0
NOTICE_CHECK_SECONDS = 2.0
_NOTICE_LOG = 20


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
        self.orders = OrdersService(config, apex, state)
        self.reader = SnapshotReader(tracker, self.mapping, self.orders, state)
        self.status_store = StatusStore(
            EngineStatus(
                sync_enabled=self.settings.enabled,
                dry_run=self.settings.dry_run,
                allocation=self.settings.allocation,
            )
        )
        self.applier = Applier(
            apex,
            tracker,
            state,
            self.status_store,
            holder=holder,
            fence=lambda: self.lease.held,
            on_pushed=self.reader.pushed,
            on_lines_sent=self.reader.lines_sent,
        )
        self.sheets = PackingListSync(config.google_sheets, config_dir, state.meta("sheets", {}))
        self.inventory_settings = InventorySettings(
            allocation=self.settings.allocation,
            split_shares=self.settings.split_shares,
            max_zero_share=self.settings.max_zero_share,
        )
        if not config.auto_refresh_enabled:  # no orders, so no packing list to keep
            with self.status_store.change() as status:
                status.sheets.state = SheetsState.OFF
                status.sheets.reason = "Off (auto_refresh_enabled is false: no orders fetched)"
        self.packing: Packing | None = None
        self.notifier = Notifier()
        self._wake = asyncio.Event()
        self._orders_wake = asyncio.Event()
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
        self._order_seen_at: float | None = None
        self._orders_loaded = False  # the first fetch loads what is there: not "flowing"
        self.flowing_poll_seconds = FLOWING_POLL_SECONDS  # the benchmarks scale these
        self.flowing_window_seconds = FLOWING_WINDOW_SECONDS
        self._last_plan: InventoryPlan | None = None
        self.cycles = 0

    @property
    def status(self) -> EngineStatus:
        """A copy of the status as of now (change it through ``status_store``)."""
        return self.status_store.read()

    # -- commands (dashboard, tray menu, control channel) ----------------------------------

    def command(self, command: Command) -> None:
        match command:
            case Command.SYNC_NOW:
                self.sync_now()
            case Command.PAUSE:
                self.pause()
            case Command.RESUME:
                self.resume()
            case Command.REFRESH_MAPPING:
                self.refresh_mapping()
            case Command.REFRESH_ORDERS:
                self.refresh_orders()
            case Command.CONFIRM_ZERO:
                self.confirm_mass_zero()

    def sync_now(self) -> None:
        self._dirty = True
        self._wake.set()

    def pause(self) -> None:
        with self.status_store.change() as status:
            status.paused = True

    def resume(self) -> None:
        with self.status_store.change() as status:
            status.paused = False
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
        self.reader.edited()
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
        loops = Supervisor(self.status_store, stop)
        loops.start("sync cycle", self._cycle_step, self._wake)
        if pushes:
            loops.start("sync lease", self._lease_step, first_delay=self.lease.ttl / 3)
        if self.settings.enabled and self.use_change_feed:
            loops.start("change feed", self._changes_step)
        if self.config.auto_refresh_enabled:
            loops.start("orders", self._orders_step, self._orders_wake, first_delay=orders_delay)
            loops.start("packing list", self._sheets_step)
        loops.start("notices", self._notices_step)
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
        holder = self.holder if held else self.lease.other
        status = self.status_store
        with status.change() as now:
            now.has_lease, now.lease_holder = held, holder

    async def _lease_step(self) -> float:
        try:
            taken = await self.lease.renew()
        except TrackerError as exc:
            with self.status_store.change() as status:
                status.tracker.failing(str(exc))
            taken = False
        if taken:
            self._dirty = True
            self.reader.resend_lines()  # another holder may have sent other lines meanwhile
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
            self._wake.set()
        self._cursor = feed.cursor
        return 0.0

    # -- the sync cycle --------------------------------------------------------------------

    async def _cycle_step(self) -> float:
        delay = await self.cycle()
        with self.status_store.change() as status:
            status.next_run_in_seconds = round(delay, 3)
        return delay

    async def cycle(self) -> float:
        """One sync cycle; returns the seconds until the next one."""
        interval = float(self.settings.interval_seconds)
        self._show_lease()
        if not self.settings.enabled:
            await self._check_connections()
            return interval
        with self.status_store.inspect() as now:
            paused = now.paused
        if paused:
            return interval
        started = time.monotonic()
        try:
            if await self.reader.read_tracker():
                self._dirty = True
        except TrackerError as exc:
            self._tracker_failures += 1
            with self.status_store.change() as status:
                status.tracker.failing(str(exc))
            log.warning("tracker: %s", exc)
            # The Apex light must not wait for the tracker to return, nor the tracker's next
            # try for a slow Apex: the check runs beside the cycle.
            if self._apex_check is None or self._apex_check.done():
                self._apex_check = asyncio.create_task(self._check_apex(), name="apex-check")
            return backoff_delay(self._tracker_failures, TRACKER_BACKOFF_CAP)
        self._tracker_failures = 0
        with self.status_store.change() as status:
            status.tracker.ok()
        if not self.lease.held:
            return interval
        try:
            await self._push()
        except ApexError as exc:
            self._apex_failures += 1
            self._dirty = True
            with self.status_store.change() as status:
                status.apex.failing(str(exc))
            log.warning("Apex Trading: %s", exc)
            return backoff_delay(self._apex_failures, APEX_BACKOFF_CAP)
        finally:
            self.cycles += 1
            with self.status_store.change() as status:
                status.last_cycle_at = utc_now()
                status.last_cycle_seconds = round(time.monotonic() - started, 4)
        self._apex_failures = 0
        return interval

    async def _push(self) -> None:
        if self.mapping.stale():
            mapping = await self.reader.refresh_mapping()
            with self.status_store.change() as status:
                status.mapping_refreshed_at = self.mapping.refreshed_at
                status.mapped_batches = mapping.batch_count
            self._reported_unmatched.clear()
            self._dirty = True
        snapshot = self.reader.current
        if not self._dirty or snapshot.tracker is None or snapshot.mapping is None:
            return
        if not snapshot.units_count_the_lines:
            self._wake.set()  # order lines were sent meanwhile: read their units first
            return
        plan = plan_inventory(
            snapshot.tracker.packages,
            snapshot.mapping,
            self.state.confirmed(),
            self.inventory_settings,
            demand=snapshot.demand,
            allow_mass_zero=self._allow_mass_zero,
        )
        self._allow_mass_zero = False
        self._report_plan(plan)
        result = await self.applier.inventory(plan.actions, dry_run=self.settings.dry_run)
        self._record(plan, result)

    def _report_plan(self, plan: InventoryPlan) -> None:
        with self.status_store.change() as status:
            status.problems = list(plan.problems)
        # The guide's troubleshooting tells users to look for this in the log: once per strain
        # per mapping refresh.
        for problem in plan.problems:
            if (
                problem.kind == ProblemKind.UNMATCHED_STRAIN
                and problem.strain not in self._reported_unmatched
            ):
                self._reported_unmatched.add(problem.strain)
                log.warning("%s", problem.detail)

    def _record(self, plan: InventoryPlan, result: ApplyResult) -> None:
        self._last_plan = plan
        if result.gone:
            self.mapping.drop(result.gone)  # and list every batch at once: a replacement?
            self.reader.forget(set(result.gone))
            self._wake.set()
        self._show_batches()
        with self.status_store.change() as status:
            status.batches_changed_last_cycle = len(result.changed)
            status.batches_changed_total += len(result.changed)
            status.batches_failed_last_cycle = len(result.failed)
        if result.failed:
            first = next(iter(result.failed.values()))
            raise ApexError(f"{len(result.failed)} batch update(s) failed, e.g. {first}")
        self._dirty = bool(result.gone or result.abandoned)
        with self.status_store.change() as status:
            status.apex.ok()

    def _show_batches(self) -> None:
        """The Apex-vs-tracker table, from the snapshot and the last plan."""
        snapshot, plan = self.reader.current, self._last_plan
        if snapshot.mapping is None or plan is None:
            return
        rows = batch_rows(
            snapshot.mapping,
            plan.targets,
            snapshot.apex_shows,
            snapshot.drifted,
            self.state.pushes(),
            plan.problems,
            plan.held_back,
        )
        with self.status_store.change() as status:
            status.batches = rows

    # -- orders and the packing list ---------------------------------------------------------

    def _order_poll_seconds(self) -> float:
        """Every ``order_refresh_seconds``; every 5 s while orders are flowing."""
        quiet = float(self.config.order_refresh_seconds)
        seen = self._order_seen_at
        if seen is not None and time.monotonic() - seen < self.flowing_window_seconds:
            return min(quiet, self.flowing_poll_seconds)
        return quiet

    async def _orders_step(self) -> float:
        """Fetch what changed, tell the tracker, rebuild the packing list."""
        try:
            changed = await self.reader.refresh_orders()
            if changed and self._orders_loaded:
                self._order_seen_at = time.monotonic()
            self._orders_loaded = True
            with self.status_store.change() as status:
                status.apex.ok()
            if self.lease.held:
                # With nothing new from Apex, the sync cycle keeps the tracker's numbers
                # fresh; read them here only when it does not run or the lines may change.
                if changed or not self.settings.enabled or self.reader.current.tracker is None:
                    await self.reader.read_tracker()
                with self.status_store.change() as status:
                    status.tracker.ok()
                await self._send_lines()
            self._report_orders()
        except (ApexError, TrackerError) as exc:
            with self.status_store.change() as status:
                peer = status.apex if isinstance(exc, ApexError) else status.tracker
                peer.failing(str(exc))
            log.warning("orders: %s", exc)
            self._order_failures += 1
            return min(self._order_poll_seconds(), backoff_delay(self._order_failures, 60.0))
        self._order_failures = 0
        return self._order_poll_seconds()

    async def _send_lines(self) -> None:
        """Send the order lines if they changed; a tracker that says the lease moved on ends
        pushing here. The packing list is then built from units that count the lines."""
        packing, put = plan_order_lines(self.reader.current)
        if put is not None and self.lease.held:
            try:
                answer = await self.applier.put_lines(put)
            except LeaseLost as lost:
                log.warning("%s", lost)
                self.lease.lost(lost.holder)
                self._show_lease()
                answer = None
            if answer is not None:
                self._report_lines(answer)
                # The units changed with the reservations just made: read them again, so
                # Needs Production is counted from what the tracker holds now.
                await self.reader.read_tracker()
                self._dirty = True
                self._wake.set()
                packing, _ = plan_order_lines(self.reader.current)
        self.packing = packing

    def _report_lines(self, answer: OrderLinesAnswer) -> None:
        placed = {line.item_id: line.metrc_number for line in answer.lines}
        problems = [
            LineProblem(
                item_id=u.item_id,
                strain=u.strain,
                sku=u.sku,
                reason=u.reason,
                short_units=u.short_units,
                on_a_package=placed.get(u.item_id) is not None,
            )
            for u in answer.unassigned
        ]
        short: dict[str, int] = {}
        for problem in problems:
            if problem.short_units:
                short[problem.strain] = short.get(problem.strain, 0) + problem.short_units
        with self.status_store.change() as status:
            status.unassigned_lines = problems
            status.short_strains = short

    def _report_orders(self) -> None:
        packing = self.packing
        with self.status_store.change() as status:
            status.orders_refreshed_at = self.orders.refreshed_at
            status.order_poll_seconds = self._order_poll_seconds()
            if packing is not None:
                status.packing_rows = sum(1 for row in packing.rows if row.state == "open")

    async def _sheets_step(self) -> float:
        """Poll the packing list; edits made there reach the tracker at once."""
        interval = float(self.config.google_sheets.poll_interval_seconds)
        packing = self.packing
        if packing is None:
            return interval
        try:
            edits = await asyncio.to_thread(self.sheets.poll, packing.rows)
            await self._keep_edits(edits)
        except (ApexError, TrackerError) as exc:
            log.warning("packing list: %s", exc)
        finally:
            with self.status_store.change() as status:
                status.sheets = self.sheets.status
        return interval

    async def _keep_edits(self, edits: dict[int, Editable]) -> None:
        current = self.reader.current.edits
        changed = {key: edit for key, edit in edits.items() if current.get(key, Editable()) != edit}
        for key, edit in changed.items():
            self.state.save_edit(key, edit)
        self.state.set_meta("sheets", self.sheets.saved())
        self.state.flush()
        if changed:
            self.reader.edited()
            if self.lease.held:
                await self.reader.read_tracker()
                await self._send_lines()
                self._report_orders()

    # -- notices -----------------------------------------------------------------------------

    async def _notices_step(self) -> float:
        with self.status_store.inspect() as status:
            due = self.notifier.due(status, datetime.now(UTC))
        if due:
            for notice in due:
                log.warning("notice: %s: %s", notice.title, notice.message)
            with self.status_store.change() as status:
                status.notices = (status.notices + due)[-_NOTICE_LOG:]
        return NOTICE_CHECK_SECONDS

    # -- connection checks -----------------------------------------------------------------

    async def _check_connections(self) -> None:
        """With sync disabled, still tell the dashboard whether both peers answer."""
        try:
            await self.tracker.overview()
            with self.status_store.change() as status:
                status.tracker.ok()
        except TrackerError as exc:
            with self.status_store.change() as status:
                status.tracker.failing(str(exc))
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
                with self.status_store.change() as status:
                    status.apex.ok()
            except ApexError as exc:
                with self.status_store.change() as status:
                    status.apex.failing(str(exc))
