"""Moments as the app shows them."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with the offset; a naive moment (SQLite gives them back naive) is UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def last_day(moment: datetime) -> date:
    """The last whole day before `moment` (points expiring at midnight are usable the day before)."""
    return (moment - timedelta(microseconds=1)).date()
