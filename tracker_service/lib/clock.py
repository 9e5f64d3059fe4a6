"""Wall-clock time as the tracker stores it: ISO 8601 UTC text that sorts as it reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["iso", "now_iso", "parse_iso"]


def now_iso() -> str:
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def days_ago_iso(days: int) -> str:
    return iso(datetime.now(UTC) - timedelta(days=days))
