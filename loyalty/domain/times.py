"""Moments as the app shows them."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with the offset; a naive moment (SQLite gives them back naive) is UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def last_day(moment: datetime, zone: tzinfo | None = None) -> date:
    """The last whole day before `moment` (points expiring at midnight are usable the day before), in the
    calendar of `zone` (the shop's time zone; UTC when None or for a naive moment's own day)."""
    if zone is not None:
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(zone)
    return (moment - timedelta(microseconds=1)).date()


def local_date(moment: datetime, zone: tzinfo | None = None) -> date:
    """The calendar day of `moment` in `zone` (UTC when None; a naive moment is UTC)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone or timezone.utc).date()
