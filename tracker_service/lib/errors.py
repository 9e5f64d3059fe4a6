"""The tracker's exception tree; ``tracker_service.lib.http_errors`` maps it to HTTP.

TrackerError
├── InvalidInput      bad input, names the field (422)
├── NotFound          no such package, hold, SKU... (404)
├── Conflict          valid input that the current state refuses (409)
└── Unauthorized      missing or wrong API key (401)
"""

from __future__ import annotations

from typing import Any

__all__ = ["Conflict", "Forbidden", "InvalidInput", "NotFound", "TrackerError", "Unauthorized"]


class TrackerError(Exception):
    """Base of every error the tracker reports to a caller."""

    code = "error"
    status_code = 500

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail, **self.extra}


class InvalidInput(TrackerError):
    """A request field is missing, malformed or out of range."""

    code = "invalid_input"
    status_code = 422

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", field=field)
        self.field = field


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
