"""Finished-goods operations. Each write is one transaction: validate, change, audit, feed."""

from __future__ import annotations

import msgspec

from preroll_contract import strain_key
from tracker_service.finished_goods import repository as repo
from tracker_service.finished_goods import validation as check
from tracker_service.finished_goods.records import AuditRow, Hold, PackageRecord
from tracker_service.finished_goods.repository import AuditEntry
from tracker_service.finished_goods.schemas import (
    AdjustRequest,
    CustomSkuBody,
    DecrementRequest,
    HoldCreate,
    PackageCreate,
    PackageUpdate,
    SkuSettingUpdate,
)
from tracker_service.finished_goods.skus import (
    SkuSetting,
    SkuType,
    canonical_sku,
    validate_custom_sku_key,
)
from tracker_service.lib.db import Conn
from tracker_service.lib.errors import Conflict, InvalidInput, NotFound
from tracker_service.lib.grams import grams_to_mg, mg_to_grams
from tracker_service.lib.repository import append_change
from tracker_service.lib.writes import WritingService
from tracker_service.metrc.outbox import MetrcLink

__all__ = ["DecrementOutcome", "FinishedGoodsService"]

_encode_text = msgspec.json.encode


_UNCHANGED = object()
#: PATCH-able columns: (column, field name in the API and history, audit reason).
_PATCHABLE = (
    ("strain", "strain", "Strain renamed"),
    ("status", "status", "Status changed"),
    ("override_mg", "physical_override_grams", "Physical inventory override"),
)


class DecrementOutcome(msgspec.Struct, frozen=True):
    applied: bool
    record: PackageRecord
    sku: str
    units: int


