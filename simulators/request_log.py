"""One request as a simulator received it: what tests and benchmarks count and read back."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RecordedRequest"]


@dataclass(frozen=True)
class RecordedRequest:
    at: float
    method: str
    path: str
    query: str
    body: bytes
    status: int
