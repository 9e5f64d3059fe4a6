"""What the engine tells the dashboard: per-connection state and the last sync cycle."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from sync_engine.inventory.planner import SetQuantity
from sync_engine.mapping.mapping import MappingProblem
from sync_engine.sheets.service import SheetsStatus

__all__ = [
    "ConnectionStatus",
    "EngineStatus",
    "LoopFailure",
    "Overall",
    "overall_state",
    "utc_now",
]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ConnectionStatus(msgspec.Struct):
    state: str = "unknown"  # "connected", "failing", "unknown"
    reason: str = ""
    since: str | None = None

    def ok(self) -> None:
        if self.state != "connected":
            self.state, self.reason, self.since = "connected", "", utc_now()

    def failing(self, reason: str) -> None:
        if self.state != "failing" or self.reason != reason:
            self.since = utc_now() if self.state != "failing" else self.since
            self.state, self.reason = "failing", reason


class LoopFailure(msgspec.Struct):
    """An engine loop that failed unexpectedly and is being restarted."""

    reason: str
    since: str
    failures: int


class EngineStatus(msgspec.Struct):
    tracker: ConnectionStatus = msgspec.field(default_factory=ConnectionStatus)
    apex: ConnectionStatus = msgspec.field(default_factory=ConnectionStatus)
    sync_enabled: bool = False
    dry_run: bool = False
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
    packing_rows: int = 0
    unassigned_lines: list[str] = msgspec.field(default_factory=list)
    sheets: SheetsStatus = msgspec.field(default_factory=SheetsStatus)
    #: Loops that failed unexpectedly (loop name → why); empty when all run.
    loop_failures: dict[str, LoopFailure] = msgspec.field(default_factory=dict)


class Overall(msgspec.Struct, frozen=True):
    """One colour for the whole app (the tray icon) and the sentence that explains it."""

    colour: str  # "green", "amber" or "red"
    reason: str


def overall_state(status: EngineStatus) -> Overall:
    """Red: a connection failing; amber: degraded, waiting or paused; green: all fine."""
    failing = [
        f"{name}: {conn.reason or 'failing'}"
        for name, conn in (("Tracker", status.tracker), ("Apex Trading", status.apex))
        if conn.state == "failing"
    ]
    if status.sheets.state == "failing":
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
    if status.sheets.state == "fallback":
        return Overall("amber", f"Using the Excel workbook: {status.sheets.reason}")
    if "unknown" in (status.tracker.state, status.apex.state):
        return Overall("amber", "Connecting")
    if not status.sync_enabled:
        return Overall("amber", "Batch inventory sync is off (batch_inventory_sync.enabled)")
    return Overall("green", "All connections fine")