class FinishedGoodsService(WritingService):
    """Reads and writes packages; ``on_commit`` runs after every committed write."""

    #: Set by ``Services``: METRC's adjustment reasons, and the outbox for adjustments.
    metrc: MetrcLink | None = None

    @staticmethod
    def _require(conn: Conn, metrc_number: str) -> PackageRecord:
        record = repo.load_package(conn, metrc_number.strip().upper())
        if record is None:
            raise NotFound(f"no finished-goods package {metrc_number!r}")
        return record

    # -- reads -------------------------------------------------------------------------------

    def get(self, metrc_number: str) -> PackageRecord:
        return self.db.query(self._require, metrc_number)

    def list_packages(
        self, status: str | None = None, strain: str | None = None
    ) -> list[PackageRecord]:
        return self.db.query(
            repo.load_packages,
            status=None if status is None else check.status(status),
            strain_key=None if strain is None else strain_key(strain),
        )

    def active_packages(self) -> list[PackageRecord]:
        return self.db.query(repo.load_active_packages)

    def history(self, metrc_number: str) -> list[AuditRow]:
        with self.db.read() as conn:
            record = self._require(conn, metrc_number)
            return repo.load_history(conn, record.metrc_number)

    # -- writes ------------------------------------------------------------------------------

    def create(self, body: PackageCreate, actor: str) -> PackageRecord:
        tag = check.metrc_number(body.metrc_number)
        strain = check.text(body.strain, "strain")
        initial = grams_to_mg(body.initial_grams, "initial_grams")
        current = (
            initial
            if body.current_grams is None
            else grams_to_mg(body.current_grams, "current_grams")
        )
        with self._write() as (conn, at):
            if repo.load_package(conn, tag) is not None:
                raise Conflict(f"package {tag} already exists", metrc_number=tag)
            record = PackageRecord.new(tag, strain, initial, current, at)
            repo.insert_package(conn, record)
            repo.append_audit(
                conn,
                at,
                AuditEntry(
                    metrc_number=tag,
                    actor=actor,
                    action="create",
                    field="current_grams",
                    reason="Package created",
                    after_mg=current,
                ),
            )
            append_change(conn, tag, "created", at)
        return record

    def update(self, metrc_number: str, body: PackageUpdate, actor: str) -> PackageRecord:
        changes: dict[str, object] = {}
        if isinstance(body.strain, str):
            changes["strain"] = check.text(body.strain, "strain")
        if isinstance(body.status, str):
            changes["status"] = check.status(body.status)
        override = body.physical_override_grams
        if override is None:
            changes["override_mg"] = None
        elif isinstance(override, float | int):
            changes["override_mg"] = grams_to_mg(override, "physical_override_grams")
        with self._write() as (conn, at):
            record = self._require(conn, metrc_number)
            columns: dict[str, object] = {}
            for column, field, reason in _PATCHABLE:
                before, after = getattr(record, column), changes.get(column, _UNCHANGED)
                if after is _UNCHANGED or after == before:
                    continue
                columns[column] = after
                entry = AuditEntry(
                    metrc_number=record.metrc_number,
                    actor=actor,
                    action="update",
                    field=field,
                    reason=reason,
                )
                if column == "override_mg":
                    entry = msgspec.structs.replace(entry, before_mg=before, after_mg=after)
                else:
                    entry = msgspec.structs.replace(
                        entry, before_text=str(before), after_text=str(after)
                    )
                repo.append_audit(conn, at, entry)
            if "status" in columns:
                columns["status_changed_at"] = at
            if columns:
                repo.update_package(conn, record.metrc_number, at, columns)
                append_change(conn, record.metrc_number, "updated", at)
            return self._require(conn, record.metrc_number)

    def adjust(self, metrc_number: str, body: AdjustRequest, actor: str) -> PackageRecord:
        delta = grams_to_mg(body.delta_grams, "delta_grams", allow_negative=True)
        if delta == 0:
            raise InvalidInput("delta_grams", "must not be zero")
        if body.settles_apex_sales and delta > 0:
            raise InvalidInput(
                "settles_apex_sales", "only a removal (negative delta_grams) can settle sales"
            )
        note = body.note.strip() if body.note and body.note.strip() else None
        with self._write() as (conn, at):
            reasons = self.metrc.reasons(conn) if self.metrc else None
            reason = check.adjust_reason(body.reason, body.note, reasons)
            record = self._require(conn, metrc_number)
            after = record.current_mg + delta
            if after < 0:
                raise Conflict(
                    f"adjusting {record.metrc_number} by {mg_to_grams(delta)} g would leave "
                    f"{mg_to_grams(after)} g; it holds {mg_to_grams(record.current_mg)} g",
                    current_grams=mg_to_grams(record.current_mg),
                )
            settled = self._settled(record, -delta) if body.settles_apex_sales else 0
            columns: dict[str, object] = {"current_mg": after}
            if settled:
                columns["sold_mg"] = record.sold_mg - settled
            repo.update_package(conn, record.metrc_number, at, columns)
            base = AuditEntry(
                metrc_number=record.metrc_number,
                actor=actor,
                action="adjust",
                field="current_grams",
                reason=reason,
                before_mg=record.current_mg,
                after_mg=after,
                note=note,
            )
            repo.append_audit(conn, at, base)
            if settled:
                repo.append_audit(
                    conn,
                    at,
                    msgspec.structs.replace(
                        base,
                        field="grams_ordered",
                        reason=f"Apex sales settled by this adjustment ({reason})",
                        before_mg=record.ordered_mg,
                        after_mg=record.ordered_mg - settled,
                    ),
                )
            append_change(conn, record.metrc_number, "adjusted", at)
            if self.metrc is not None:
                self.metrc.adjusted(
                    conn,
                    label=record.metrc_number,
                    delta_mg=delta,
                    reason=reason,
                    note=note,
                    actor=actor,
                    at=at,
                )
            return self._require(conn, record.metrc_number)

    @staticmethod
    def _settled(record: PackageRecord, removed_mg: int) -> int:
        """Apex-sold grams that a removal of ``removed_mg`` records leaving (docs/api.md)."""
        if record.sold_mg == 0:
            raise Conflict(
                f"{record.metrc_number} has no Apex sales waiting to be settled; record the "
                "removal without settles_apex_sales",
                grams_sold=0,
            )
        return min(removed_mg, record.sold_mg)

    def update_settings(
        self, metrc_number: str, body: dict[str, SkuSettingUpdate], actor: str
    ) -> PackageRecord:
        if not body:
            raise InvalidInput("body", "name at least one SKU to change")
        with self._write() as (conn, at):
            record = self._require(conn, metrc_number)
            settings = dict(record.settings)
            for given_key, update in body.items():
                key = canonical_sku(given_key, set(record.custom_skus), given_key)
                old = settings.get(key, SkuSetting())
                excluded = old.excluded if update.excluded is msgspec.UNSET else update.excluded
                manual = (
                    old.manual_units
                    if update.manual_units is msgspec.UNSET
                    else update.manual_units
                )
                settings[key] = SkuSetting(bool(excluded), manual)
            if settings == record.settings:
                return record
            repo.update_package(conn, record.metrc_number, at, settings=settings)
            repo.append_audit(
                conn,
                at,
                AuditEntry(
                    metrc_number=record.metrc_number,
                    actor=actor,
                    action="settings",
                    field="apex_sku_settings",
                    reason="Apex SKU settings changed",
                    before_text=_encode_text(record.settings).decode(),
                    after_text=_encode_text(settings).decode(),
                ),
            )
            append_change(conn, record.metrc_number, "settings", at)
            return self._require(conn, record.metrc_number)

    def put_custom_sku(
        self, metrc_number: str, body: CustomSkuBody, actor: str, *, replace: bool
    ) -> PackageRecord:
        key = validate_custom_sku_key(body.key.strip())
        sku = SkuType(
            name=check.text(body.name, "name"),
            mg_per_unit=grams_to_mg(body.grams_per_unit, "grams_per_unit"),
            pack_size=body.pack_size,
        )
        if sku.mg_per_unit <= 0:
            raise InvalidInput("grams_per_unit", "must be greater than zero")
        with self._write() as (conn, at):
            record = self._require(conn, metrc_number)
            if key in record.custom_skus and not replace:
                raise Conflict(
                    f"custom SKU {key!r} already exists on {record.metrc_number}", key=key
                )
            if record.custom_skus.get(key) == sku:
                return record
            custom = {**record.custom_skus, key: sku}
            self._save_custom(conn, at, record, custom, actor, f"Custom SKU {key} saved")
            return self._require(conn, record.metrc_number)

    def delete_custom_sku(self, metrc_number: str, key: str, actor: str) -> PackageRecord:
        with self._write() as (conn, at):
            record = self._require(conn, metrc_number)
            if key not in record.custom_skus:
                raise NotFound(f"no custom SKU {key!r} on {record.metrc_number}", key=key)
            custom = {k: v for k, v in record.custom_skus.items() if k != key}
            self._save_custom(conn, at, record, custom, actor, f"Custom SKU {key} deleted")
            return self._require(conn, record.metrc_number)

    def _save_custom(
        self,
        conn: Conn,
        at: str,
        record: PackageRecord,
        custom: dict[str, SkuType],
        actor: str,
        reason: str,
    ) -> None:
        settings = {
            k: v for k, v in record.settings.items() if k in custom or k not in record.custom_skus
        }
        repo.update_package(conn, record.metrc_number, at, custom_skus=custom, settings=settings)
        repo.append_audit(
            conn,
            at,
            AuditEntry(
                metrc_number=record.metrc_number,
                actor=actor,
                action="custom_sku",
                field="custom_skus",
                reason=reason,
                before_text=_encode_text(record.custom_skus).decode(),
                after_text=_encode_text(custom).decode(),
            ),
        )
        append_change(conn, record.metrc_number, "custom_skus", at)

    def add_hold(
        self, metrc_number: str, body: HoldCreate, actor: str
    ) -> tuple[PackageRecord, Hold]:
        grams = grams_to_mg(body.grams, "grams")
        if grams <= 0:
            raise InvalidInput("grams", "must be greater than zero")
        reason = check.text(body.reason, "reason", max_length=200)
        with self._write() as (conn, at):
            record = self._require(conn, metrc_number)
            if grams > record.available_mg:
                raise Conflict(
                    f"cannot hold {mg_to_grams(grams)} g: {record.metrc_number} has "
                    f"{mg_to_grams(record.available_mg)} g available",
                    available_grams=mg_to_grams(record.available_mg),
                )
            hold = repo.insert_hold(conn, record.metrc_number, grams, reason, actor, at)
            repo.update_package(conn, record.metrc_number, at)
            repo.append_audit(
                conn,
                at,
                AuditEntry(
                    metrc_number=record.metrc_number,
                    actor=actor,
                    action="hold",
                    field="grams_held",
                    reason=f"Hold placed: {reason}",
                    before_mg=record.held_mg,
                    after_mg=record.held_mg + grams,
                ),
            )
            append_change(conn, record.metrc_number, "holds", at)
            return self._require(conn, record.metrc_number), hold

    def delete_hold(self, metrc_number: str, hold_id: int, actor: str) -> PackageRecord:
        with self._write() as (conn, at):
            record = self._require(conn, metrc_number)
            hold = next((h for h in record.holds if h.id == hold_id), None)
            if hold is None:
                raise NotFound(f"no hold {hold_id} on {record.metrc_number}", id=hold_id)
            repo.delete_hold(conn, hold_id)
            repo.update_package(conn, record.metrc_number, at)
            repo.append_audit(
                conn,
                at,
                AuditEntry(
                    metrc_number=record.metrc_number,
                    actor=actor,
                    action="hold",
                    field="grams_held",
                    reason=f"Hold released: {hold.reason}",
                    before_mg=record.held_mg,
                    after_mg=record.held_mg - hold.grams_mg,
                ),
            )
            append_change(conn, record.metrc_number, "holds", at)
            return self._require(conn, record.metrc_number)

    def decrement(self, metrc_number: str, body: DecrementRequest, actor: str) -> DecrementOutcome:
        key = body.idempotency_key
        with self._write() as (conn, at):
            record = self._require(conn, metrc_number)
            sku_key = canonical_sku(body.sku, set(record.custom_skus), "sku")
            seen = repo.find_decrement(conn, record.metrc_number, key)
            if seen is not None:
                if (seen.sku, seen.units) != (sku_key, body.units):
                    raise Conflict(
                        f"idempotency_key {key!r} was already used on {record.metrc_number} for "
                        f"{seen.units} x {seen.sku}; use a new key for a different sale",
                        code="idempotency_conflict",
                        sku=seen.sku,
                        units=seen.units,
                    )
                return DecrementOutcome(False, record, seen.sku, seen.units)
            if record.status != "active":
                raise Conflict(f"{record.metrc_number} is {record.status}; it sells nothing")
            if record.problem:
                raise Conflict(f"{record.metrc_number} sells nothing until fixed: {record.problem}")
            grams = body.units * record.sku(sku_key).mg_per_sale_unit
            if grams > record.available_mg:
                raise Conflict(
                    f"{body.units} x {sku_key} needs {mg_to_grams(grams)} g; "
                    f"{record.metrc_number} has {mg_to_grams(record.available_mg)} g available",
                    available_grams=mg_to_grams(record.available_mg),
                    requested_grams=mg_to_grams(grams),
                )
            repo.insert_decrement(conn, record.metrc_number, key, sku_key, body.units, grams, at)
            repo.update_package(conn, record.metrc_number, at, {"sold_mg": record.sold_mg + grams})
            repo.append_audit(
                conn,
                at,
                AuditEntry(
                    metrc_number=record.metrc_number,
                    actor=actor,
                    action="apex_decrement",
                    field="grams_ordered",
                    reason=f"Apex sale: {body.units} x {sku_key}",
                    before_mg=record.ordered_mg,
                    after_mg=record.ordered_mg + grams,
                    note=f"idempotency_key={key}",
                ),
            )
            append_change(conn, record.metrc_number, "decrement", at)
            return DecrementOutcome(
                True, self._require(conn, record.metrc_number), sku_key, body.units
            )
