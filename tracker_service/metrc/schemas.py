"""Wire shapes of ``/api/metrc/...`` (docs/api.md, "METRC"): one struct per direction."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from tracker_service.lib.wire import Input

__all__ = [
    "DEFAULT_ITEM_FILTER",
    "DriftRead",
    "DriftResolve",
    "MetrcSettings",
    "MetrcSettingsBody",
    "MetrcStatusRead",
    "OutboxCounts",
    "OutboxRead",
    "OutboxState",
    "ReviewBody",
]

#: Matched against an item's name and its category: what METRC calls pre-rolls.
DEFAULT_ITEM_FILTER = r"(?i)pre[- ]?rolls?"
Key = Annotated[str, Meta(max_length=200)]
OutboxState = Literal["awaiting_review", "pending", "sent", "failed"]


class MetrcSettingsBody(Input, kw_only=True):
    """``PUT /api/metrc/settings``. A key left empty, or sent back masked as GET shows it,
    keeps the stored one."""

    enabled: bool
    api_url: Annotated[str, Meta(max_length=300, pattern=r"^https?://[^\s]+$")]
    license_number: Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[\w.-]+$")]
    vendor_key: Key = ""
    user_key: Key = ""
    pull_interval_seconds: Annotated[int, Meta(ge=60, le=86_400)] = 120
    item_filter: Annotated[str, Meta(min_length=1, max_length=200)] = DEFAULT_ITEM_FILTER
    review_before_submit: bool = False
    #: Objects per write request (docs/decisions.md: METRC's limit is not published).
    object_limit: Annotated[int, Meta(ge=1, le=500)] = 10


class MetrcSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What is stored (server-side only: the keys in full)."""

    enabled: bool = False
    api_url: str = ""
    license_number: str = ""
    vendor_key: str = ""
    user_key: str = ""
    pull_interval_seconds: int = 120
    item_filter: str = DEFAULT_ITEM_FILTER
    review_before_submit: bool = False
    object_limit: int = 10

    @property
    def complete(self) -> bool:
        return bool(self.api_url and self.license_number and self.vendor_key and self.user_key)

    def masked(self) -> MetrcSettings:
        return msgspec.structs.replace(
            self, vendor_key=mask(self.vendor_key), user_key=mask(self.user_key)
        )


def mask(key: str) -> str:
    """A key as anyone may see it: its last 4 characters."""
    return f"****{key[-4:]}" if key else ""


class OutboxCounts(msgspec.Struct, frozen=True):
    pending: int = 0
    awaiting_review: int = 0
    failed: int = 0


class MetrcStatusRead(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool
    connected: bool
    last_pull_at: str | None
    last_pull_ok: bool | None
    message: str
    outbox: OutboxCounts
    drift: int
    failing_since: str | None = None


class DriftRead(msgspec.Struct, frozen=True):
    metrc_number: str
    tracker_grams: float
    metrc_grams: float
    since: str


class DriftResolve(Input, kw_only=True):
    accept: Literal["metrc", "tracker"]
    reason: Annotated[str, Meta(max_length=200)] | None = None


class ReviewBody(Input, kw_only=True):
    """Reject under review-before-submit says why."""

    reason: Annotated[str, Meta(max_length=200)] | None = None


class OutboxRead(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: Literal["adjust", "create"]
    metrc_number: str
    body: dict[str, object]
    state: OutboxState
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None
