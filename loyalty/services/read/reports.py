"""The points-liability report: per day, what was earned, clawed back, redeemed, expired, re-credited and
adjusted, and what the shop still owes its customers at the end of the day (pending and available points,
and their value at the programme's `voucher_value_per_point`).

Days are UTC calendar days of each entry's business time (`effective_at`). Every figure is summed in the
database; the outstanding points are the running total of all entries, so they equal the sum of the
customers' balances (redacted customers' entries included, as the shop still counts them).
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from db.tables import ledger_entries as le
from loyalty.services.shops import ShopRef, programme
from loyalty.domain import money
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.domain.errors import ReportRangeError
from loyalty.defaults import REPORT_MAX_DAYS as MAX_DAYS


@dataclass(frozen=True)
class LiabilityDay:
    """One day of the report. Flows are positive numbers of points except `adjusted`, which is signed."""

    day: date
    earned: int = 0
    matured: int = 0
    clawed_back: int = 0
    redeemed: int = 0
    expired: int = 0
    recredited: int = 0
    adjusted: int = 0
    pending: int = 0
    available: int = 0
    outstanding: int = 0
    outstanding_value: Decimal = Decimal("0")

    def to_dict(self) -> dict:
        """JSON-ready: the day as an ISO date, the value as a decimal string."""
        out = asdict(self)
        out["day"] = self.day.isoformat()
        out["outstanding_value"] = str(self.outstanding_value)
        return out


COLUMNS = tuple(f for f in LiabilityDay.__dataclass_fields__)


def _day_of(conn: Connection):
    """The UTC calendar day of an entry's effective_at, as 'YYYY-MM-DD' text, on either database."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", le.c.effective_at), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", le.c.effective_at)  # SQLite stores the UTC wall time


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def check_range(first: date, last: date) -> None:
    """Refuse an inverted or over-long range."""
    if last < first:
        raise ReportRangeError(f"to ({last}) is before from ({first})")
    if (last - first).days + 1 > MAX_DAYS:
        raise ReportRangeError(f"at most {MAX_DAYS} days per report")


def liability(conn: Connection, shop: ShopRef, first: date, last: date) -> list[LiabilityDay]:
    """One LiabilityDay per day from `first` to `last` inclusive (days without entries included)."""
    check_range(first, last)
    value_per_point = programme(conn, shop.id, shop.settings_version).voucher_value_per_point
    opening = conn.execute(select(func.coalesce(func.sum(le.c.pending), 0), func.coalesce(func.sum(le.c.available), 0))
                           .where(le.c.shop_id == shop.id, le.c.effective_at < _start_of(first))).one()
    day = _day_of(conn).label("day")
    flows: dict[str, dict[str, tuple[int, int]]] = {}
    for row in conn.execute(
        select(day, le.c.kind, func.sum(le.c.pending), func.sum(le.c.available))
        .where(le.c.shop_id == shop.id, le.c.effective_at >= _start_of(first),
               le.c.effective_at < _start_of(last + timedelta(days=1)))
        .group_by(day, le.c.kind)
    ):
        flows.setdefault(row[0], {})[row[1]] = (int(row[2]), int(row[3]))
    pending, available = int(opening[0]), int(opening[1])
    days = []
    for offset in range((last - first).days + 1):
        current = first + timedelta(days=offset)
        kinds = flows.get(current.isoformat(), {})
        for p, a in kinds.values():
            pending, available = pending + p, available + a

        def moved(*names, part=lambda p, a: p + a):
            return sum(part(*kinds.get(n, (0, 0))) for n in names)

        outstanding = pending + available
        days.append(LiabilityDay(
            day=current,
            earned=moved("earn"),
            matured=moved("mature", part=lambda p, a: a),
            clawed_back=-moved("claw_back", "void"),
            redeemed=-moved("redeem"),
            expired=-moved("expire"),
            recredited=moved("recredit"),
            adjusted=moved("adjust"),
            pending=pending, available=available, outstanding=outstanding,
            outstanding_value=money.liability_value(outstanding, value_per_point),
        ))
    return days


def liability_report(shop: ShopRef, first: date, last: date, uow: UnitOfWork) -> tuple[list[LiabilityDay], Decimal]:
    """The query behind the admin's report: the days from `first` to `last`, and the value of a point."""
    with uow:
        return (liability(uow.conn, shop, first, last),
                programme(uow.conn, shop.id, shop.settings_version).voucher_value_per_point)


def to_csv(days: list[LiabilityDay]) -> str:
    """The report as CSV, one row per day, with a header row naming the columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for d in days:
        writer.writerow([d.to_dict()[c] for c in COLUMNS])
    return out.getvalue()
