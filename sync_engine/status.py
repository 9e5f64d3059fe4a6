"""What the engine tells the dashboard: per-connection state and the last sync cycle."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from sync_engine.mapping.mapping import MappingProblem
from sync_engine.sheets.service import SheetsStatus

__all__ = ["ConnectionStatus", "EngineStatus", "utc_now"]


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
    orders_refreshed_at: str | None = None
    packing_rows: int = 0
    unassigned_lines: list[str] = msgspec.field(default_factory=list)
    sheets: SheetsStatus = msgspec.field(default_factory=SheetsStatus)
