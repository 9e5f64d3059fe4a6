"""The METRC sync's tracker side: settings, status, drift, the outbox's book-keeping and
applying a pull (docs/metrc.md). Every change is one transaction; METRC is never called here."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tracker_service.finished_goods import repository as fg
from tracker_service.finished_goods.records import PackageRecord
from tracker_service.finished_goods.repository import AuditEntry
from tracker_service.lib.db import Conn
from tracker_service.lib.errors import Conflict, InvalidInput, NotFound
from tracker_service.lib.grams import mg_to_grams
from tracker_service.lib.repository import append_change
from tracker_service.lib.writes import WritingService
from tracker_service.metrc import repository as repo
from tracker_service.metrc.outbox import MetrcLink, enqueue_adjustment
from tracker_service.metrc.pull import (
    Archive,
    ClearDrift,
    Import,
    InFlight,
    MarkDrift,
    PullAction,
    Remember,
    Skip,
    TakeQuantity,
    TrackerSide,
)
from tracker_service.metrc.schemas import (
    DriftRead,
    DriftResolve,
    MetrcSettings,
    MetrcSettingsBody,
    MetrcStatusRead,
    OutboxRead,
    mask,
)

__all__ = ["METRC_ACTOR", "MetrcService"]

METRC_ACTOR = "metrc"
#: The METRC reason a drift settled in the tracker's favour is sent with, when the license
#: has it (else its first reason that takes a note).
DRIFT_REASON = "Entry Error"


class MetrcService(WritingService):
    # -- settings and status ---------------------------------------------------------------

    def settings(self) -> MetrcSettings:
        return self.db.query(repo.load_metrc_settings)

    def save_settings(self, body: MetrcSettingsBody, actor: str) -> MetrcSettings:
        try:
            re.compile(body.item_filter)
        except re.error as exc:
            raise InvalidInput("item_filter", f"is not a valid regular expression: {exc}") from None
        with self._write() as (conn, _at):
            stored = repo.load_metrc_settings(conn)
            settings = MetrcSettings(
                enabled=body.enabled,
                api_url=body.api_url.rstrip("/"),
                license_number=body.license_number,
                vendor_key=_key(body.vendor_key, stored.vendor_key),
                user_key=_key(body.user_key, stored.user_key),
                pull_interval_seconds=body.pull_interval_seconds,
                item_filter=body.item_filter,
                review_before_submit=body.review_before_submit,
                object_limit=body.object_limit,
            )
            if settings.enabled and not (settings.vendor_key and settings.user_key):
                missing = "vendor_key" if not settings.vendor_key else "user_key"
                raise InvalidInput(missing, "is required to turn METRC sync on")
            repo.save_metrc_settings(conn, settings)
            if settings.license_number != stored.license_number:
                repo.save_pull_status(conn, repo.PullStatus())  # another license: read all
        return settings

    def status(self) -> MetrcStatusRead:
        with self.db.read() as conn:
            settings = repo.load_metrc_settings(conn)
            pulled = repo.load_pull_status(conn)
            counts = repo.count_outbox(conn)
            drift = len(repo.load_drift(conn))
        return MetrcStatusRead(
            enabled=settings.enabled,
            connected=bool(settings.enabled and pulled.last_pull_ok),
            last_pull_at=pulled.last_pull_at,
            last_pull_ok=pulled.last_pull_ok,
            message=pulled.message if settings.enabled else "METRC sync is off",
            outbox=counts,
            drift=drift,
            failing_since=pulled.failing_since,
        )

    def pull_status(self) -> repo.PullStatus:
        return self.db.query(repo.load_pull_status)

    def record_pull(self, status: repo.PullStatus) -> None:
        with self.db.transaction() as conn:
            repo.save_pull_status(conn, status)

    def adjust_reasons(self) -> list[tuple[str, bool]] | None:
        """METRC's reasons while the sync is on and they have been read; else None."""
        return self.db.query(MetrcLink().reasons)

    # -- what a pull needs, and applying it ------------------------------------------------

    def tracker_sides(self) -> dict[str, TrackerSide]:
        rows = self.db.query(repo.load_package_grams)
        return {label: TrackerSide(status, mg) for label, (status, mg) in rows.items()}

    def known_active(self) -> set[str]:
        """Packages METRC last reported active."""
        known = self.db.query(repo.load_known)
        return {label for label, package in known.items() if package.active}

    def in_flight(self) -> dict[str, InFlight]:
        with self.db.read() as conn:
            entries = repo.load_entries(conn, ("pending", "awaiting_review"), limit=1_000_000)
        flights: dict[str, InFlight] = {}
        for entry in entries:
            if entry.kind != "adjust":
                continue
            now = flights.get(entry.metrc_number, InFlight(0))
            uncertain = entry.delta_mg if entry.uncertain else now.uncertain_mg
            flights[entry.metrc_number] = InFlight(now.unsent_mg + entry.delta_mg, uncertain)
        return flights

    def apply_pull(self, actions: Iterable[PullAction]) -> list[str]:
        """Apply a pull's actions in one transaction; returns what was skipped and why."""
        skipped = []
        with self._write() as (conn, at):
            for action in actions:
                match action:
                    case Remember(package=known):
                        repo.upsert_known(conn, known, at)
                    case Import():
                        _import(conn, action, at)
                    case TakeQuantity():
                        _take(conn, action, at)
                    case MarkDrift():
                        repo.upsert_drift(
                            conn, action.label, action.tracker_mg, action.metrc_mg, at
                        )
                    case ClearDrift():
                        repo.delete_drift(conn, action.label)
                    case Archive():
                        _archive(conn, action.label, at)
                    case Skip():
                        skipped.append(f"{action.label}: {action.reason}")
        return skipped

    # -- drift -----------------------------------------------------------------------------

    def drift(self) -> list[DriftRead]:
        rows = self.db.query(repo.load_drift)
        return [
            DriftRead(r.metrc_number, mg_to_grams(r.tracker_mg), mg_to_grams(r.metrc_mg), r.since)
            for r in rows
        ]

    def resolve_drift(self, label: str, body: DriftResolve, actor: str) -> None:
        with self._write() as (conn, at):
            row = next((r for r in repo.load_drift(conn) if r.metrc_number == label), None)
            if row is None:
                raise NotFound(f"package {label} has no drift to resolve")
            record = fg.load_package(conn, label)
            if record is None:  # pragma: no cover - drift rows reference packages
                raise NotFound(f"package {label} does not exist")
            note = (body.reason or "").strip() or None
            if body.accept == "metrc":
                self._accept_metrc(conn, record, row.metrc_mg, note, actor, at)
            else:
                self._accept_tracker(conn, record, row.metrc_mg, note, actor, at)
            repo.delete_drift(conn, label)

    def _accept_metrc(
        self,
        conn: Conn,
        record: PackageRecord,
        metrc_mg: int,
        note: str | None,
        actor: str,
        at: str,
    ) -> None:
        for entry in repo.load_entries(conn, ("pending", "awaiting_review"), limit=1_000_000):
            if entry.metrc_number == record.metrc_number:
                repo.update_entry(
                    conn,
                    entry.id,
                    state="failed",
                    last_error=f"not sent: {actor} accepted METRC's quantity instead",
                )
        _set_grams(conn, record, metrc_mg, "METRC's quantity accepted (drift)", actor, at, note)

    def _accept_tracker(
        self,
        conn: Conn,
        record: PackageRecord,
        metrc_mg: int,
        note: str | None,
        actor: str,
        at: str,
    ) -> None:
        delta = record.current_mg - metrc_mg
        if delta == 0:
            return
        reasons = repo.load_pull_status(conn).reasons
        names = [name for name, _ in reasons]
        reason = DRIFT_REASON if DRIFT_REASON in names or not names else names[0]
        enqueue_adjustment(
            conn,
            repo.load_metrc_settings(conn),
            label=record.metrc_number,
            delta_mg=delta,
            reason=reason,
            note=note or "Drift settled in PreRollTracker's favour",
            actor=actor,
            at=at,
        )

    # -- the outbox --------------------------------------------------------------------------

    def outbox(self, limit: int = 500) -> list[OutboxRead]:
        return [_read(e) for e in self.db.query(repo.load_entries, None, limit)]

    def approve(self, entry_id: int, actor: str) -> OutboxRead:
        return self._move(entry_id, {"awaiting_review"}, actor, state="pending", reviewed_by=actor)

    def reject(self, entry_id: int, reason: str | None, actor: str) -> OutboxRead:
        why = f"rejected by {actor}" + (f": {reason}" if reason else "")
        return self._move(
            entry_id,
            {"awaiting_review"},
            actor,
            state="failed",
            reviewed_by=actor,
            last_error=why,
        )

    def retry(self, entry_id: int, actor: str) -> OutboxRead:
        return self._move(
            entry_id, {"failed", "pending"}, actor, state="pending", next_attempt_at=0.0
        )

    def _move(self, entry_id: int, allowed: set[str], actor: str, **columns: object) -> OutboxRead:
        with self._write() as (conn, _at):
            entry = repo.load_entry(conn, entry_id)
            if entry is None:
                raise NotFound(f"outbox entry {entry_id} does not exist")
            if entry.state not in allowed:
                raise Conflict(
                    f"outbox entry {entry_id} is {entry.state}; this applies only to "
                    + " or ".join(sorted(allowed)),
                    state=entry.state,
                )
            repo.update_entry(conn, entry_id, **columns)
            updated = repo.load_entry(conn, entry_id)
        assert updated is not None
        return _read(updated)


