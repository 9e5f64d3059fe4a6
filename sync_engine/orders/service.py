"""``OrdersService``: fetch orders incrementally and keep them; Apex is asked only for what
changed since last time. What is sent to the tracker and written to the packing list is
planned from them (:mod:`sync_engine.planners.order_lines`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sync_engine.clients.apex import ApexClient
from sync_engine.config import Config
from sync_engine.orders.classify import OrderState, first_order_date, order_state
from sync_engine.orders.models import ApexOrder
from sync_engine.state import EngineState

__all__ = ["OrdersService"]

log = logging.getLogger(__name__)
_OVERLAP = timedelta(seconds=2)


class OrdersService:
    def __init__(
        self,
        config: Config,
        apex: ApexClient,
        state: EngineState,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.config = config
        self.apex = apex
        self.state = state
        self._today = today
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
        """Fetch orders changed since the last refresh; returns how many are new or changed
        (the overlap of incremental fetches brings the newest ones back every time)."""
        since = self._since_text()
        fresh = await self.apex.list_orders(since)
        start = since[:10]
        if start < str(self.state.meta("orders_fetched_from") or "9999"):
            self.state.set_meta("orders_fetched_from", start)
        changed = [order for order in fresh if self.state.order(order.id) != order]
        self.state.save_orders(changed)
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
        return len(changed)

    def relevant_orders(self) -> list[tuple[ApexOrder, OrderState]]:
        since = first_order_date(self.config.api_initial_sync_date, self._today())
        chosen = []
        for order in sorted(self.state.orders().values(), key=lambda o: o.id):
            state = order_state(order, self.config.excluded_statuses, since)
            if state is not None:
                chosen.append((order, state))
        return chosen
