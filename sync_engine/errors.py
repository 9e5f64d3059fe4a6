"""The engine's exception tree; outside errors (httpx, tinydb) are converted where they enter.

EngineError
├── ConfigError           apex_config.json missing or invalid (one line naming the field)
├── PeerError             a peer answered badly or not at all
│   ├── TrackerError      PreRollTracker
│   │   ├── LeaseHeld     another installation holds the sync lease
│   │   └── LeaseLost     a write needing the lease was refused: this one no longer holds it
│   └── ApexError         Apex Trading
│       └── RateLimited   429, with the Retry-After seconds
├── StoreError            the packing-list store cannot be used (sync_engine.sheets.stores)
└── Fenced                an update was not sent: this installation no longer holds the lease
"""

from __future__ import annotations

__all__ = [
    "ApexError",
    "ConfigError",
    "EngineError",
    "Fenced",
    "LeaseHeld",
    "LeaseLost",
    "PeerError",
    "RateLimited",
    "TrackerError",
]


class EngineError(Exception):
    """Base of the engine's errors; ``str()`` is a sentence a user can act on."""


class ConfigError(EngineError):
    pass


class Fenced(EngineError):
    """A push stopped before it was sent: the sync lease can no longer be proven held."""

    def __init__(self) -> None:
        super().__init__(
            "not sent: this installation no longer holds the sync lease (another one pushes)"
        )


class PeerError(EngineError):
    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class TrackerError(PeerError):
    pass


class LeaseHeld(TrackerError):
    def __init__(self, holder: str) -> None:
        super().__init__(f"sync handled by {holder}", status=409, retryable=False)
        self.holder = holder


class LeaseLost(TrackerError):
    def __init__(self, holder: str | None) -> None:
        who = holder or "nobody"
        super().__init__(
            f"the tracker refused the order lines: this installation no longer holds the sync "
            f"lease ({who} does); nothing was changed",
            status=409,
            retryable=False,
        )
        self.holder = holder


class ApexError(PeerError):
    pass


class RateLimited(ApexError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Apex rate limit: retry after {retry_after:g} s", status=429)
        self.retry_after = retry_after