def _key(given: str, stored: str) -> str:
    """An empty key, or the masked one GET showed, keeps what is stored."""
    given = given.strip()
    if not given or given == mask(stored):
        return stored
    return given


def _read(entry: repo.OutboxEntry) -> OutboxRead:
    return OutboxRead(
        id=entry.id,
        kind=entry.kind,  # type: ignore[arg-type]
        metrc_number=entry.metrc_number,
        body=entry.body,
        state=entry.state,
        attempts=entry.attempts,
        last_error=entry.last_error,
        created_at=entry.created_at,
        sent_at=entry.sent_at,
    )


def _import(conn: Conn, action: Import, at: str) -> None:
    if fg.load_package(conn, action.label) is not None:
        return
    fg.insert_package(
        conn, PackageRecord.new(action.label, action.strain, action.mg, action.mg, at)
    )
    fg.append_audit(
        conn,
        at,
        AuditEntry(
            metrc_number=action.label,
            actor=METRC_ACTOR,
            action="create",
            field="current_grams",
            reason=f"Imported from METRC ({action.item_name})",
            after_mg=action.mg,
        ),
    )
    append_change(conn, action.label, "created", at)


def _take(conn: Conn, action: TakeQuantity, at: str) -> None:
    record = fg.load_package(conn, action.label)
    if record is None or record.current_mg != action.before_mg:
        return  # changed since the pull was planned: the next pull looks again
    _set_grams(conn, record, action.mg, "Quantity in METRC", METRC_ACTOR, at, None)


def _set_grams(
    conn: Conn, record: PackageRecord, mg: int, reason: str, actor: str, at: str, note: str | None
) -> None:
    if record.current_mg == mg:
        return
    fg.update_package(conn, record.metrc_number, at, {"current_mg": mg})
    fg.append_audit(
        conn,
        at,
        AuditEntry(
            metrc_number=record.metrc_number,
            actor=actor,
            action="adjust",
            field="current_grams",
            reason=reason,
            before_mg=record.current_mg,
            after_mg=mg,
            note=note,
        ),
    )
    append_change(conn, record.metrc_number, "adjusted", at)


def _archive(conn: Conn, label: str, at: str) -> None:
    record = fg.load_package(conn, label)
    if record is None or record.status != "active":
        return
    fg.update_package(conn, label, at, {"status": "archived", "status_changed_at": at})
    fg.append_audit(
        conn,
        at,
        AuditEntry(
            metrc_number=label,
            actor=METRC_ACTOR,
            action="update",
            field="status",
            reason="Left METRC's active list",
            before_text="active",
            after_text="archived",
        ),
    )
    append_change(conn, label, "updated", at)
