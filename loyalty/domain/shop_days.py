"""Shop calendar days of UTC instants, computed in SQL: the zone's UTC offset is constant between two
transitions (daylight saving), so the day of an instant is `date(instant + offset)` with the offset of the span
it falls in. `offset_spans` lists those spans for a range of instants; the read models turn them into one SQL
CASE, which then works alike on SQLite (no time-zone database) and PostgreSQL, and agrees with Python's
zoneinfo (ShopFacts.local_day) exactly, for any offset (half and quarter hours included).

Also the periods of the home page: a range of days cut into day, week (ISO, from Monday) or month buckets.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

GROUPS = ("day", "week", "month")


@dataclass(frozen=True)
class OffsetSpan:
    """From `start` (inclusive, UTC) to `end` (exclusive), the zone is `offset` seconds ahead of UTC."""

    start: datetime
    end: datetime
    offset: int


def _offset(zone: ZoneInfo, moment: datetime) -> int:
    return int(moment.astimezone(zone).utcoffset().total_seconds())


def _transition(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first instant in (low, high] whose offset differs from low's (bisected to the second)."""
    before = _offset(zone, low)
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0) if middle.microsecond else middle
        if middle <= low:
            break
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def offset_spans(zone: ZoneInfo, start: datetime, end: datetime, step: timedelta = timedelta(hours=6)
                 ) -> list[OffsetSpan]:
    """The spans of constant offset covering [start, end) (aware instants), in order; the first begins at
    `start` and the last ends at `end`. Transitions closer than `step` apart do not occur in real zones."""
    start, end = start.astimezone(timezone.utc), max(end, start).astimezone(timezone.utc)
    spans, span_start, current = [], start, _offset(zone, start)
    probe = start
    while probe < end:
        following = min(probe + step, end)
        if _offset(zone, following) != current:
            change = _transition(zone, probe, following)
            spans.append(OffsetSpan(span_start, change, current))
            span_start, current = change, _offset(zone, change)
        probe = following
    spans.append(OffsetSpan(span_start, end, current))
    return spans


def bucket_of(day: date, group: str) -> date:
    """The first day of the bucket holding `day`: itself, its week's Monday, or its month's first day."""
    if group == "week":
        return day - timedelta(days=day.weekday())
    if group == "month":
        return day.replace(day=1)
    return day


def buckets(first: date, last: date, group: str) -> list[date]:
    """The buckets a range of days touches, in order (the first may begin before `first`)."""
    out, day = [], first
    while day <= last:
        start = bucket_of(day, group)
        if not out or out[-1] != start:
            out.append(start)
        day += timedelta(days=1)
    return out
