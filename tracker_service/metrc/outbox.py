"""Putting changes in the METRC outbox, inside the transaction that makes them (docs/metrc.md,
"Outbox"): an adjustment recorded in the tracker, a completed batch's new package, a drift
settled in the tracker's favour. Nothing here talks to METRC; ``sender.py`` does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tracker_service.lib.db import Conn
from tracker_service.lib.errors import InvalidInput
from tracker_service.metrc import repository as repo
from tracker_service.metrc.schemas import MetrcSettings, OutboxState

__all__ = ["MetrcLink", "enqueue_adjustment", "enqueue_creation", "entry_state"]


def entry_state(settings: MetrcSettings) -> OutboxState:
    return "awaiting_review" if settings.review_before_submit else "pending"


def enqueue_adjustment(
    conn: Conn,
    settings: MetrcSettings,
    *,
    label: str,
    delta_mg: int,
    reason: str,
    note: str | None,
    actor: str,
    at: str,
) -> int:
    """An adjustment for METRC in grams; a counted package's is converted to units when sent
    (its unit is known only from METRC)."""
    body: dict[str, Any] = {
        "Label": label,
        "Quantity": float(Decimal(delta_mg) / 1000),
        "UnitOfMeasure": "Grams",
        "AdjustmentReason": reason,
        "AdjustmentDate": date.today().isoformat(),
    }
    if note:
        body["ReasonNote"] = note
    return repo.insert_entry(
        conn,
        kind="adjust",
        label=label,
        body=body,
        delta_mg=delta_mg,
        state=entry_state(settings),
        actor=actor,
        at=at,
    )


def enqueue_creation(
    conn: Conn,
    settings: MetrcSettings,
    *,
    label: str,
    strain: str,
    grams_mg: int,
    source_label: str,
    source_mg: int,
    actor: str,
    at: str,
) -> int:
    """A completed batch's package, made in METRC from its source package. The item is chosen
    when it is sent (METRC's pre-roll item of the strain)."""
    body: dict[str, Any] = {
        "Tag": label,
        "Strain": strain,
        "Quantity": float(Decimal(grams_mg) / 1000),
        "UnitOfMeasure": "Grams",
        "ActualDate": date.today().isoformat(),
        "Ingredients": [
            {
                "Package": source_label,
                "Quantity": float(Decimal(source_mg) / 1000),
                "UnitOfMeasure": "Grams",
            }
        ],
    }
    return repo.insert_entry(
        conn,
        kind="create",
        label=label,
        body=body,
        delta_mg=grams_mg,
        state=entry_state(settings),
        actor=actor,
        at=at,
    )


class MetrcLink:
    """What the package and batch services ask of the METRC sync, inside their own
    transactions: which adjustment reasons count, and what to queue for METRC."""

    def reasons(self, conn: Conn) -> list[tuple[str, bool]] | None:
        """METRC's reasons (name, note required) while the sync is on; None otherwise."""
        if not repo.load_metrc_settings(conn).enabled:
            return None
        return [(name, bool(note)) for name, note in repo.load_pull_status(conn).reasons] or None

    def adjusted(
        self,
        conn: Conn,
        *,
        label: str,
        delta_mg: int,
        reason: str,
        note: str | None,
        actor: str,
        at: str,
    ) -> None:
        settings = repo.load_metrc_settings(conn)
        if not settings.enabled or actor == "metrc":
            return
        known = repo.load_known(conn, [label]).get(label)
        if known is not None and known.unit == "Each":
            each = known.unit_weight_mg or 0
            if not each or delta_mg % each:
                grams = "unknown" if not each else f"{Decimal(each) / 1000} g"
                raise InvalidInput(
                    "delta_grams",
                    f"{label} is counted in METRC ({known.item_name}, {grams} each): adjust"
                    " by a whole number of units",
                )
        enqueue_adjustment(
            conn,
            settings,
            label=label,
            delta_mg=delta_mg,
            reason=reason,
            note=note,
            actor=actor,
            at=at,
        )

    def completed(
        self,
        conn: Conn,
        *,
        label: str,
        strain: str,
        grams_mg: int,
        source_label: str | None,
        source_mg: int,
        into_existing: bool,
        actor: str,
        at: str,
    ) -> None:
        settings = repo.load_metrc_settings(conn)
        if not settings.enabled:
            return
        entry = enqueue_creation(
            conn,
            settings,
            label=label,
            strain=strain,
            grams_mg=grams_mg,
            source_label=source_label or "",
            source_mg=source_mg,
            actor=actor,
            at=at,
        )
        problem = None
        if into_existing:
            problem = (
                "the pre-rolls went into an existing package; METRC makes packages only new,"
                " from a source: record this production in METRC by hand"
            )
        elif not source_label:
            problem = (
                "the batch names no source package (METRC creates a package only from another"
                " one): create it in METRC by hand"
            )
        if problem:
            repo.update_entry(
                conn,
                entry,
                state="failed",
                last_error=problem,
            )
