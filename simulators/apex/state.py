"""The Apex Trading simulator's data, fault switches and request log (no HTTP here)."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulators.request_log import RecordedRequest

__all__ = ["ApexState", "Faults", "RecordedRequest", "apex_time"]

PARENT_STATUSES = [
    "Submitted",
    "Accepted",
    "Pending Shipment",
    "In Transit",
    "Delivered",
    "Complete",
]


def apex_time(moment: float | None = None) -> str:
    """Apex timestamps have whole-second precision."""
    when = datetime.fromtimestamp(int(moment if moment is not None else time.time()), UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


@dataclass
class Faults:
    """Switches a test flips to make the simulator misbehave."""

    latency_seconds: float = 0.0
    storm_until: float = 0.0  # every request answers 429 until then
    errors_5xx: int = 0  # the next N requests answer 500
    timeouts: int = 0  # the next N requests hang for timeout_seconds
    timeout_seconds: float = 30.0
    malformed: int = 0  # the next N answers are not valid JSON

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]


@dataclass
class ApexState:
    tokens: set[str] = field(default_factory=lambda: {"sim-token"})
    rate_limit_per_second: int = 15
    #: Whether an order lowers the quantity of the batches it names, as a marketplace might
    #: (Apex's documentation does not say; the exposure benchmark measures both).
    orders_lower_batches: bool = False
    #: Every batch quantity change: (time.monotonic(), batch id, new quantity).
    history: list[tuple[float, int, float | None]] = field(default_factory=list)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    batches: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _windows: dict[str, deque[float]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))

    def __post_init__(self) -> None:
        for index, parent in enumerate(PARENT_STATUSES, start=1):
            self.statuses[index] = {
                "id": index,
                "name": parent,
                "parent_status": {"id": index, "name": parent},
            }

    # -- catalogue -------------------------------------------------------------------------

    def add_product(self, name: str, product_id: int | None = None) -> int:
        with self.lock:
            pid = product_id if product_id is not None else next(self._ids)
            self.products[pid] = {"id": pid, "name": name, "updated_at": apex_time()}
            return pid

    def add_batch(
        self,
        product_id: int,
        quantity: float | None = 0,
        *,
        batch_id: int | None = None,
        name: str | None = None,
        archived: bool = False,
        unlimited: bool = False,
    ) -> int:
        with self.lock:
            bid = batch_id if batch_id is not None else next(self._ids)
            self.batches[bid] = {
                "id": bid,
                "name": name or f"B-{bid}",
                "product_id": product_id,
                "quantity": quantity,
                "unlimited_quantity": unlimited,
                "hold": False,
                "archived": archived,
                "updated_at": apex_time(),
            }
            return bid

    def update_batch(self, batch_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            batch = self.batches[batch_id]
            if any(batch.get(k) != v for k, v in changes.items()):
                batch.update(changes)
                batch["updated_at"] = apex_time()  # unchanged PATCHes keep updated_at
                if "quantity" in changes:
                    self.history.append((time.monotonic(), batch_id, batch["quantity"]))
            return dict(batch)

    def delete_batch(self, batch_id: int) -> None:
        """A person deletes the batch in Apex: it leaves every list, and reads and updates of
        it answer 404."""
        with self.lock:
            del self.batches[batch_id]

    def quantity(self, batch_id: int) -> float | None:
        with self.lock:
            return self.batches[batch_id]["quantity"]  # type: ignore[no-any-return]

    # -- orders ----------------------------------------------------------------------------

    def add_order(
        self,
        *,
        buyer: str,
        items: list[dict[str, Any]],
        status_id: int = 1,
        order_id: int | None = None,
        order_date: str | None = None,
        delivery_date: str | None = None,
        cancelled: bool = False,
    ) -> int:
        with self.lock:
            oid = order_id if order_id is not None else next(self._ids)
            full_items = []
            for item in items:
                product = self.products[item["product_id"]]
                batch = self.batches.get(item.get("batch_id") or -1, {})
                if batch and self.orders_lower_batches and batch["quantity"] is not None:
                    lowered = max(0, batch["quantity"] - item["quantity"])
                    self.update_batch(batch["id"], {"quantity": lowered})
                full_items.append(
                    {
                        "id": item.get("id", next(self._ids)),
                        "product_id": product["id"],
                        "batch_id": batch.get("id"),
                        "product_name": product["name"],
                        "batch_name": batch.get("name"),
                        "order_quantity": item["quantity"],
                        "inventory_quantity": item["quantity"],
                        "metrc_package_label": item.get("metrc_package_label"),
                    }
                )
            self.orders[oid] = {
                "id": oid,
                "invoice_number": f"INV-{oid}",
                "order_date": order_date or apex_time()[:10],
                "delivery_date": delivery_date,
                "order_status_id": status_id,
                "order_status": self.statuses[status_id],
                "cancelled": cancelled,
                "buyer": {"id": abs(hash(buyer)) % 100_000, "name": buyer},
                "updated_at": apex_time(),
                "items": full_items,
            }
            return oid

    def update_order(self, order_id: int, **changes: Any) -> None:
        with self.lock:
            order = self.orders[order_id]
            if "status_id" in changes:
                order["order_status_id"] = changes.pop("status_id")
                order["order_status"] = self.statuses[order["order_status_id"]]
            order.update(changes)
            order["updated_at"] = apex_time()

    # -- limits and log --------------------------------------------------------------------

    def take_rate_slot(self, token: str, now: float) -> tuple[bool, int]:
        """Sliding one-second window per token; (allowed, remaining)."""
        with self.lock:
            window = self._windows.setdefault(token, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.rate_limit_per_second:
                return False, 0
            window.append(now)
            return True, self.rate_limit_per_second - len(window)

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def requests_matching(
        self, method: str | None = None, prefix: str = ""
    ) -> list[RecordedRequest]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and r.path.startswith(prefix)
            ]
