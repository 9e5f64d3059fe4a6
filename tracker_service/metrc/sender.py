"""Sends the outbox to METRC exactly once (docs/metrc.md, "Exactly once").

Each package's entries go one at a time, in order; several packages' entries share a request
up to the object limit. An entry whose answer was lost is *uncertain*: before it is sent again
the package is re-read, and its quantity (or, when someone else changed it too, METRC's list
of adjustments, where every entry's note carries its number ``PRT-<id>``) tells whether METRC
has it. Creations are recognised by their tag.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from tracker_service.lib.clock import now_iso
from tracker_service.metrc import repository as repo
from tracker_service.metrc.client import MetrcClient
from tracker_service.metrc.errors import (
    MetrcError,
    MetrcRefused,
    MetrcUnavailable,
    OutcomeUnknown,
    Rejected,
    TooLarge,
)
from tracker_service.metrc.quantities import package_mg
from tracker_service.metrc.repository import OutboxEntry

__all__ = ["OutboxSender", "marker", "retry_delay"]

log = logging.getLogger(__name__)
RETRY_CAP_SECONDS = 300.0


class _Adjustment(msgspec.Struct, rename="pascal"):
    package_label: str = ""
    adjustment_note: str | None = None


def marker(entry_id: int) -> str:
    return f"PRT-{entry_id}"


def retry_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Doubling from 2 s, capped at 5 minutes, with up to 20 % jitter: an outage of hours is
    retried every few minutes, never in a burst."""
    base: float = min(RETRY_CAP_SECONDS, 2.0 * 2.0 ** min(attempts, 20))
    draw = rng.random() if rng is not None else random.random()
    return base * (1 - 0.2 * draw)


