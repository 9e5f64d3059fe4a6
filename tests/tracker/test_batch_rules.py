"""Production rules: stage order and weight-check tolerances at their exact edges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker_service.batches.rules import (
    Tolerances,
    evaluate_weight_check,
    transition_kind,
    yield_and_loss,
)

TOL = Tolerances(unit_bp=1000, mean_bp=500)


@pytest.mark.parametrize(
    ("weights", "passed", "units_ok", "mean_ok"),
    [
        ([500, 500, 500], True, (True, True, True), True),
        ([550, 450, 500], True, (True, True, True), True),  # exactly ±10 % passes
        ([551, 500, 500], False, (False, True, True), True),  # 10.2 % over fails
        ([449, 500, 500], False, (False, True, True), True),
        ([525, 525, 525], True, (True, True, True), True),  # mean exactly +5 %
        ([526, 526, 526], False, (True, True, True), False),  # mean 5.2 % over
        ([475, 475, 475], True, (True, True, True), True),  # mean exactly -5 %
        ([474, 475, 475], False, (True, True, True), False),
    ],
)
def test_tolerance_edges_for_half_gram(
    weights: list[int], passed: bool, units_ok: tuple[bool, ...], mean_ok: bool
) -> None:
    """±10 % per pre-roll and ±5 % on the mean are inclusive, exact to the milligram."""
    result = evaluate_weight_check(500, weights, TOL)
    assert (result.passed, result.unit_passes, result.mean_passed) == (passed, units_ok, mean_ok)


@given(size=st.integers(100, 3000), weights=st.lists(st.integers(1, 5000), min_size=1, max_size=30))
def test_check_matches_the_definition(size: int, weights: list[int]) -> None:
    """Pass iff every |w - size| <= 10 % of size and |mean - size| <= 5 % of size."""
    from fractions import Fraction

    result = evaluate_weight_check(size, weights, TOL)
    units = all(abs(Fraction(w - size)) <= Fraction(size, 10) for w in weights)
    mean = abs(Fraction(sum(weights), len(weights)) - size) <= Fraction(size, 20)
    assert result.passed == (units and mean)


@pytest.mark.parametrize(
    ("current", "target", "kind"),
    [
        ("grinding", "rolling", "forward"),
        ("rolling", "testing", "forward"),
        ("testing", "packaging", "forward"),
        ("packaging", "complete", "forward"),
        ("grinding", "testing", "invalid"),
        ("testing", "grinding", "back"),
        ("packaging", "cancelled", "cancel"),
        ("complete", "packaging", "invalid"),
        ("cancelled", "grinding", "invalid"),
        ("rolling", "rolling", "invalid"),
    ],
)
def test_stage_order(current: str, target: str, kind: str) -> None:
    """Forward one stage at a time; back and cancel are their own kinds; ends are final."""
    assert transition_kind(current, target) == kind


def test_yield_and_loss() -> None:
    """400 x 0.5 g from 250 g with 30 g waste: 200 g out, 80 % yield, 20 g unaccounted."""
    assert yield_and_loss(250_000, 400, 500, 30_000) == (200_000, 8000, 20_000)
