"""Earning caps: how many awards and points a rule may still give a customer in a period, and how much of
an award the programme-wide earning cap lets through. Pure: the caller reads what the customer already has
in the period (`period_bounds` says which period) and gets back what may be given and why the rest is not.

Periods are calendar periods in UTC (`day`, ISO `week` from Monday, `month`, calendar `year`) or `lifetime`;
an award belongs to the period of its moment (an order's payment, a bonus's award), so a late webhook counts
where its purchase happened.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from loyalty.domain.settings.earning import Cap


def period_bounds(period: str, moment: datetime) -> tuple[datetime | None, datetime | None]:
    """[start, end) of the `period` holding `moment` (UTC); (None, None) for `lifetime`."""
    if period == "lifetime":
        return None, None
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        return start, end
    if period == "year":
        start = day.replace(month=1, day=1)
        return start, start.replace(year=start.year + 1)
    raise ValueError(f"unknown period {period!r}")


PERIOD_NAMES = {"day": "day", "week": "week", "month": "month", "year": "calendar year", "lifetime": "lifetime"}


@dataclass(frozen=True)
class Capped:
    """What an award gives once its caps are applied, and what they took."""

    asked: int
    given: int
    note: str = ""
    """Why `asked - given` points were not given (empty when nothing was taken)."""

    @property
    def taken(self) -> int:
        return self.asked - self.given


def rule_cap(cap: Cap | None, asked: int, count_so_far: int, points_so_far: int) -> Capped:
    """A rule's cap on one more award of `asked` points, given the customer's awards of that rule in the
    cap's period so far (`count_so_far` awards giving `points_so_far` points). The count cap refuses the
    award whole; the points cap gives what is left of it."""
    if cap is None:
        return Capped(asked, asked)
    per = PERIOD_NAMES[cap.period]
    if cap.count and count_so_far >= cap.count:
        return Capped(asked, 0, f"cap reached: {cap.count} award(s) per {per}")
    if cap.points:
        left = max(cap.points - points_so_far, 0)
        if left < asked:
            return Capped(asked, left, f"cap: {cap.points} points per {per}, {asked - left} points over")
    return Capped(asked, asked)


def earning_cap(cap: Cap | None, capped: Capped, earned_so_far: int) -> Capped:
    """The programme-wide earning cap on an award (`capped`: what the rule's own cap left of it), given the
    points the customer has earned in the cap's period so far (orders' awards and bonuses)."""
    if cap is None or not cap.points:
        return capped
    left = max(cap.points - earned_so_far, 0)
    if left >= capped.given:
        return capped
    note = f"earning cap: {cap.points} points per {PERIOD_NAMES[cap.period]}, {capped.given - left} points over"
    return Capped(capped.asked, left, "; ".join(n for n in (capped.note, note) if n))


def with_note(reason: str, capped: Capped) -> str:
    """An entry's reason with what the caps took, so the merchant sees it."""
    return f"{reason} ({capped.note})" if capped.note else reason
