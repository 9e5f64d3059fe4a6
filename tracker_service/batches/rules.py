"""Pure production rules: stage order, weight-check tolerances, yield and loss (docs/api.md).

Tolerances are basis points (1000 = 10 %) and weights milligrams, so every comparison is exact
integer arithmetic: a weight exactly at ±10 % passes.
"""

from __future__ import annotations

from typing import Final

import msgspec

__all__ = [
    "ACTIVE_STAGES",
    "STAGES",
    "CheckResult",
    "Tolerances",
    "evaluate_weight_check",
    "transition_kind",
    "yield_and_loss",
]

STAGES: Final = ("grinding", "rolling", "testing", "packaging", "complete", "cancelled")
FORWARD: Final = ("grinding", "rolling", "testing", "packaging", "complete")
ACTIVE_STAGES: Final = FORWARD[:-1]


class Tolerances(msgspec.Struct, frozen=True):
    unit_bp: int = 1000  # each pre-roll within ±10 % of the size
    mean_bp: int = 500  # the mean within ±5 %


class CheckResult(msgspec.Struct, frozen=True):
    passed: bool
    mean_mg: int  # rounded down; the pass/fail test itself uses the exact sum
    unit_passes: tuple[bool, ...]
    mean_passed: bool


def evaluate_weight_check(size_mg: int, weights_mg: list[int], tol: Tolerances) -> CheckResult:
    """Every weight within the unit tolerance and the mean within the mean tolerance."""
    units = tuple(abs(w - size_mg) * 10_000 <= size_mg * tol.unit_bp for w in weights_mg)
    count = len(weights_mg)
    total = sum(weights_mg)
    mean_ok = abs(total - count * size_mg) * 10_000 <= count * size_mg * tol.mean_bp
    return CheckResult(all(units) and mean_ok, total // count, units, mean_ok)


def transition_kind(current: str, target: str) -> str:
    """ "forward" (one stage on), "back", "cancel", or "invalid" (skipping, or from the end)."""
    if current in ("complete", "cancelled"):
        return "invalid"
    if target == "cancelled":
        return "cancel"
    if target not in FORWARD:
        return "invalid"
    here, there = FORWARD.index(current), FORWARD.index(target)
    if there == here + 1:
        return "forward"
    if there < here:
        return "back"
    return "invalid"


def next_stage(current: str) -> str | None:
    if current not in ACTIVE_STAGES:
        return None
    return FORWARD[FORWARD.index(current) + 1]


def yield_and_loss(
    flower_in_mg: int, prerolls_out: int, size_mg: int, waste_mg: int
) -> tuple[int, int, int]:
    """(grams out, yield in basis points of the flower, loss) — all exact integers."""
    out_mg = prerolls_out * size_mg
    yield_bp = out_mg * 10_000 // flower_in_mg if flower_in_mg else 0
    return out_mg, yield_bp, flower_in_mg - out_mg - waste_mg
