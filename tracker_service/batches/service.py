"""Production-batch operations; completion creates or tops up the finished-goods package in
the same transaction (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from preroll_contract import strain_key
from tracker_service.batches import repository as repo
from tracker_service.batches import rules
from tracker_service.batches.repository import BatchRow, TransitionRow, WeightCheckRow
from tracker_service.batches.schemas import (
    AdvanceRequest,
    BatchCreate,
    BatchUpdate,
    TolerancesUpdate,
    WeightCheckCreate,
)
from tracker_service.finished_goods import repository as fg_repo
from tracker_service.finished_goods import validation as check
from tracker_service.finished_goods.records import PackageRecord
from tracker_service.finished_goods.repository import AuditEntry
from tracker_service.lib.db import Conn
from tracker_service.lib.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker_service.lib.grams import grams_to_mg
from tracker_service.lib.repository import append_change, load_settings, save_setting
from tracker_service.lib.writes import WritingService
from tracker_service.metrc.outbox import MetrcLink

__all__ = ["BatchService"]

_UNIT_KEY, _MEAN_KEY = "unit_tolerance_bp", "mean_tolerance_bp"


class BatchService(WritingService):
    # -- tolerances --------------------------------------------------------------------------

    def tolerances(self, conn: Conn | None = None) -> rules.Tolerances:
        keys = (_UNIT_KEY, _MEAN_KEY)
        stored = load_settings(conn, keys) if conn else self.db.query(load_settings, keys)
        default = rules.Tolerances()
        return rules.Tolerances(
            int(stored.get(_UNIT_KEY, default.unit_bp)), int(stored.get(_MEAN_KEY, default.mean_bp))
        )

    def set_tolerances(self, body: TolerancesUpdate) -> rules.Tolerances:
        values = {}
        for field, pct in (
            ("unit_tolerance_pct", body.unit_tolerance_pct),
            ("mean_tolerance_pct", body.mean_tolerance_pct),
        ):
            bp = round(pct * 100)
            if not 0 < bp <= 5000 or abs(pct * 100 - bp) > 1e-6:
                raise InvalidInput(
                    field, "must be a percentage above 0 and at most 50, with at most 2 decimals"
                )
            values[field] = bp
        with self._write() as (conn, _):
            save_setting(conn, _UNIT_KEY, str(values["unit_tolerance_pct"]))
            save_setting(conn, _MEAN_KEY, str(values["mean_tolerance_pct"]))
        return self.tolerances()

    # -- reads -------------------------------------------------------------------------------

    def get(self, batch_id: int, conn: Conn | None = None) -> BatchRow:
        row = None
        if 0 < batch_id < 2**63:  # beyond SQLite's integers a batch cannot exist
            row = (
                repo.load_batch(conn, batch_id)
                if conn
                else self.db.query(repo.load_batch, batch_id)
            )
        if row is None:
            raise NotFound(f"no production batch {batch_id}")
        return row

    def list_batches(self, stage: str | None = None, active: bool | None = None) -> list[BatchRow]:
        if stage is not None and stage not in rules.STAGES:
            raise InvalidInput("stage", f"must be one of {', '.join(rules.STAGES)}")
        stages = None
        if active is not None:
            stages = [s for s in rules.STAGES if (s in rules.ACTIVE_STAGES) == active]
        return self.db.query(repo.load_batches, stage=stage, stages=stages)

    def transitions(self, batch_id: int) -> list[TransitionRow]:
        return self.db.query(repo.load_transitions, batch_id)

    def weight_checks(self, batch_id: int) -> list[WeightCheckRow]:
        return self.db.query(repo.load_weight_checks, batch_id)

    def counts_by_stage(self) -> dict[str, int]:
        return dict.fromkeys(rules.STAGES, 0) | self.db.query(repo.count_by_stage)

    # -- writes ------------------------------------------------------------------------------

    def create(self, body: BatchCreate, actor: str) -> BatchRow:
        strain = check.text(body.strain, "strain")
        flower = grams_to_mg(body.flower_grams_in, "flower_grams_in")
        size = grams_to_mg(body.preroll_size_g, "preroll_size_g")
        for field, value in (("flower_grams_in", flower), ("preroll_size_g", size)):
            if value <= 0:
                raise InvalidInput(field, "must be greater than zero")
        source = (
            check.metrc_number(body.source_metrc, "source_metrc") if body.source_metrc else None
        )
        with self._write() as (conn, at):
            year = datetime.now(UTC).year
            number = repo.count_batches_of_year(conn, year) + 1
            batch_id = repo.insert_batch(
                conn,
                code=f"PR-{year}-{number:04d}",
                strain=strain,
                source_metrc=source,
                flower_in_mg=flower,
                preroll_size_mg=size,
                target_count=body.target_count,
                notes=body.notes.strip(),
                actor=actor,
                at=at,
            )
            repo.insert_transition(
                conn,
                batch_id=batch_id,
                at=at,
                actor=actor,
                from_stage=None,
                to_stage="grinding",
                reason="Batch started",
            )
            return self.get(batch_id, conn)

    def update(self, batch_id: int, body: BatchUpdate, actor: str) -> BatchRow:
        columns: dict[str, object] = {}
        if isinstance(body.strain, str):
            columns["strain"] = check.text(body.strain, "strain")
        if body.source_metrc is None or isinstance(body.source_metrc, str):
            columns["source_metrc"] = (
                check.metrc_number(body.source_metrc, "source_metrc") if body.source_metrc else None
            )
        if isinstance(body.flower_grams_in, float | int):
            columns["flower_in_mg"] = grams_to_mg(body.flower_grams_in, "flower_grams_in")
            if columns["flower_in_mg"] == 0:
                raise InvalidInput("flower_grams_in", "must be greater than zero")
        if isinstance(body.waste_grams, float | int):
            columns["waste_mg"] = grams_to_mg(body.waste_grams, "waste_grams")
        for name in ("target_count", "prerolls_out"):
            value = getattr(body, name)
            if isinstance(value, int):
                columns[name] = value
        if isinstance(body.notes, str):
            columns["notes"] = body.notes.strip()
        if not columns:
            raise InvalidInput("body", "give at least one field to change")
        with self._write() as (conn, at):
            row = self.get(batch_id, conn)
            if row.stage in ("complete", "cancelled"):
                raise Conflict(f"batch {row.code} is {row.stage}; it cannot be edited")
            repo.update_batch(conn, batch_id, at, columns)
            return self.get(batch_id, conn)

    def add_weight_check(
        self, batch_id: int, body: WeightCheckCreate, actor: str
    ) -> WeightCheckRow:
        weights = [grams_to_mg(w, f"weights_grams[{i}]") for i, w in enumerate(body.weights_grams)]
        if any(w == 0 for w in weights):
            raise InvalidInput("weights_grams", "every weight must be greater than zero")
        with self._write() as (conn, at):
            row = self.get(batch_id, conn)
            if row.stage != "testing":
                raise Conflict(
                    f"batch {row.code} is in {row.stage}; weight checks are recorded in testing"
                )
            tol = self.tolerances(conn)
            result = rules.evaluate_weight_check(row.preroll_size_mg, weights, tol)
            check_id = repo.insert_weight_check(
                conn,
                batch_id=batch_id,
                at=at,
                actor=actor,
                weights_mg=weights,
                passed=result.passed,
                mean_mg=result.mean_mg,
                unit_tol_bp=tol.unit_bp,
                mean_tol_bp=tol.mean_bp,
            )
            repo.touch_batch(conn, batch_id, at)
            return repo.load_weight_check(conn, check_id)

    def advance(
        self, batch_id: int, body: AdvanceRequest, actor: str, *, is_admin: bool
    ) -> BatchRow:
        reason = body.reason.strip()
        if body.to is not None and body.to not in rules.STAGES:
            raise InvalidInput("to", f"must be one of {', '.join(rules.STAGES)}")
        with self._write() as (conn, at):
            row = self.get(batch_id, conn)
            current = row.stage
            target = body.to or rules.next_stage(current)
            kind = rules.transition_kind(current, target) if target else "invalid"
            if kind == "invalid" or target is None:
                raise Conflict(
                    f"batch {row.code} cannot move from {current} to "
                    f"{target or 'anywhere'}: forward one stage at a time; moving "
                    "back or cancelling needs a reason",
                    stage=current,
                )
            if kind in ("back", "cancel") and not reason:
                raise InvalidInput("reason", "is required to move a batch back or cancel it")
            overridden = False
            if kind == "forward" and current == "testing":
                overridden = self._check_testing_exit(conn, row, body, reason, is_admin)
            if target == "complete":
                self._complete(conn, at, row, body, actor)
            repo.set_stage(conn, batch_id, target, at)
            repo.insert_transition(
                conn,
                batch_id=batch_id,
                at=at,
                actor=actor,
                from_stage=current,
                to_stage=target,
                reason=reason,
                override=overridden,
            )
            return self.get(batch_id, conn)

    @staticmethod
    def _check_testing_exit(
        conn: Conn, row: BatchRow, body: AdvanceRequest, reason: str, is_admin: bool
    ) -> bool:
        if repo.latest_check_passed(conn, row.id):
            return False
        if not body.override:
            raise Conflict(
                f"batch {row.code} has no passing latest weight check; record one "
                "(or an admin may override with a reason)"
            )
        if not is_admin:
            raise Forbidden("only an admin may override a failed or missing weight check")
        if not reason:
            raise InvalidInput("reason", "is required to override the weight check")
        return True

    #: Set by ``Services``: queues the new package for METRC when its sync is on.
    metrc: MetrcLink | None = None

    def _complete(
        self, conn: Conn, at: str, row: BatchRow, body: AdvanceRequest, actor: str
    ) -> None:
        if not body.finished_metrc:
            raise InvalidInput(
                "finished_metrc",
                "the METRC tag of the finished package is required to complete a batch",
            )
        tag = check.metrc_number(body.finished_metrc, "finished_metrc")
        if row.prerolls_out <= 0:
            raise Conflict(f"batch {row.code} has no pre-rolls out recorded; enter them first")
        grams = row.prerolls_out * row.preroll_size_mg
        why = f"Production batch {row.code} completed: {row.prerolls_out} pre-rolls"
        package = fg_repo.load_package(conn, tag)
        if package is None:
            fg_repo.insert_package(conn, PackageRecord.new(tag, row.strain, grams, grams, at))
            before, kind = None, "created"
        elif package.status != "active":
            raise Conflict(f"package {tag} is {package.status}; choose an active package")
        elif package.strain_key != strain_key(row.strain):
            raise Conflict(f"package {tag} holds {package.strain}, not {row.strain}")
        else:
            fg_repo.update_package(conn, tag, at, {"current_mg": package.current_mg + grams})
            fg_repo.add_to_initial(conn, tag, grams)
            before, kind = package.current_mg, "adjusted"
        fg_repo.append_audit(
            conn,
            at,
            AuditEntry(
                metrc_number=tag,
                actor=actor,
                action="production",
                field="current_grams",
                before_mg=before,
                after_mg=(before or 0) + grams,
                reason=why,
            ),
        )
        append_change(conn, tag, kind, at)
        repo.set_finished_metrc(conn, row.id, tag)
        if self.metrc is not None:
            self.metrc.completed(
                conn,
                label=tag,
                strain=row.strain,
                grams_mg=grams,
                source_label=row.source_metrc,
                source_mg=row.flower_in_mg,
                into_existing=before is not None,
                actor=actor,
                at=at,
            )
