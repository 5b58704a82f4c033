"""Daily jobs about customers' dates: birthday presents and notices of points about to expire.

The scheduler runs them every hour: each is idempotent (a birthday present once a year, each expiry
notice once per last purchase), so a missed or repeated run changes nothing, and a day starts on time.
Days are UTC days.
"""
from __future__ import annotations

from datetime import datetime, timezone

from loyalty.services import birthdays, schedule
from loyalty.services.context import Context, get_context


def give_birthday_perks(as_of: datetime | None = None, ctx: Context | None = None) -> int:
    """Give today's birthday presents (as of `as_of`, default now); returns how many were given."""
    ctx = ctx or get_context()
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        return birthdays.give_birthday_perks(conn, (as_of or now).astimezone(timezone.utc).date(), now)


def warn_expiring_points(as_of: datetime | None = None, ctx: Context | None = None) -> int:
    """Record the due notices of points expiring in 30 and 7 days; returns how many were recorded."""
    ctx = ctx or get_context()
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        return schedule.points_expiring(conn, as_of or now, now)
