"""When the tray should tell a person something (docs/apexapi.md, "Notifications"). Pure.

A notice is due when a situation needing a person starts or changes: a held-back cycle, a
connection failing for more than two minutes, order lines the tracker could not place on any
package, a strain whose open orders want more than it has. At most one notice per kind per
ten minutes; a situation that lasts unchanged is told once.
"""

from __future__ import annotations

from datetime import datetime

from sync_engine.kinds import ConnectionState, NoticeKind, SheetsState
from sync_engine.status import EngineStatus, Notice

__all__ = ["CONNECTION_GRACE_SECONDS", "NOTICE_WINDOW_SECONDS", "Notifier"]

NOTICE_WINDOW_SECONDS = 600.0
CONNECTION_GRACE_SECONDS = 120.0


class Notifier:
    def __init__(self) -> None:
        self._told: dict[NoticeKind, str] = {}
        self._last: dict[NoticeKind, datetime] = {}

    def due(self, status: EngineStatus, now: datetime) -> list[Notice]:
        """The notices to show now (and remember as shown)."""
        notices = []
        for kind, (title, message) in _situations(status, now).items():
            if not message:
                self._told.pop(kind, None)  # over: the next one is news again
                continue
            last = self._last.get(kind)
            recent = last is not None and (now - last).total_seconds() < NOTICE_WINDOW_SECONDS
            if self._told.get(kind) == message or recent:
                continue
            self._told[kind], self._last[kind] = message, now
            notices.append(Notice(kind, title, message, now.isoformat(timespec="seconds")))
        return notices


def _situations(status: EngineStatus, now: datetime) -> dict[NoticeKind, tuple[str, str]]:
    failing = [
        f"{name}: {reason}"
        for name, state, reason, since in (
            ("PreRollTracker", status.tracker.state, status.tracker.reason, status.tracker.since),
            ("Apex Trading", status.apex.state, status.apex.reason, status.apex.since),
            (
                "Google Sheets",
                ConnectionState.FAILING
                if status.sheets.state == SheetsState.FAILING
                else ConnectionState.CONNECTED,
                status.sheets.reason,
                status.sheets.since,
            ),
        )
        if state == ConnectionState.FAILING and _older_than(since, now, CONNECTION_GRACE_SECONDS)
    ]
    unplaced = [
        f"{line.strain} {line.sku} (item {line.item_id}): {line.reason}"
        for line in status.unassigned_lines
        if not line.on_a_package
    ]
    short = ", ".join(f"{strain} ({units} short)" for strain, units in status.short_strains.items())
    return {
        NoticeKind.HELD_BACK: (
            "ApexAPI held back an update",
            status.held_back or "",
        ),
        NoticeKind.CONNECTION: (
            "ApexAPI cannot sync",
            "; ".join(failing),
        ),
        NoticeKind.UNASSIGNED_LINES: (
            "Order lines without a package",
            f"{len(unplaced)} order line(s) are on no package in the tracker: "
            + "; ".join(unplaced[:3])
            if unplaced
            else "",
        ),
        NoticeKind.OVERCOMMITTED: (
            "More ordered than in stock",
            f"Open orders want more than the tracker has: {short}" if short else "",
        ),
    }


def _older_than(since: str | None, now: datetime, seconds: float) -> bool:
    if since is None:
        return False
    try:
        started = datetime.fromisoformat(since)
    except ValueError:
        return False
    return (now - started).total_seconds() > seconds
