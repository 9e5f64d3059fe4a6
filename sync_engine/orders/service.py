"""``OrdersService``: fetch orders incrementally, keep them, tell the tracker what is ordered and
packed, and produce the packing list. Apex is asked only for what changed since last time."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import msgspec

from sync_engine.clients.apex import ApexClient
from sync_engine.clients.tracker import TrackerClient
from sync_engine.config import Config
from sync_engine.orders.classify import OrderState, first_order_date, order_state
from sync_engine.orders.models import ApexOrder
from sync_engine.orders.packing import Packing, Placement, build_packing
from sync_engine.state import EngineState
from sync_engine.tracker_models import CustomSku, PackageCalc

__all__ = ["OrdersService"]

log = logging.getLogger(__name__)
_OVERLAP = timedelta(seconds=2)


class OrdersService:
    def __init__(
        self,
        config: Config,
        apex: ApexClient,
        tracker: TrackerClient,
        state: EngineState,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.config = config
        self.apex = apex
        self.tracker = tracker
        self.state = state
        self._today = today
        self.packing: Packing | None = None
        self.unassigned: list[str] = []
        self.refreshed_at: str | None = None

    def _since_text(self) -> str:
        """Where this fetch starts: the last one's newest change, or the configured start
        when that moved earlier than anything fetched so far (it then fetches the older
        orders once)."""
        start = first_order_date(self.config.api_initial_sync_date, self._today()).isoformat()
        fetched_from = self.state.meta("orders_fetched_from")
        stored = self.state.meta("orders_since")
        if stored and fetched_from and start >= str(fetched_from):
            return str(stored)
        return f"{start} 00:00:00"

    async def refresh(self) -> int:
        """Fetch orders changed since the last refresh; returns how many came back."""
        since = self._since_text()
        fresh = await self.apex.list_orders(since)
        start = since[:10]
        if start < str(self.state.meta("orders_fetched_from") or "9999"):
            self.state.set_meta("orders_fetched_from", start)
        self.state.save_orders(fresh)
        newest = max((o.updated_at for o in fresh if o.updated_at), default=None)
        if newest:
            moment = datetime.strptime(newest[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
            cursor = (moment - _OVERLAP).strftime("%Y-%m-%d %H:%M:%S")
            # A fetch from an earlier start never moves the cursor back.
            self.state.set_meta(
                "orders_since", max(cursor, str(self.state.meta("orders_since") or ""))
            )
        self.state.flush()
        self.refreshed_at = datetime.now(UTC).isoformat(timespec="seconds")
        return len(fresh)

    def relevant_orders(self) -> list[tuple[ApexOrder, OrderState]]:
        since = first_order_date(self.config.api_initial_sync_date, self._today())
        chosen = []
        for order in sorted(self.state.orders().values(), key=lambda o: o.id):
            state = order_state(order, self.config.excluded_statuses, since)
            if state is not None:
                chosen.append((order, state))
        return chosen

    def resend(self) -> None:
        """Send the lines at the next sync even if they did not change."""
        self.state.set_meta("lines_digest", None)

    async def sync(
        self,
        packages: dict[str, PackageCalc],
        custom: dict[str, dict[str, CustomSku]],
        holder: str,
    ) -> Packing:
        """Rebuild the packing list and send the tracker the full set of lines if it changed
        (as ``holder`` of the sync lease: the tracker refuses anyone else)."""
        stored = self.state.meta("placed")
        placed = {int(k): msgspec.convert(v, Placement) for k, v in (stored or {}).items()}
        packing = build_packing(
            self.relevant_orders(), packages, custom, self.state.edits(), placed
        )
        digest = hashlib.sha256(msgspec.json.encode(packing.lines)).hexdigest()
        if digest != self.state.meta("lines_digest") or stored is None:
            answer = await self.tracker.put_order_lines(holder, packing.lines)
            placed = {
                line.item_id: Placement(line.metrc_number, round(line.reserved_grams * 1000))
                for line in answer.lines
                if line.metrc_number
            }
            self.unassigned = [
                f"{u.strain} {u.sku} (item {u.item_id}): {u.reason}" for u in answer.unassigned
            ]
            self.state.set_meta(
                "placed", {str(k): msgspec.to_builtins(v) for k, v in placed.items()}
            )
            self.state.set_meta("lines_digest", digest)
            self.state.flush()
            log.info(
                "sent %d order lines to the tracker (%d could not be assigned)",
                len(packing.lines),
                len(answer.unassigned),
            )
            # The units changed with the reservations just made: read them again, so Needs
            # Production is counted from what the tracker holds now.
            answer_units = await self.tracker.apex_calculate()
            if answer_units is not None:
                packages = answer_units[0]
            packing = build_packing(
                self.relevant_orders(), packages, custom, self.state.edits(), placed
            )
        self.packing = packing
        return packing
