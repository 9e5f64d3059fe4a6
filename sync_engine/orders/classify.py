"""Which orders count, and in which state (docs/apexapi.md). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Final, Literal

from sync_engine.orders.models import ApexOrder

__all__ = ["OPEN_PARENTS", "SHIPPED_PARENTS", "OrderState", "first_order_date", "order_state"]

OrderState = Literal["open", "shipped", "cancelled"]
OPEN_PARENTS: Final = frozenset({"submitted", "accepted", "pending shipment"})
SHIPPED_PARENTS: Final = frozenset({"in transit", "delivered", "complete"})
DEFAULT_LOOKBACK_DAYS = 30


def first_order_date(configured: date | None, today: date) -> date:
    """``api_initial_sync_date``, or 30 days back when it is not set."""
    return configured if configured is not None else today - timedelta(days=DEFAULT_LOOKBACK_DAYS)


def order_state(
    order: ApexOrder, excluded_statuses: Iterable[str], since: date
) -> OrderState | None:
    """None when the order is left out: an excluded status, or a shipped or cancelled order
    older than ``since``. An open order counts however old it is: it still holds stock, and
    only Apex saying shipped or cancelled ends that (docs/apexapi.md)."""
    status = order.order_status
    names = {status.name.casefold()} if status else set()
    parent = status.parent_status.name.casefold() if status and status.parent_status else ""
    names.add(parent)
    if names & {s.casefold().strip() for s in excluded_statuses}:
        return None
    state: OrderState = "open"
    if order.cancelled:
        state = "cancelled"
    elif parent in SHIPPED_PARENTS:
        state = "shipped"
    if state != "open" and order.order_date and order.order_date[:10] < since.isoformat():
        return None
    return state
