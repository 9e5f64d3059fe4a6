"""Retry policy for peer requests (tenacity): Retry-After for 429, else exponential + jitter."""

from __future__ import annotations

import random

from tenacity import RetryCallState
from tenacity.wait import wait_exponential_jitter

from sync_engine.errors import PeerError, RateLimited

__all__ = ["PeerWait", "backoff_delay", "is_retryable"]


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, PeerError) and exc.retryable


class PeerWait:
    """tenacity wait: the peer's Retry-After when it gave one, else capped exponential jitter."""

    def __init__(self, initial: float = 0.5, cap: float = 60.0) -> None:
        self._exponential = wait_exponential_jitter(multiplier=initial, max=cap, jitter=initial)
        self.cap = cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            return min(exc.retry_after, self.cap)
        wait: float = self._exponential(state)
        return wait


def backoff_delay(
    failures: int, cap: float, initial: float = 0.5, rng: random.Random | None = None
) -> float:
    """Seconds to wait after ``failures`` failed cycles in a row: doubling, jittered, capped."""
    if failures <= 0:
        return 0.0
    base: float = min(cap, initial * 2.0 ** min(failures - 1, 60))
    # "Equal jitter": somewhere between half and all of the doubled delay.
    jitter: float = (rng or random.Random()).uniform(0, base / 2)
    return base / 2 + jitter
