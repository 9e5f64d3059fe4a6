"""The engine's view of the world as one frozen :class:`Snapshot`, and the one reader that
keeps it (docs/apexapi.md, "How the engine works").

Planners only ever see a snapshot; every read (the tracker's ``/apex-calculate``, the Apex
batch listing, the orders) replaces it with a new one. The tracker part records how many
order-line PUTs had been answered when it was read, so inventory is planned only from units
that already count the lines last sent.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import msgspec

from preroll_contract import UnassignedLine
from sync_engine.clients.tracker import TrackerClient
from sync_engine.mapping.mapping import BatchMapping
from sync_engine.mapping.service import BatchMappingService
from sync_engine.orders.classify import OrderState
from sync_engine.orders.models import ApexOrder
from sync_engine.orders.packing import Editable, Placement
from sync_engine.orders.service import OrdersService
from sync_engine.planners.shares import ordered_grams
from sync_engine.state import EngineState
from sync_engine.tracker_models import OrderLinesAnswer, PackageCalc

__all__ = ["Drift", "Snapshot", "SnapshotReader", "TrackerView"]

log = logging.getLogger(__name__)


class TrackerView(msgspec.Struct, frozen=True):
    """One complete ``/apex-calculate`` answer."""

    packages: dict[str, PackageCalc]
    etag: str | None
    #: Order-line PUTs answered before this answer was asked for.
    after_puts: int


class Drift(msgspec.Struct, frozen=True):
    """A batch quantity someone changed in Apex: what the engine had confirmed, what Apex
    shows now."""

    batch_id: int
    confirmed: int | None
    shown: int | None
    seen_at: str


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    tracker: TrackerView | None = None
    mapping: BatchMapping | None = None
    #: What Apex showed per batch at its last listing or PATCH answer.
    apex_shows: dict[int, int | None] = msgspec.field(default_factory=dict)
    #: Batches whose Apex quantity changed behind the engine's back, until set right.
    drifted: dict[int, Drift] = msgspec.field(default_factory=dict)
    orders: tuple[tuple[ApexOrder, OrderState], ...] = ()
    #: (strain key, SKU key) → grams ordered in the last 30 days (split allocation).
    demand: dict[tuple[str, str], int] = msgspec.field(default_factory=dict)
    edits: dict[int, Editable] = msgspec.field(default_factory=dict)
    placed: dict[int, Placement] = msgspec.field(default_factory=dict)
    unassigned: tuple[UnassignedLine, ...] = ()
    #: Order-line PUTs answered so far.
    puts: int = 0
    lines_digest: str | None = None

    @property
    def units_count_the_lines(self) -> bool:
        """The tracker answer was read after the last order-line PUT was answered."""
        return self.tracker is not None and self.tracker.after_puts >= self.puts


class SnapshotReader:
    """Reads the tracker, Apex and the local state into the current :class:`Snapshot`."""

    def __init__(
        self,
        tracker: TrackerClient,
        mapping: BatchMappingService,
        orders: OrdersService,
        state: EngineState,
    ) -> None:
        self._tracker = tracker
        self._mapping = mapping
        self._orders = orders
        self._state = state
        self._orders_day: date | None = None
        stored = state.meta("placed") or {}
        self.current = Snapshot(
            edits=state.edits(),
            placed={int(k): msgspec.convert(v, Placement) for k, v in stored.items()},
            lines_digest=state.meta("lines_digest") if stored else None,
        )
        self._set_orders()

    def _replace(self, **changes: object) -> Snapshot:
        self.current = msgspec.structs.replace(self.current, **changes)
        return self.current

    async def read_tracker(self) -> bool:
        """Ask for ``/apex-calculate`` (conditionally); True when the units changed."""
        asked_after = self.current.puts
        etag = self.current.tracker.etag if self.current.tracker else None
        answer = await self._tracker.apex_calculate(etag)
        if answer is None:
            if self.current.tracker is not None:
                view = msgspec.structs.replace(self.current.tracker, after_puts=asked_after)
                self._replace(tracker=view)
            return False
        packages, new_etag = answer
        self._replace(tracker=TrackerView(packages, new_etag, asked_after))
        return True

    async def refresh_mapping(self) -> BatchMapping:
        """Batches and products from Apex; notes quantities someone changed by hand."""
        before = self._state.confirmed()
        mapping = await self._mapping.refresh()
        shows = dict(self.current.apex_shows)
        drifted = dict(self.current.drifted)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for batch in self._mapping.listed:
            batch_id = batch.id
            shown = None if batch.quantity is None else int(batch.quantity)
            if batch_id in before and before[batch_id] != shown and batch_id not in drifted:
                drifted[batch_id] = Drift(batch_id, before[batch_id], shown, now)
                log.warning(
                    "Apex batch %s shows %s, not the %s ApexAPI set: changed in Apex by hand; "
                    "it is set back to the tracker's number",
                    batch_id,
                    shown,
                    before[batch_id],
                )
            shows[batch_id] = shown
        known = set(self._state.batches())
        self._replace(
            mapping=mapping,
            apex_shows={k: v for k, v in shows.items() if k in known},
            drifted={k: v for k, v in drifted.items() if k in known},
        )
        return mapping

    def pushed(self, batch_id: int, quantity: int | None) -> Drift | None:
        """Apex confirmed a PATCH: it shows ``quantity`` now; returns the drift this set
        right, if the batch had one."""
        shows = dict(self.current.apex_shows)
        shows[batch_id] = quantity
        drifted = dict(self.current.drifted)
        cleared = drifted.pop(batch_id, None)
        self._replace(apex_shows=shows, drifted=drifted)
        return cleared

    def forget(self, batch_ids: set[int]) -> None:
        self._replace(
            apex_shows={k: v for k, v in self.current.apex_shows.items() if k not in batch_ids},
            drifted={k: v for k, v in self.current.drifted.items() if k not in batch_ids},
            mapping=self._mapping.mapping,
        )

    async def refresh_orders(self) -> int:
        """Orders changed in Apex since the last refresh; returns how many really changed."""
        changed = await self._orders.refresh()
        # Over every order kept, so only when something changed or the 30-day window moved.
        if changed or datetime.now(UTC).date() != self._orders_day:
            self._set_orders()
        return changed

    def _set_orders(self, today: date | None = None) -> None:
        relevant = tuple(self._orders.relevant_orders())
        today = today or datetime.now(UTC).date()
        self._orders_day = today
        self._replace(orders=relevant, demand=ordered_grams(self._state.orders().values(), today))

    def edited(self) -> None:
        """A packing-list edit was kept in the state."""
        self._replace(edits=self._state.edits())

    def lines_sent(self, answer: OrderLinesAnswer, digest: str) -> None:
        """The tracker took the order lines: where it placed them, and what it could not."""
        placed = {
            line.item_id: Placement(line.metrc_number, round(line.reserved_grams * 1000))
            for line in answer.lines
            if line.metrc_number
        }
        self._state.set_meta("placed", {str(k): msgspec.to_builtins(v) for k, v in placed.items()})
        self._state.set_meta("lines_digest", digest)
        self._state.flush()
        self._replace(
            placed=placed,
            unassigned=tuple(answer.unassigned),
            puts=self.current.puts + 1,
            lines_digest=digest,
        )

    def resend_lines(self) -> None:
        """Send the lines again at the next chance even if unchanged (a new lease holder)."""
        self._replace(lines_digest=None)