class OutboxSender:
    def __init__(self, db: Any, clock: Callable[[], float], on_commit: Callable[[], None]) -> None:
        self.db = db
        self.clock = clock
        self._on_commit = on_commit

    async def send_due(self, client: MetrcClient, limit: int) -> int:
        """Send what is due now; returns how many entries METRC now has."""
        entries = self.db.query(repo.next_sendable, self.clock(), limit * 4)
        done = 0
        creations = [e for e in entries if e.kind == "create"]
        adjustments = [e for e in entries if e.kind == "adjust"]
        for entry in creations:  # one request each: the tag tells a lost answer apart
            done += await self._send(client, [entry], client.create)
        for start in range(0, len(adjustments), limit):
            chunk = adjustments[start : start + limit]
            done += await self._send(client, chunk, client.adjust)
        return done

    async def _send(self, client: MetrcClient, entries: list[OutboxEntry], send: Any) -> int:
        ready: list[OutboxEntry] = []
        done = 0
        for entry in entries:
            try:
                applied = await self._already_applied(client, entry) if entry.uncertain else False
            except MetrcError as exc:
                self._postpone(entry, exc, uncertain=True)  # still unknown
                continue
            if applied:
                self._sent(entry, entry.metrc_ids or [])
                done += 1
            else:
                ready.append(entry)
        if not ready:
            return done
        try:
            rows = [await self._row(client, entry) for entry in ready]
        except MetrcRefused as exc:
            self._fail(ready[0], str(exc))
            return done
        except MetrcError as exc:
            for entry in ready:
                self._postpone(entry, exc, uncertain=False)
            return done
        # Written before the request leaves: a crash or a lost answer from here on leaves the
        # entries uncertain, so they are checked in METRC before they could go twice.
        known = self.db.query(repo.load_known, [e.metrc_number for e in ready])
        with self.db.transaction() as conn:
            for entry in ready:
                before = known[entry.metrc_number].metrc_mg if entry.metrc_number in known else None
                repo.update_entry(conn, entry.id, before_mg=before, uncertain=True)
        try:
            ids = await send(rows)
        except Rejected as exc:
            self._rejected(ready, exc)
            return done
        except TooLarge as exc:
            if len(ready) == 1:
                self._fail(ready[0], f"{exc}: even one object is too large for METRC")
                return done
            # Smaller requests from now on (the worker keeps the limit it learned).
            client.object_limit = max(1, len(ready) // 2)
            for entry in ready:
                self._postpone(entry, exc, uncertain=False, at_once=True)
            return done
        except MetrcError as exc:
            lost = isinstance(exc, OutcomeUnknown)
            for entry in ready:
                self._postpone(entry, exc, uncertain=lost)
            return done
        for n, entry in enumerate(ready):
            self._sent(entry, ids[n : n + 1] if len(ids) == len(ready) else ids)
        return done + len(ready)

    async def _row(self, client: MetrcClient, entry: OutboxEntry) -> dict[str, Any]:
        row = dict(entry.body)
        if entry.kind == "adjust":
            note = str(row.get("ReasonNote") or "").strip()
            row["ReasonNote"] = f"{note} ({marker(entry.id)})" if note else marker(entry.id)
            known = self.db.query(repo.load_known, [entry.metrc_number]).get(entry.metrc_number)
            row["Quantity"] = Decimal(str(row["Quantity"]))
            if known is not None and known.unit == "Each" and known.unit_weight_mg:
                # Counted packages are adjusted in their own unit (whole units: checked when
                # the adjustment was recorded).
                row["Quantity"] = Decimal(entry.delta_mg) / known.unit_weight_mg
                row["UnitOfMeasure"] = "Each"
            return row
        strain = str(row.pop("Strain", ""))
        items = self.db.query(repo.load_pull_status).items
        item = next((name for name, s in items if s.lower() == strain.lower()), None)
        if item is None:
            raise MetrcRefused(
                f"METRC has no pre-roll item for the strain {strain!r}: create one in METRC"
                " (or check the item filter in Settings → METRC), then press Retry"
            )
        row["Item"] = item
        row["Quantity"] = Decimal(str(row["Quantity"]))
        for ingredient in row["Ingredients"]:
            ingredient["Quantity"] = Decimal(str(ingredient["Quantity"]))
        return row

    async def _already_applied(self, client: MetrcClient, entry: OutboxEntry) -> bool:
        package = await client.package(entry.metrc_number)
        if entry.kind == "create":
            return package is not None
        if package is None:
            return False
        now = package_mg(package)
        if entry.before_mg is not None:
            if now == entry.before_mg + entry.delta_mg:
                return True
            if now == entry.before_mg:
                return False
        # Someone else changed the package too: METRC's own list of adjustments decides.
        return await self._in_adjustments(client, entry)

    async def _in_adjustments(self, client: MetrcClient, entry: OutboxEntry) -> bool:
        tag = marker(entry.id)
        async for row in client.adjustments():
            adjustment = msgspec.convert(row, _Adjustment)
            if adjustment.package_label == entry.metrc_number and tag in (
                adjustment.adjustment_note or ""
            ):
                return True
        return False

    # -- book-keeping ----------------------------------------------------------------------

    def _sent(self, entry: OutboxEntry, ids: list[int]) -> None:
        with self.db.transaction() as conn:
            repo.update_entry(
                conn,
                entry.id,
                state="sent",
                sent_at=now_iso(),
                attempts=entry.attempts + 1,
                uncertain=False,
                last_error=None,
                metrc_ids=ids,
            )
            known = repo.load_known(conn, [entry.metrc_number]).get(entry.metrc_number)
            if known is not None and entry.kind == "adjust":
                updated = msgspec.structs.replace(known, metrc_mg=known.metrc_mg + entry.delta_mg)
                repo.upsert_known(conn, updated, now_iso())
        self._on_commit()

    def _postpone(
        self, entry: OutboxEntry, exc: MetrcError, *, uncertain: bool, at_once: bool = False
    ) -> None:
        """Try again later; ``uncertain``: METRC may have applied it (check before resending)."""
        wait = 0.0 if at_once else retry_delay(entry.attempts)
        if isinstance(exc, MetrcUnavailable) and exc.retry_after:
            wait = max(wait, exc.retry_after)
        with self.db.transaction() as conn:
            repo.update_entry(
                conn,
                entry.id,
                attempts=entry.attempts + 1,
                uncertain=uncertain,
                last_error=f"{exc} (tried {entry.attempts + 1} times; trying again)",
                next_attempt_at=self.clock() + wait,
            )
        self._on_commit()

    def _fail(self, entry: OutboxEntry, message: str) -> None:
        with self.db.transaction() as conn:
            repo.update_entry(
                conn,
                entry.id,
                state="failed",
                attempts=entry.attempts + 1,
                uncertain=False,
                last_error=message,
            )
        self._on_commit()
        log.warning("METRC outbox #%s failed: %s", entry.id, message)

    def _rejected(self, entries: list[OutboxEntry], exc: Rejected) -> None:
        """METRC refused rows: those fail with its words. Whether it applied the others of the
        request is not documented, so they are re-checked before they go again."""
        for n, entry in enumerate(entries):
            if n in exc.rows:
                self._fail(entry, f"METRC refused it: {exc.rows[n]}")
            else:
                with self.db.transaction() as conn:
                    repo.update_entry(conn, entry.id, uncertain=len(entries) > 1)
        self._on_commit()
