"""SQL for production batches, their stage transitions and weight checks: typed query
functions that take a connection (services decide the transactions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from tracker_service.lib.db import Conn

__all__ = [
    "BatchRow",
    "TransitionRow",
    "WeightCheckRow",
    "count_batches_of_year",
    "count_by_stage",
    "insert_batch",
    "insert_transition",
    "insert_weight_check",
    "latest_check_passed",
    "load_batch",
    "load_batches",
    "load_transitions",
    "load_weight_check",
    "load_weight_checks",
    "set_finished_metrc",
    "set_stage",
    "touch_batch",
    "update_batch",
]


class BatchRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    code: str
    strain: str
    source_metrc: str | None
    flower_in_mg: int
    preroll_size_mg: int
    target_count: int
    stage: str
    prerolls_out: int
    waste_mg: int
    notes: str
    finished_metrc: str | None
    created_by: str
    created_at: str
    updated_at: str
    completed_at: str | None


class TransitionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    batch_id: int
    at: str
    actor: str
    from_stage: str | None
    to_stage: str
    reason: str
    override: bool


class WeightCheckRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    batch_id: int
    at: str
    actor: str
    weights_mg: list[int]
    passed: bool
    mean_mg: int
    unit_tol_bp: int
    mean_tol_bp: int


def _batch(row: Any) -> BatchRow:
    return BatchRow(**{name: row[name] for name in BatchRow.__struct_fields__})


def _check(row: Any) -> WeightCheckRow:
    values = {name: row[name] for name in WeightCheckRow.__struct_fields__}
    values["weights_mg"] = msgspec.json.decode(row["weights_mg"], type=list[int])
    values["passed"] = bool(row["passed"])
    return WeightCheckRow(**values)


def load_batch(conn: Conn, batch_id: int) -> BatchRow | None:
    row = conn.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
    return None if row is None else _batch(row)


def load_batches(
    conn: Conn, *, stage: str | None = None, stages: Sequence[str] | None = None
) -> list[BatchRow]:
    """Batches newest first; ``stage`` or ``stages`` narrow the set."""
    clauses, params = [], []
    if stage is not None:
        clauses.append("stage = ?")
        params.append(stage)
    if stages is not None:
        clauses.append(f"stage IN ({','.join('?' * len(stages))})")
        params.extend(stages)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(f"SELECT * FROM batches{where} ORDER BY id DESC", params)
    return [_batch(row) for row in rows]


def count_by_stage(conn: Conn) -> dict[str, int]:
    rows = conn.execute("SELECT stage, COUNT(*) FROM batches GROUP BY stage")
    return {str(stage): int(count) for stage, count in rows}


def count_batches_of_year(conn: Conn, year: int) -> int:
    row = conn.execute("SELECT COUNT(*) FROM batches WHERE code LIKE ?", (f"PR-{year}-%",))
    return int(row.fetchone()[0])


def insert_batch(
    conn: Conn,
    *,
    code: str,
    strain: str,
    source_metrc: str | None,
    flower_in_mg: int,
    preroll_size_mg: int,
    target_count: int,
    notes: str,
    actor: str,
    at: str,
) -> int:
    cursor = conn.execute(
        """INSERT INTO batches (code, strain, source_metrc, flower_in_mg, preroll_size_mg,
               target_count, stage, notes, created_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'grinding', ?, ?, ?, ?)""",
        (
            *(code, strain, source_metrc, flower_in_mg, preroll_size_mg, target_count),
            *(notes, actor, at, at),
        ),
    )
    return int(cursor.lastrowid or 0)


_UPDATABLE = frozenset(
    {"strain", "source_metrc", "flower_in_mg", "target_count", "prerolls_out", "waste_mg", "notes"}
)


def update_batch(conn: Conn, batch_id: int, at: str, columns: dict[str, object]) -> None:
    unknown = set(columns) - _UPDATABLE
    if unknown:  # pragma: no cover - programming error
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in columns)
    conn.execute(
        f"UPDATE batches SET {assignments}, updated_at = ? WHERE id = ?",
        (*columns.values(), at, batch_id),
    )


def touch_batch(conn: Conn, batch_id: int, at: str) -> None:
    conn.execute("UPDATE batches SET updated_at = ? WHERE id = ?", (at, batch_id))


def set_stage(conn: Conn, batch_id: int, stage: str, at: str) -> None:
    conn.execute(
        "UPDATE batches SET stage = ?, updated_at = ?, completed_at = ? WHERE id = ?",
        (stage, at, at if stage == "complete" else None, batch_id),
    )


def set_finished_metrc(conn: Conn, batch_id: int, metrc_number: str) -> None:
    conn.execute("UPDATE batches SET finished_metrc = ? WHERE id = ?", (metrc_number, batch_id))


def insert_transition(
    conn: Conn,
    *,
    batch_id: int,
    at: str,
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


def load_transitions(conn: Conn, batch_id: int) -> list[TransitionRow]:
    rows = conn.execute(
        "SELECT * FROM batch_transitions WHERE batch_id = ? ORDER BY id", (batch_id,)
    )
    return [
        TransitionRow(
            id=row["id"],
            batch_id=row["batch_id"],
            at=row["at"],
            actor=row["actor"],
            from_stage=row["from_stage"],
            to_stage=row["to_stage"],
            reason=row["reason"],
            override=bool(row["override"]),
        )
        for row in rows
    ]


def insert_weight_check(
    conn: Conn,
    *,
    batch_id: int,
    at: str,
    actor: str,
    weights_mg: list[int],
    passed: bool,
    mean_mg: int,
    unit_tol_bp: int,
    mean_tol_bp: int,
) -> int:
    cursor = conn.execute(
        """INSERT INTO weight_checks (batch_id, at, actor, weights_mg, passed, mean_mg,
               unit_tol_bp, mean_tol_bp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            *(batch_id, at, actor, msgspec.json.encode(weights_mg).decode(), passed),
            *(mean_mg, unit_tol_bp, mean_tol_bp),
        ),
    )
    return int(cursor.lastrowid or 0)


def load_weight_check(conn: Conn, check_id: int) -> WeightCheckRow:
    return _check(conn.execute("SELECT * FROM weight_checks WHERE id = ?", (check_id,)).fetchone())


def load_weight_checks(conn: Conn, batch_id: int) -> list[WeightCheckRow]:
    rows = conn.execute("SELECT * FROM weight_checks WHERE batch_id = ? ORDER BY id", (batch_id,))
    return [_check(row) for row in rows]


def latest_check_passed(conn: Conn, batch_id: int) -> bool:
    row = conn.execute(
        "SELECT passed FROM weight_checks WHERE batch_id = ? ORDER BY id DESC LIMIT 1",
        (batch_id,),
    ).fetchone()
    return row is not None and bool(row["passed"])
