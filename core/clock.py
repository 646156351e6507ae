"""Times are stored in UTC and shown in Asia/Shanghai, the merchant's clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def as_utc(at: datetime) -> datetime:
    """An aware UTC datetime; SQLite hands back naive ones, which were stored as UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def local_day(at: datetime | float) -> str:
    """The Asia/Shanghai calendar day of a datetime or unix time, as YYYY-MM-DD."""
    if not isinstance(at, datetime):
        at = datetime.fromtimestamp(at, UTC)
    return as_utc(at).astimezone(SHANGHAI).strftime("%Y-%m-%d")


def shanghai_text(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """How the console shows a stored time; empty for none."""
    return as_utc(at).astimezone(SHANGHAI).strftime(fmt) if at else ""
