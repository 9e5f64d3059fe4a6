"""What a report is asked for (query strings and the Reports page's forms decode into these)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta

from tracker_service.lib.errors import InvalidInput
from tracker_service.lib.wire import Input

__all__ = ["AuditQuery", "DayQuery", "PeriodQuery", "check_range"]

MAX_DAYS = 3 * 366


class PeriodQuery(Input, kw_only=True):
    first: date
    last: date
    period: Literal["week", "month"] = "week"


class DayQuery(Input, kw_only=True):
    day: date


class AuditQuery(Input, kw_only=True):
    first: date
    last: date
    metrc_number: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


def check_range(first: date, last: date) -> None:
    if last < first:
        raise InvalidInput("last", "must be on or after the first day")
    if (last - first).days > MAX_DAYS:
        raise InvalidInput("last", "must be within 3 years of the first day")
