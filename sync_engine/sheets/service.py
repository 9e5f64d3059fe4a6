"""``PackingListSync``: one poll of the packing list, on Google Sheets or the Excel fallback.

Each poll reads the Packing List once, merges it with ApexAPI's rows and writes the changes in
one batch; History and Delivery are rewritten only when their content changed. When Sheets
fails (credentials, 403, 404, 429, outage) the same tabs are kept in the workbook at once; when
Sheets answers again, what changed in the workbook meanwhile is merged back into the sheet.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec

from sync_engine.actions import ReplaceTab
from sync_engine.config import GoogleSheets
from sync_engine.kinds import SheetsState
from sync_engine.orders.packing import Editable, PackingRow
from sync_engine.sheets.google_store import GoogleSheetsStore
from sync_engine.sheets.merge import (
    DELIVERY_HEADER,
    HISTORY_HEADER,
    PACKING_HEADER,
    plan_packing_sheet,
    week_of,
)
from sync_engine.sheets.stores import ExcelStore, PackingStore, StoreError
from sync_engine.status import SheetsStatus

__all__ = ["PackingListSync"]

log = logging.getLogger(__name__)
HEADERS = {"Packing List": PACKING_HEADER, "History": HISTORY_HEADER, "Delivery": DELIVERY_HEADER}
_RATE_LIMIT_PAUSE = 60.0


class PackingListSync:
    def __init__(
        self,
        settings: GoogleSheets,
        config_dir: Path,
        saved: dict[str, Any],
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.settings = settings
        # Kept in memory and handed back by ``saved()``: polls run on a worker thread and
        # never touch the engine's state file themselves.
        self.bases: dict[str, dict[str, dict[str, str]]] = dict(saved.get("bases") or {})
        self.shipped_on: dict[str, str] = dict(saved.get("shipped_on") or {})
        self._clock = clock
        self._today = today
        main = settings.packing_list_sheet_id
        ids = {
            "Packing List": main,
            "History": settings.history_sheet_id or main,
            "Delivery": settings.delivery_sheet_id or main,
        }
        self.primary: PackingStore | None = (
            GoogleSheetsStore(
                ids,
                config_dir / settings.credentials_path,
                settings.api_base_url,
                settings.auto_create_sheets,
            )
            if settings.enabled
            else None
        )
        excel = Path(settings.excel_path) if settings.excel_path else Path("packing_list.xlsx")
        self.fallback: PackingStore | None = (
            ExcelStore(excel if excel.is_absolute() else config_dir / excel)
            if settings.enabled and settings.fallback_to_excel
            else None
        )
        self.status = SheetsStatus()
        self._prepared: set[str] = set()
        self._paused_until = 0.0
        self._written: dict[tuple[str, str], str] = {}

    def saved(self) -> dict[str, Any]:
        """What to keep in the engine's state between runs."""
        return {"bases": self.bases, "shipped_on": self.shipped_on}

    def poll(self, rows: list[PackingRow]) -> dict[int, Editable]:
        """Sync once; returns the editable values to keep (the merge of both sides)."""
        if self.primary is not None and self._clock() >= self._paused_until:
            try:
                edits = self._sync(self.primary, rows)
                self._set(SheetsState.CONNECTED, self.primary.name, "")
                return edits
            except StoreError as exc:
                if exc.kind == "rate_limit":
                    self._paused_until = self._clock() + _RATE_LIMIT_PAUSE
                log.warning("Google Sheets: %s", exc)
                self._prepared.discard(self.primary.name)
                reason = str(exc)
        else:
            reason = self.status.reason
        if self.fallback is None:
            self._set(
                SheetsState.FAILING if self.primary is not None else SheetsState.OFF, "", reason
            )
            return {row.key: _editable(row) for row in rows}
        edits = self._sync(self.fallback, rows)
        self._set(
            SheetsState.FALLBACK if self.primary is not None else SheetsState.CONNECTED,
            self.fallback.name,
            reason,
        )
        return edits

    def _set(self, state: SheetsState, store: str, reason: str) -> None:
        if (state, store) != (self.status.state, self.status.store):
            self.status.since = datetime.now(UTC).isoformat(timespec="seconds")
        self.status.state, self.status.store, self.status.reason = state, store, reason

    def _sync(self, store: PackingStore, rows: list[PackingRow]) -> dict[int, Editable]:
        if store.name not in self._prepared:
            store.prepare(HEADERS)
            self._prepared.add(store.name)
            self._written = {k: v for k, v in self._written.items() if k[0] != store.name}
        plan = plan_packing_sheet(store.read("Packing List"), rows, self.bases.get(store.name, {}))
        actions = list(plan.actions)
        for tab, content in (("History", self._history(rows)), ("Delivery", self._delivery(rows))):
            digest = hashlib.sha256(msgspec.json.encode(content)).hexdigest()
            if self._written.get((store.name, tab)) != digest:
                actions.append(ReplaceTab(tab, content))
                self._written[(store.name, tab)] = digest
        if actions:
            store.apply(actions)
        self.bases[store.name] = plan.base
        for problem in sorted(set(plan.attention) - set(self.status.attention)):
            log.warning("packing list needs attention: %s", problem)  # once, not every poll
        self.status.attention, self.status.conflicts = plan.attention, plan.conflicts
        for conflict in plan.conflicts:
            log.warning("packing list conflict: %s", conflict)
        return plan.edits

    def _history(self, rows: list[PackingRow]) -> tuple[tuple[str, ...], ...]:
        shipped_on = self.shipped_on
        today = self._today()
        lines = []
        for row in rows:
            if row.state != "shipped":
                continue
            first_seen = shipped_on.setdefault(str(row.key), today.isoformat())
            week = week_of(row.delivery_date, date.fromisoformat(first_seen))
            lines.append((week, row))
        lines.sort(key=lambda item: (item[0], item[1].invoice, item[1].key))
        return (HISTORY_HEADER, *((*_packing_cells(row), week) for week, row in lines))

    @staticmethod
    def _delivery(rows: list[PackingRow]) -> tuple[tuple[str, ...], ...]:
        orders: dict[str, list[PackingRow]] = defaultdict(list)
        for row in rows:
            if row.state == "open":
                orders[row.invoice].append(row)
        out: list[tuple[str, ...]] = [DELIVERY_HEADER]
        for invoice, items in sorted(
            orders.items(), key=lambda kv: (kv[1][0].delivery_date, kv[0])
        ):
            first = items[0]
            packed = all(item.packed >= item.ordered for item in items)
            summary = ", ".join(f"{item.ordered} x {item.product}" for item in items)
            out.append(
                (
                    first.store,
                    invoice,
                    first.delivery_date,
                    summary,
                    "Packed" if packed else "Being packed",
                    first.delivery_notes,
                )
            )
        return tuple(out)


def _editable(row: PackingRow) -> Editable:
    return Editable(row.packed, row.delivery_date, row.delivery_notes, row.internal_notes)


def _packing_cells(row: PackingRow) -> tuple[str, ...]:
    return (
        row.product,
        row.store,
        str(row.ordered),
        str(row.packed),
        str(row.needs_production),
        str(row.needs_packing),
        row.delivery_date,
        row.delivery_notes,
        row.internal_notes,
        row.invoice,
        row.batch_no,
        row.date,
    )
