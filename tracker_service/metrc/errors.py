"""What can go wrong talking to METRC, as the outbox and the status light need to tell apart.

MetrcError
├── MetrcUnavailable      METRC down, slow, 5xx, 429, or the network: try again later
│   └── OutcomeUnknown    a write was sent and no answer came: re-read before any retry
├── MetrcRefused          METRC answered and said no: retrying the same request will not help
│   ├── KeysRefused       401 on every route: the vendor key or the user key is wrong
│   ├── LicenseRefused    the user may not use this license (or the package is not under it)
│   ├── PermissionMissing the user lacks the permission one route needs
│   ├── Rejected          400 ``[{"row", "message"}]``: METRC's own words, by row
│   └── TooLarge          413: more objects than METRC takes in one request
"""

from __future__ import annotations

__all__ = [
    "KeysRefused",
    "LicenseRefused",
    "MetrcError",
    "MetrcRefused",
    "MetrcUnavailable",
    "OutcomeUnknown",
    "PermissionMissing",
    "Rejected",
    "TooLarge",
]


class MetrcError(Exception):
    """Base of every METRC failure; ``str()`` says what happened and what to do."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class MetrcUnavailable(MetrcError):
    """Nothing was decided: METRC did not take the request (or did not answer)."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class OutcomeUnknown(MetrcUnavailable):
    """A write went out and its answer did not come back: it may have been applied."""


class MetrcRefused(MetrcError):
    """METRC answered with a refusal that the same request will get again."""


class KeysRefused(MetrcRefused):
    pass


class LicenseRefused(MetrcRefused):
    pass


class PermissionMissing(MetrcRefused):
    pass


class TooLarge(MetrcRefused):
    pass


class Rejected(MetrcRefused):
    """400 with METRC's messages; ``rows`` maps the request element's index to its message."""

    def __init__(self, rows: dict[int, str], *, status: int = 400) -> None:
        text = "; ".join(f"row {row}: {message}" for row, message in sorted(rows.items()))
        super().__init__(f"METRC refused it: {text}", status=status)
        self.rows = rows
