"""Split a strain's grams between its Apex batches (docs/apexapi.md, "Allocation"). Pure.

In ``split`` allocation the batches of one strain together never advertise more grams than
the strain has: Σ quantity * grams per sale unit ≤ available grams, for any input, so no
sequence of orders placed against what Apex shows can oversell. Each batch's ideal share of
the grams follows its weight (water-filling: a batch capped by the tracker's units passes what
it cannot use to the others); quantities are the ideal rounded down, then the grams left over
go, one sale unit at a time, to the batches furthest below their ideal that still fit (a batch
weighted 0 only after every other). So:

- rounding never costs a batch more than one sale unit against its ideal;
- no batch is left below its cap while the leftover grams would still buy one of its units;
- every quantity is within 0 and the tracker's units for that SKU (a disabled SKU stays 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Claim", "allocate_split"]


@dataclass(frozen=True, slots=True)
class Claim:
    """One Apex batch of the strain: grams per sale unit, the most units the tracker would
    sell of its SKU, and its weight (any non-negative number; all 0 means equal)."""

    batch_id: int
    unit_mg: int
    cap: int
    weight: Fraction


def allocate_split(claims: Sequence[Claim], available_mg: int) -> dict[int, int]:
    """batch id → quantity, with Σ quantity * unit_mg ≤ ``available_mg``."""
    quantities = dict.fromkeys((c.batch_id for c in claims), 0)
    live = [c for c in claims if c.cap > 0 and c.unit_mg > 0]
    if available_mg <= 0 or not live:
        return quantities
    ideal = _ideal_units(live, Fraction(available_mg))
    left = available_mg
    for claim in live:
        quantity = min(claim.cap, int(ideal[claim.batch_id]))  # floor: ideal ≥ 0
        quantities[claim.batch_id] = quantity
        left -= quantity * claim.unit_mg
    while True:
        fits = [c for c in live if quantities[c.batch_id] < c.cap and c.unit_mg <= left]
        if not fits:
            return quantities
        best = max(
            fits,
            key=lambda c: (
                c.weight > 0,  # a batch weighted 0 only gets what no other batch can use
                ideal[c.batch_id] - quantities[c.batch_id],
                -c.unit_mg,
                -c.batch_id,
            ),
        )
        quantities[best.batch_id] += 1
        left -= best.unit_mg


def _ideal_units(claims: Sequence[Claim], grams: Fraction) -> dict[int, Fraction]:
    """Water-filling in exact fractions: grams by weight, each batch at most its cap."""
    weights = {c.batch_id: c.weight for c in claims}
    if not any(weights.values()):
        weights = dict.fromkeys(weights, Fraction(1))
    ideal: dict[int, Fraction] = {}
    open_claims = [c for c in claims if weights[c.batch_id] > 0]
    for claim in claims:
        ideal[claim.batch_id] = Fraction(0)
    remaining = grams
    while open_claims and remaining > 0:
        total = sum(weights[c.batch_id] for c in open_claims)
        capped = [
            c for c in open_claims if remaining * weights[c.batch_id] / total >= c.cap * c.unit_mg
        ]
        if not capped:
            for claim in open_claims:
                ideal[claim.batch_id] = remaining * weights[claim.batch_id] / total / claim.unit_mg
            return ideal
        for claim in capped:
            ideal[claim.batch_id] = Fraction(claim.cap)
            remaining -= claim.cap * claim.unit_mg
        open_claims = [c for c in open_claims if c not in capped]
    return ideal
