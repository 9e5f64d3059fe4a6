"""Batch rows → wire shapes, with yield and loss computed."""

from __future__ import annotations

from tracker_service.batches import rules
from tracker_service.batches.repository import BatchRow, TransitionRow, WeightCheckRow
from tracker_service.batches.schemas import BatchRead, Transition, WeightCheckRead
from tracker_service.lib.grams import mg_to_grams

__all__ = ["to_batch_read", "to_weight_check_read"]


def to_weight_check_read(row: WeightCheckRow, size_mg: int) -> WeightCheckRead:
    tol = rules.Tolerances(row.unit_tol_bp, row.mean_tol_bp)
    result = rules.evaluate_weight_check(size_mg, row.weights_mg, tol)
    return WeightCheckRead(
        id=row.id,
        at=row.at,
        actor=row.actor,
        weights_grams=[mg_to_grams(w) for w in row.weights_mg],
        unit_passes=list(result.unit_passes),
        mean_grams=mg_to_grams(result.mean_mg),
        mean_passed=result.mean_passed,
        passed=row.passed,
        unit_tolerance_pct=tol.unit_bp / 100,
        mean_tolerance_pct=tol.mean_bp / 100,
    )


def to_batch_read(
    row: BatchRow, transitions: list[TransitionRow], latest_check: WeightCheckRow | None
) -> BatchRead:
    out_mg, yield_bp, loss_mg = rules.yield_and_loss(
        row.flower_in_mg, row.prerolls_out, row.preroll_size_mg, row.waste_mg
    )
    return BatchRead(
        id=row.id,
        code=row.code,
        strain=row.strain,
        source_metrc=row.source_metrc,
        flower_grams_in=mg_to_grams(row.flower_in_mg),
        preroll_size_g=mg_to_grams(row.preroll_size_mg),
        target_count=row.target_count,
        stage=row.stage,
        prerolls_out=row.prerolls_out,
        waste_grams=mg_to_grams(row.waste_mg),
        grams_out=mg_to_grams(out_mg),
        yield_pct=yield_bp / 100,
        loss_grams=mg_to_grams(loss_mg),
        notes=row.notes,
        finished_metrc=row.finished_metrc,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        latest_weight_check=(
            None
            if latest_check is None
            else to_weight_check_read(latest_check, row.preroll_size_mg)
        ),
        transitions=[
            Transition(
                at=t.at,
                actor=t.actor,
                from_stage=t.from_stage,
                to_stage=t.to_stage,
                reason=t.reason,
                override=t.override,
            )
            for t in transitions
        ],
    )
