"""What the engine tells people: connections, the last cycle, problems, the Apex-vs-tracker
table, notices; kept in one :class:`StatusStore`.

The engine changes the status only inside ``StatusStore.change()`` (under a lock: the sheets
poll runs on a worker thread, the tray and the dashboard read from theirs); every change bumps
the version and wakes whoever waits for one, so the dashboard's event stream and the tray icon
are pushed to, never polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import msgspec

from sync_engine.actions import SetQuantity
from sync_engine.kinds import BatchState, ConnectionState, NoticeKind, SheetsState
from sync_engine.mapping.mapping import MappingProblem

__all__ = [
    "BatchRow",
    "ConnectionStatus",
    "EngineStatus",
    "LineProblem",
    "LoopFailure",
    "Notice",
    "Overall",
    "SheetsStatus",
    "StatusStore",
    "overall_state",
    "utc_now",
]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ConnectionStatus(msgspec.Struct):
    state: ConnectionState = ConnectionState.UNKNOWN
    reason: str = ""
    since: str | None = None

    def ok(self) -> None:
        if self.state != ConnectionState.CONNECTED:
            self.state, self.reason, self.since = ConnectionState.CONNECTED, "", utc_now()

    def failing(self, reason: str) -> None:
        if self.state != ConnectionState.FAILING or self.reason != reason:
            self.since = utc_now() if self.state != ConnectionState.FAILING else self.since
            self.state, self.reason = ConnectionState.FAILING, reason


class SheetsStatus(msgspec.Struct):
    store: str = ""  # "google_sheets", "excel" or "" before the first poll
    state: SheetsState = SheetsState.UNKNOWN
    reason: str = ""
    since: str | None = None
    attention: list[str] = msgspec.field(default_factory=list)
    conflicts: list[str] = msgspec.field(default_factory=list)


class LoopFailure(msgspec.Struct):
    """An engine loop that failed unexpectedly and is being restarted."""

    reason: str
    since: str
    failures: int


class BatchRow(msgspec.Struct, frozen=True, kw_only=True):
    """One mapped Apex batch against the tracker (docs/apexapi.md, "Apex vs tracker")."""

    batch_id: int
    product: str
    strain: str
    sku: str
    #: What Apex showed at the last listing or push (None: not known yet, or unlimited).
    apex_quantity: int | None
    #: What the tracker's units say it should show (None: nothing to push, see ``state``).
    target: int | None
    last_push: int | None = None
    last_push_at: str | None = None
    state: BatchState
    detail: str = ""


class LineProblem(msgspec.Struct, frozen=True, kw_only=True):
    """An order line the tracker could not fully cover."""

    item_id: int
    strain: str
    sku: str
    reason: str
    short_units: int = 0
    #: Whether any package holds grams for it (a short line) or none does.
    on_a_package: bool = False


class Notice(msgspec.Struct, frozen=True):
    """A tray notification: a person is needed."""

    kind: NoticeKind
    title: str
    message: str
    at: str


class EngineStatus(msgspec.Struct):
    tracker: ConnectionStatus = msgspec.field(default_factory=ConnectionStatus)
    apex: ConnectionStatus = msgspec.field(default_factory=ConnectionStatus)
    sync_enabled: bool = False
    dry_run: bool = False
    allocation: str = "shared"
    paused: bool = False
    lease_holder: str | None = None
    has_lease: bool = False
    last_cycle_at: str | None = None
    last_cycle_seconds: float | None = None
    batches_changed_last_cycle: int = 0
    batches_changed_total: int = 0
    batches_failed_last_cycle: int = 0
    next_run_in_seconds: float | None = None
    mapping_refreshed_at: str | None = None
    mapped_batches: int = 0
    problems: list[MappingProblem] = msgspec.field(default_factory=list)
    held_back: str | None = None
    #: The batches a held-back cycle would set to 0, listed for the person confirming it.
    zero_batches: list[SetQuantity] = msgspec.field(default_factory=list)
    orders_refreshed_at: str | None = None
    #: Seconds between order fetches now: shorter while orders are flowing.
    order_poll_seconds: float | None = None
    packing_rows: int = 0
    unassigned_lines: list[LineProblem] = msgspec.field(default_factory=list)
    #: Strains whose open order lines want more than they have (units short).
    short_strains: dict[str, int] = msgspec.field(default_factory=dict)
    sheets: SheetsStatus = msgspec.field(default_factory=SheetsStatus)
    #: Loops that failed unexpectedly (loop name → why); empty when all run.
    loop_failures: dict[str, LoopFailure] = msgspec.field(default_factory=dict)
    #: Every mapped Apex batch against the tracker's target.
    batches: list[BatchRow] = msgspec.field(default_factory=list)
    #: Batches someone changed in Apex by hand that the engine set back (newest last).
    drift_corrected: list[str] = msgspec.field(default_factory=list)
    #: The tray's recent notifications (newest last).
    notices: list[Notice] = msgspec.field(default_factory=list)


class StatusStore:
    """The one :class:`EngineStatus`, changed under a lock; readers get copies or wait."""

    def __init__(self, status: EngineStatus | None = None) -> None:
        self._status = status or EngineStatus()
        # Re-entrant: a log line written while the status changes wakes the readers too.
        self._lock = threading.RLock()
        self.version = 0
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    @contextlib.contextmanager
    def change(self) -> Iterator[EngineStatus]:
        """Change the status in place; everyone waiting hears of it when the block ends."""
        with self._lock:
            yield self._status
            self.version += 1
            waiters, self._waiters = self._waiters, []
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # a loop that closed meanwhile
                loop.call_soon_threadsafe(event.set)

    @contextlib.contextmanager
    def inspect(self) -> Iterator[EngineStatus]:
        """Look at the status in place, without a copy; it must not be changed or kept."""
        with self._lock:
            yield self._status

    def touch(self) -> None:
        """Something shown beside the status changed (a log line): wake the readers."""
        with self.change():
            pass

    def read(self) -> EngineStatus:
        """A copy, consistent as of one moment."""
        with self._lock:
            return msgspec.convert(msgspec.to_builtins(self._status), EngineStatus)

    def encoded(self) -> tuple[int, bytes]:
        """The version and the status as JSON, taken together."""
        with self._lock:
            return self.version, msgspec.json.encode(self._status)

    async def changed_since(self, version: int, timeout: float) -> bool:
        """Wait until the version moves past ``version`` (True) or ``timeout`` passes."""
        event = asyncio.Event()
        with self._lock:
            if self.version != version:
                return True
            self._waiters.append((asyncio.get_running_loop(), event))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        return self.version != version


class Overall(msgspec.Struct, frozen=True):
    """One colour for the whole app (the tray icon) and the sentence that explains it."""

    colour: str  # "green", "amber" or "red"
    reason: str


def overall_state(status: EngineStatus) -> Overall:
    """Red: a connection failing; amber: degraded, waiting or paused; green: all fine."""
    failing = [
        f"{name}: {conn.reason or 'failing'}"
        for name, conn in (("Tracker", status.tracker), ("Apex Trading", status.apex))
        if conn.state == ConnectionState.FAILING
    ]
    if status.sheets.state == SheetsState.FAILING:
        failing.append(f"Google Sheets: {status.sheets.reason or 'failing'}")
    failing += [
        f"ApexAPI's {name} loop failed ({failure.reason}); retrying"
        for name, failure in sorted(status.loop_failures.items())
    ]
    if failing:
        return Overall("red", "; ".join(failing))
    if status.paused:
        return Overall("amber", "Batch sync is paused")
    if status.held_back:
        return Overall("amber", status.held_back)
    if status.sheets.state == SheetsState.FALLBACK:
        return Overall("amber", f"Using the Excel workbook: {status.sheets.reason}")
    if ConnectionState.UNKNOWN in (status.tracker.state, status.apex.state):
        return Overall("amber", "Connecting")
    if not status.sync_enabled:
        return Overall("amber", "Batch inventory sync is off (batch_inventory_sync.enabled)")
    return Overall("green", "All connections fine")
