"""Wire shapes of the production-batch API."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tracker_service.lib.wire import Grams, Input, PositiveGrams

__all__ = [
    "AdvanceRequest",
    "BatchCreate",
    "BatchRead",
    "BatchUpdate",
    "TolerancesUpdate",
    "Transition",
    "WeightCheckCreate",
    "WeightCheckRead",
]

Count = Annotated[int, Meta(ge=0, le=10_000_000)]
Note = Annotated[str, Meta(max_length=2000)]
Strain = Annotated[str, Meta(min_length=1, max_length=100)]
MetrcTag = Annotated[str, Meta(max_length=64)]
Stage = Literal["grinding", "rolling", "testing", "packaging", "complete", "cancelled"]


class BatchCreate(Input, kw_only=True):
    strain: Strain
    flower_grams_in: PositiveGrams
    preroll_size_g: PositiveGrams
    target_count: Count
    source_metrc: MetrcTag | None = None
    notes: Note = ""


class BatchUpdate(Input, kw_only=True):
    strain: Strain | UnsetType = UNSET
    source_metrc: MetrcTag | UnsetType | None = UNSET
    flower_grams_in: PositiveGrams | UnsetType = UNSET
    target_count: Count | UnsetType = UNSET
    prerolls_out: Count | UnsetType = UNSET
    waste_grams: Grams | UnsetType = UNSET
    notes: Note | UnsetType = UNSET


class AdvanceRequest(Input, kw_only=True):
    #: The stage to move to; omitted = the next stage.
    to: Stage | None = None
    reason: Annotated[str, Meta(max_length=500)] = ""
    #: Leave testing without a passing latest weight check (admins only, needs a reason).
    override: bool = False
    #: METRC tag of the finished-goods package (required to complete).
    finished_metrc: MetrcTag | None = None


class TolerancesUpdate(Input, kw_only=True):
    """Weight-check tolerances in percent (Settings)."""

    unit_tolerance_pct: Annotated[float, Meta(gt=0, le=50)]
    mean_tolerance_pct: Annotated[float, Meta(gt=0, le=50)]


class WeightCheckCreate(Input, kw_only=True):
    weights_grams: Annotated[list[PositiveGrams], Meta(min_length=1, max_length=500)]


class WeightCheckRead(msgspec.Struct, kw_only=True):
    id: int
    at: str
    actor: str
    weights_grams: list[float]
    unit_passes: list[bool]
    mean_grams: float
    mean_passed: bool
    passed: bool
    unit_tolerance_pct: float
    mean_tolerance_pct: float


class Transition(msgspec.Struct, kw_only=True):
    at: str
    actor: str
    from_stage: str | None
    to_stage: str
    reason: str
    override: bool


class BatchRead(msgspec.Struct, kw_only=True):
    id: int
    code: str
    strain: str
    source_metrc: str | None
    flower_grams_in: float
    preroll_size_g: float
    target_count: int
    stage: str
    prerolls_out: int
    waste_grams: float
    grams_out: float
    yield_pct: float
    loss_grams: float
    notes: str
    finished_metrc: str | None
    created_at: str
    updated_at: str
    completed_at: str | None
    latest_weight_check: WeightCheckRead | None
    transitions: list[Transition]
