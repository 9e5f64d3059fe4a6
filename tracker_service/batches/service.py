"""Production-batch operations; completion creates or tops up the finished-goods package in
the same transaction (SPEC §2.1)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import msgspec

from tracker_service.batches import rules
from tracker_service.batches.schemas import (
    AdvanceRequest,
    BatchCreate,
    BatchUpdate,
    WeightCheckCreate,
)
from tracker_service.finished_goods import repository as fg_repo
from tracker_service.finished_goods import validation as check
from tracker_service.finished_goods.records import PackageRecord
from tracker_service.finished_goods.repository import AuditEntry
from tracker_service.lib.changes import append_change
from tracker_service.lib.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker_service.lib.grams import grams_to_mg
from tracker_service.lib.writes import WritingService

__all__ = ["BatchService"]

_UNIT_KEY, _MEAN_KEY = "unit_tolerance_bp", "mean_tolerance_bp"


class BatchService(WritingService):
    # -- tolerances --------------------------------------------------------------------------

    def tolerances(self, conn: sqlite3.Connection | None = None) -> rules.Tolerances:
        rows = dict(
            (conn or self.db.reader())
            .execute("SELECT key, value FROM settings WHERE key IN (?, ?)", (_UNIT_KEY, _MEAN_KEY))
            .fetchall()
        )
        default = rules.Tolerances()
        return rules.Tolerances(
            int(rows.get(_UNIT_KEY, default.unit_bp)), int(rows.get(_MEAN_KEY, default.mean_bp))
        )

    def set_tolerances(self, unit_pct: float, mean_pct: float) -> rules.Tolerances:
        values = {}
        for field, pct in (("unit_tolerance_pct", unit_pct), ("mean_tolerance_pct", mean_pct)):
            bp = round(pct * 100)
            if not 0 < bp <= 5000 or abs(pct * 100 - bp) > 1e-6:
                raise InvalidInput(
                    field, "must be a percentage above 0 and at most 50, with at most 2 decimals"
                )
            values[field] = bp
        with self._write() as (conn, _):
            for key, bp in (
                (_UNIT_KEY, values["unit_tolerance_pct"]),
                (_MEAN_KEY, values["mean_tolerance_pct"]),
            ):
                conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key)"
                    " DO UPDATE SET value = excluded.value",
                    (key, str(bp)),
                )
        return self.tolerances()

    # -- reads -------------------------------------------------------------------------------

    def get(self, batch_id: int, conn: sqlite3.Connection | None = None) -> sqlite3.Row:
        if not 0 < batch_id < 2**63:  # beyond SQLite's integers: cannot exist
            raise NotFound(f"no production batch {batch_id}")
        row = (
            (conn or self.db.reader())
            .execute("SELECT * FROM batches WHERE id = ?", (batch_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"no production batch {batch_id}")
        found: sqlite3.Row = row
        return found

    def list_batches(
        self, stage: str | None = None, active: bool | None = None
    ) -> list[sqlite3.Row]:
        clauses, params = [], []
        if stage is not None:
            if stage not in rules.STAGES:
                raise InvalidInput("stage", f"must be one of {', '.join(rules.STAGES)}")
            clauses.append("stage = ?")
            params.append(stage)
        if active is not None:
            marks = ",".join("?" * len(rules.ACTIVE_STAGES))
            clauses.append(f"stage {'' if active else 'NOT '}IN ({marks})")
            params += list(rules.ACTIVE_STAGES)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return (
            self.db.reader()
            .execute(f"SELECT * FROM batches{where} ORDER BY id DESC", params)
            .fetchall()
        )

    def transitions(self, batch_id: int) -> list[sqlite3.Row]:
        return (
            self.db.reader()
            .execute("SELECT * FROM batch_transitions WHERE batch_id = ? ORDER BY id", (batch_id,))
            .fetchall()
        )

    def weight_checks(self, batch_id: int) -> list[sqlite3.Row]:
        return (
            self.db.reader()
            .execute("SELECT * FROM weight_checks WHERE batch_id = ? ORDER BY id", (batch_id,))
            .fetchall()
        )

    def counts_by_stage(self) -> dict[str, int]:
        counts = dict.fromkeys(rules.STAGES, 0)
        for stage, count in self.db.reader().execute(
            "SELECT stage, COUNT(*) FROM batches GROUP BY stage"
        ):
            counts[stage] = count
        return counts

    # -- writes ------------------------------------------------------------------------------

    def create(self, body: BatchCreate, actor: str) -> sqlite3.Row:
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
            number = (
                conn.execute(
                    "SELECT COUNT(*) FROM batches WHERE code LIKE ?", (f"PR-{year}-%",)
                ).fetchone()[0]
                + 1
            )
            cursor = conn.execute(
                """INSERT INTO batches (code, strain, source_metrc, flower_in_mg, preroll_size_mg,
                       target_count, stage, notes, created_by, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, 'grinding', ?, ?, ?, ?)""",
                (
                    f"PR-{year}-{number:04d}",
                    strain,
                    source,
                    flower,
                    size,
                    body.target_count,
                    body.notes.strip(),
                    actor,
                    at,
                    at,
                ),
            )
            batch_id = int(cursor.lastrowid or 0)
            self._transition(conn, at, batch_id, actor, None, "grinding", "Batch started")
            return self.get(batch_id, conn)

    def update(self, batch_id: int, body: BatchUpdate, actor: str) -> sqlite3.Row:
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
            if row["stage"] in ("complete", "cancelled"):
                raise Conflict(f"batch {row['code']} is {row['stage']}; it cannot be edited")
            assignments = ", ".join(f"{c} = ?" for c in columns)
            conn.execute(
                f"UPDATE batches SET {assignments}, updated_at = ? WHERE id = ?",
                (*columns.values(), at, batch_id),
            )
            return self.get(batch_id, conn)

    def add_weight_check(self, batch_id: int, body: WeightCheckCreate, actor: str) -> sqlite3.Row:
        weights = [grams_to_mg(w, f"weights_grams[{i}]") for i, w in enumerate(body.weights_grams)]
        if any(w == 0 for w in weights):
            raise InvalidInput("weights_grams", "every weight must be greater than zero")
        with self._write() as (conn, at):
            row = self.get(batch_id, conn)
            if row["stage"] != "testing":
                raise Conflict(
                    f"batch {row['code']} is in {row['stage']}; weight checks are "
                    "recorded in testing"
                )
            tol = self.tolerances(conn)
            result = rules.evaluate_weight_check(row["preroll_size_mg"], weights, tol)
            cursor = conn.execute(
                """INSERT INTO weight_checks (batch_id, at, actor, weights_mg, passed, mean_mg,
                       unit_tol_bp, mean_tol_bp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    batch_id,
                    at,
                    actor,
                    msgspec.json.encode(weights).decode(),
                    result.passed,
                    result.mean_mg,
                    tol.unit_bp,
                    tol.mean_bp,
                ),
            )
            conn.execute("UPDATE batches SET updated_at = ? WHERE id = ?", (at, batch_id))
            stored: sqlite3.Row = conn.execute(
                "SELECT * FROM weight_checks WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
            return stored

    def advance(
        self, batch_id: int, body: AdvanceRequest, actor: str, *, is_admin: bool
    ) -> sqlite3.Row:
        reason = body.reason.strip()
        if body.to is not None and body.to not in rules.STAGES:
            raise InvalidInput("to", f"must be one of {', '.join(rules.STAGES)}")
        with self._write() as (conn, at):
            row = self.get(batch_id, conn)
            current = row["stage"]
            target = body.to or rules.next_stage(current)
            kind = rules.transition_kind(current, target) if target else "invalid"
            if kind == "invalid":
                raise Conflict(
                    f"batch {row['code']} cannot move from {current} to "
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
            conn.execute(
                "UPDATE batches SET stage = ?, updated_at = ?, completed_at = ? WHERE id = ?",
                (target, at, at if target == "complete" else None, batch_id),
            )
            self._transition(conn, at, batch_id, actor, current, str(target), reason, overridden)
            return self.get(batch_id, conn)

    def _check_testing_exit(
        self,
        conn: sqlite3.Connection,
        row: sqlite3.Row,
        body: AdvanceRequest,
        reason: str,
        is_admin: bool,
    ) -> bool:
        latest = conn.execute(
            "SELECT passed FROM weight_checks WHERE batch_id = ? ORDER BY id DESC LIMIT 1",
            (row["id"],),
        ).fetchone()
        if latest is not None and latest["passed"]:
            return False
        if not body.override:
            raise Conflict(
                f"batch {row['code']} has no passing latest weight check; record one "
                "(or an admin may override with a reason)"
            )
        if not is_admin:
            raise Forbidden("only an admin may override a failed or missing weight check")
        if not reason:
            raise InvalidInput("reason", "is required to override the weight check")
        return True

    def _complete(
        self, conn: sqlite3.Connection, at: str, row: sqlite3.Row, body: AdvanceRequest, actor: str
    ) -> None:
        if not body.finished_metrc:
            raise InvalidInput(
                "finished_metrc",
                "the METRC tag of the finished package is required to complete a batch",
            )
        tag = check.metrc_number(body.finished_metrc, "finished_metrc")
        if row["prerolls_out"] <= 0:
            raise Conflict(f"batch {row['code']} has no pre-rolls out recorded; enter them first")
        grams = row["prerolls_out"] * row["preroll_size_mg"]
        why = f"Production batch {row['code']} completed: {row['prerolls_out']} pre-rolls"
        package = fg_repo.load_package(conn, tag)
        if package is None:
            fg_repo.insert_package(conn, PackageRecord.new(tag, row["strain"], grams, grams, at))
            before, kind = None, "created"
        elif package.status != "active":
            raise Conflict(f"package {tag} is {package.status}; choose an active package")
        elif " ".join(package.strain.casefold().split()) != " ".join(
            row["strain"].casefold().split()
        ):
            raise Conflict(f"package {tag} holds {package.strain}, not {row['strain']}")
        else:
            fg_repo.update_package(conn, tag, at, {"current_mg": package.current_mg + grams})
            conn.execute(
                "UPDATE packages SET initial_mg = initial_mg + ? WHERE metrc_number = ?",
                (grams, tag),
            )
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
        conn.execute("UPDATE batches SET finished_metrc = ? WHERE id = ?", (tag, row["id"]))

    @staticmethod
    def _transition(
        conn: sqlite3.Connection,
        at: str,
        batch_id: int,
        actor: str,
        from_stage: str | None,
        to_stage: str,
        reason: str,
        override: bool = False,
    ) -> None:
        conn.execute(
            "INSERT INTO batch_transitions (batch_id, at, actor, from_stage, to_stage, reason,"
            " override) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (batch_id, at, actor, from_stage, to_stage, reason, override),
        )
