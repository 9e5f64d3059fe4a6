"""The tracker's exception tree; ``tracker_service.lib.http_errors`` maps it to HTTP.

TrackerError
├── InvalidInput        bad input, names the field (422)
├── Unauthorized        missing or wrong API key (401)
├── Forbidden           a signed-in user may not do this (403)
├── NotFound            no such package, hold, SKU... (404)
├── Conflict            valid input that the current state refuses (409)
├── TooManyRequests     over a limit (login attempts, long-polls); says when to retry (429)
└── StorageUnavailable  the database cannot take a write now (disk full, read-only) (503)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "StorageUnavailable",
    "TooManyRequests",
    "TrackerError",
    "Unauthorized",
]


class TrackerError(Exception):
    """Base of every error the tracker reports to a caller."""

    code = "error"
    status_code = 500

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail, **self.extra}

    def headers(self) -> dict[str, str]:
        return {}


class InvalidInput(TrackerError):
    """A request field is missing, malformed or out of range."""

    code = "invalid_input"
    status_code = 422

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", field=field)
        self.field = field
        self.problem = problem


class NotFound(TrackerError):
    code = "not_found"
    status_code = 404


class Conflict(TrackerError):
    code = "conflict"
    status_code = 409


class Unauthorized(TrackerError):
    code = "unauthorized"
    status_code = 401


class Forbidden(TrackerError):
    code = "forbidden"
    status_code = 403


class TooManyRequests(TrackerError):
    """Over a limit; ``retry_after`` seconds until the caller may try again."""

    code = "too_many_requests"
    status_code = 429

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code, retry_after=retry_after)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class StorageUnavailable(TrackerError):
    """The database cannot take a write now; nothing was changed."""

    code = "storage_unavailable"
    status_code = 503
