"""Apex vs tracker: every mapped Apex batch, what Apex shows, what the tracker says it should
show, and whether the two agree (docs/apexapi.md, "Apex vs tracker"). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from preroll_contract import spreadsheet_csv
from sync_engine.actions import HoldBack
from sync_engine.kinds import BatchState
from sync_engine.mapping.mapping import BatchMapping, MappingProblem
from sync_engine.snapshot import Drift
from sync_engine.status import BatchRow

__all__ = ["CSV_COLUMNS", "batch_rows", "batches_csv", "in_step"]

CSV_COLUMNS = (
    "batch_id",
    "product",
    "strain",
    "sku",
    "apex_quantity",
    "target",
    "last_push",
    "last_push_at",
    "state",
    "detail",
)


def batch_rows(
    mapping: BatchMapping,
    targets: Mapping[int, int],
    apex_shows: Mapping[int, int | None],
    drifted: Mapping[int, Drift],
    pushes: Mapping[int, tuple[int | None, str]],
    problems: Iterable[MappingProblem],
    held_back: HoldBack | None,
) -> list[BatchRow]:
    why = {batch_id: p.detail for p in problems for batch_id in p.batch_ids}
    zeroing = {a.batch_id for a in held_back.zeroing} if held_back else set()
    rows = []
    for strain_key, batches in sorted(mapping.by_strain.items()):
        for batch in sorted(batches, key=lambda b: (b.sku_key, b.batch_id)):
            target = targets.get(batch.batch_id)
            shows = apex_shows.get(batch.batch_id)
            push, pushed_at = pushes.get(batch.batch_id, (None, None))
            detail = ""
            if (strain_key, batch.sku_key) in mapping.ambiguous:
                state, detail = BatchState.AMBIGUOUS, why.get(batch.batch_id, "")
            elif batch.batch_id in drifted:
                drift = drifted[batch.batch_id]
                state = BatchState.DRIFTED
                detail = (
                    f"changed in Apex to {drift.shown} (ApexAPI had set {drift.confirmed}) at "
                    f"{drift.seen_at}; being set back to {target}"
                )
            elif target is None:
                state, detail = BatchState.NO_PACKAGE, why.get(batch.batch_id, "")
            elif batch.batch_id in zeroing:
                state, detail = BatchState.HELD_BACK, "would be set to 0: confirm to push"
            elif shows == target:
                state = BatchState.IN_STEP
            else:
                state = BatchState.PUSHING
            rows.append(
                BatchRow(
                    batch_id=batch.batch_id,
                    product=batch.product_name,
                    strain=batch.strain,
                    sku=batch.sku_key,
                    apex_quantity=shows,
                    target=target,
                    last_push=push,
                    last_push_at=pushed_at,
                    state=state,
                    detail=detail,
                )
            )
    return rows


def in_step(rows: Iterable[BatchRow]) -> tuple[int, int]:
    """(batches in step, batches mapped)."""
    listed = list(rows)
    return sum(1 for r in listed if r.state == BatchState.IN_STEP), len(listed)


def batches_csv(rows: Iterable[BatchRow]) -> str:
    """The table as CSV; text a spreadsheet would run as a formula is quoted as text."""
    return spreadsheet_csv(
        CSV_COLUMNS, ([getattr(row, column) for column in CSV_COLUMNS] for row in rows)
    )
