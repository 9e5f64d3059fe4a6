"""The engine's closed sets of words: problems, states, commands. Each is a ``StrEnum``, so
it reads and encodes as the plain word the dashboard and the logs show."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BatchState",
    "Command",
    "ConnectionState",
    "NoticeKind",
    "ProblemKind",
    "SheetsState",
]


class ProblemKind(StrEnum):
    """Why a strain, a batch or a package is not synced as it should be."""

    SKIPPED_PRODUCT = "skipped_product"
    AMBIGUOUS = "ambiguous"
    UNMATCHED_STRAIN = "unmatched_strain"
    NO_SKU = "no_sku"
    NO_PACKAGE = "no_package"
    #: The tracker cannot compute a package: it sells nothing until fixed.
    PACKAGE_PROBLEM = "package_problem"


class ConnectionState(StrEnum):
    UNKNOWN = "unknown"
    CONNECTED = "connected"
    FAILING = "failing"


class SheetsState(StrEnum):
    UNKNOWN = "unknown"
    CONNECTED = "connected"
    #: Google Sheets fails; the Excel workbook is used meanwhile.
    FALLBACK = "fallback"
    FAILING = "failing"
    #: Google Sheets is not configured, or orders are not fetched.
    OFF = "off"


class Command(StrEnum):
    """What the dashboard, the tray menu and the control channel may ask of the engine."""

    SYNC_NOW = "sync-now"
    PAUSE = "pause"
    RESUME = "resume"
    REFRESH_MAPPING = "refresh-mapping"
    REFRESH_ORDERS = "refresh-orders"
    CONFIRM_ZERO = "confirm-zero"


class BatchState(StrEnum):
    """One mapped Apex batch against the tracker (the dashboard's "Apex vs tracker")."""

    IN_STEP = "in step"
    PUSHING = "pushing"
    HELD_BACK = "held back"
    AMBIGUOUS = "ambiguous"
    NO_PACKAGE = "no package"
    #: Someone changed the quantity in Apex; the engine sets it back.
    DRIFTED = "drifted"


class NoticeKind(StrEnum):
    """Why the tray tells a person something (at most once per kind per 10 minutes)."""

    HELD_BACK = "held_back"
    CONNECTION = "connection"
    UNASSIGNED_LINES = "unassigned_lines"
    OVERCOMMITTED = "overcommitted"
