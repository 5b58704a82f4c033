"""The points-liability report: per day, what was earned, clawed back, redeemed, expired, re-credited and
adjusted, and what the shop still owes its customers at the end of the day (pending and available points,
and their value in money: what a point buys in the programme in force, loyalty.domain.valuation); with the
breakage measured from the shop's ledger and the liability forecast after it; and, on a line of its own, the
store credit the shop has issued and not yet seen spent (money already owed, not points).

Days are the shop's calendar days (its time zone, ShopFacts) of each entry's business time (`effective_at`).
The figures come from the ledger's roll-up plus the entries above its watermark
(loyalty.services.read.ledger_figures), so they are exact and cost the same at any ledger size; the
outstanding points are the running total of all entries, so they equal the sum of the customers' balances
(redacted customers' entries included, as the shop still counts them).
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, case, func, or_, select, text
from sqlalchemy.engine import Connection

from db.tables import ledger_entries as le, vouchers
from loyalty.domain.points import add_months
from loyalty.domain.store_credit import outstanding as credit_outstanding
from loyalty.domain.valuation import Breakage, PointValue, point_value
from loyalty.services.balances import NOT_LIFETIME
from loyalty.domain.shops import ShopFacts
from loyalty.services.ledger_rollup import ACTIVITY
from loyalty.services.read.ledger_figures import customer_standing, day_flows, kind_totals
from loyalty.services.shops import ShopRef, programme, shop_facts
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.domain.errors import ReportRangeError
from loyalty.defaults import BREAKAGE_DORMANT_MONTHS, REPORT_MAX_DAYS as MAX_DAYS

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


def check_range(first: date, last: date) -> None:
    """Refuse an inverted or over-long range."""
    if last < first:
        raise ReportRangeError(f"to ({last}) is before from ({first})")
    if (last - first).days + 1 > MAX_DAYS:
        raise ReportRangeError(f"at most {MAX_DAYS} days per report")


def liability(conn: Connection, shop: ShopRef, first: date, last: date) -> list[LiabilityDay]:
    """One LiabilityDay per shop day from `first` to `last` inclusive (days without entries included)."""
    check_range(first, last)
    value = point_value(programme(conn, shop.id, shop.settings_version))
    flows = day_flows(conn, shop.id, shop_facts(conn, shop.id), first, last)
    pending, available = flows.opening
    days = []
    for offset in range((last - first).days + 1):
        current = first + timedelta(days=offset)
        kinds = flows.days.get(current, {})
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
            outstanding_value=value.value_of(outstanding),
        ))
    return days


@dataclass(frozen=True)
class StoreCreditOwed:
    """Store credit issued as rewards and not yet spent: money the shop already owes, apart from points."""

    amount: Decimal
    """The sum of each open credit's `outstanding` (loyalty.domain.store_credit): what Shopify last reported
    left of it, or its whole amount before any read-back."""
    credits: int
    """How many credits still hold something."""

    def to_dict(self) -> dict:
        """JSON-ready: the amount as a decimal string."""
        return {"outstanding": f"{self.amount:.2f}", "credits": self.credits}


def store_credit_owed(conn: Connection, shop_id: int, before: datetime) -> StoreCreditOwed:
    """The store credit the shop's customers hold from rewards issued before `before`, as last read back
    from Shopify (credits still being created count whole: the customer is about to hold them)."""
    owed, count = Decimal(0), 0
    for amount, remaining, status in conn.execute(
            select(vouchers.c.amount, vouchers.c.remaining_amount, vouchers.c.status)
            .where(vouchers.c.shop_id == shop_id, vouchers.c.created_at < before,
                   # the partial index's own predicate, as literals: SQLite uses ix_vouchers_store_credit_open
                   # only for a WHERE that implies it, which bound parameters do not
                   text("vouchers.kind = 'store_credit' AND vouchers.status IN ('creating', 'active')"))):
        left = credit_outstanding(Decimal(amount), None if remaining is None else Decimal(remaining), status)
        if left > 0:
            owed, count = owed + left, count + 1
    return StoreCreditOwed(owed, count)


@dataclass(frozen=True)
class LiabilityReport:
    """The days, what a point is worth and why, the shop's currency, and the breakage forecast."""

    days: list[LiabilityDay]
    value: PointValue
    currency: str
    breakage: Breakage
    store_credit: StoreCreditOwed

    def summary(self) -> dict:
        """JSON-ready valuation, breakage and store credit owed (the report's head)."""
        return {"currency": self.currency, "valuation": self.value.to_dict(),
                "breakage": self.breakage.to_dict(self.value), "store_credit": self.store_credit.to_dict()}


def liability_report(shop: ShopRef, first: date, last: date, uow: UnitOfWork) -> LiabilityReport:
    """The query behind the admin's and the CLI's report: the days from `first` to `last`, the value of a
    point, the breakage measured up to the end of `last`, and the store credit owed (issued by then)."""
    with uow:
        conn = uow.conn
        facts = shop_facts(conn, shop.id)
        end = facts.start_of_day(last + timedelta(days=1))
        return LiabilityReport(liability(conn, shop, first, last),
                               point_value(programme(conn, shop.id, shop.settings_version)),
                               facts.currency, breakage(conn, shop.id, last, facts),
                               store_credit_owed(conn, shop.id, end))


def breakage(conn: Connection, shop_id: int, last: date, facts: ShopFacts,
             dormant_months: int = BREAKAGE_DORMANT_MONTHS) -> Breakage:
    """Breakage from the shop's entries up to the end of shop day `last`: points earned (lifetime: orders net
    of refunds, bonuses, adjustments), points expired, points owed, and the points of customers (or redacted
    ones) with no activity (ACTIVITY) from the shop day `dormant_months` months before the day after `last`.
    Read from the roll-up when the ledger has nothing after that day (a report reaching today); else summed
    from the ledger (a report of the past, the same figures)."""
    end_day = last + timedelta(days=1)
    cutoff = add_months(end_day, -dormant_months)
    before = facts.start_of_day(end_day)
    standing = customer_standing(conn, shop_id, facts)
    if standing.newest is not None and standing.newest >= before:
        return _breakage_from_ledger(conn, shop_id, before, facts.start_of_day(cutoff), dormant_months)
    kinds = kind_totals(conn, shop_id, facts, last)
    earned = sum(v for k, v in kinds.items() if k not in NOT_LIFETIME)
    return Breakage(earned=earned, expired=-kinds.get("expire", 0), outstanding=sum(kinds.values()),
                    dormant=max(standing.owed_inactive_before(cutoff), 0), dormant_months=dormant_months)


def _breakage_from_ledger(conn: Connection, shop_id: int, before: datetime, cutoff: datetime,
                          dormant_months: int) -> Breakage:
    """Breakage summed per customer from the ledger's entries before `before` (active from `cutoff`)."""
    lifetime = case((le.c.kind.in_(NOT_LIFETIME), 0), else_=le.c.pending + le.c.available)
    expired = case((le.c.kind == "expire", -le.c.available), else_=0)
    active_at = case((le.c.kind.in_(ACTIVITY), le.c.effective_at), else_=None)
    per_customer = (select(le.c.customer_id, func.sum(lifetime).label("earned"), func.sum(expired).label("expired"),
                           func.sum(le.c.pending + le.c.available).label("owed"), func.max(active_at).label("active"))
                    .where(le.c.shop_id == shop_id, le.c.effective_at < before)
                    .group_by(le.c.customer_id).subquery())
    cutoff = bindparam("cutoff", cutoff, type_=le.c.effective_at.type)
    dormant = or_(per_customer.c.customer_id.is_(None), per_customer.c.active.is_(None),
                  per_customer.c.active < cutoff)
    row = conn.execute(select(
        func.coalesce(func.sum(per_customer.c.earned), 0), func.coalesce(func.sum(per_customer.c.expired), 0),
        func.coalesce(func.sum(per_customer.c.owed), 0),
        func.coalesce(func.sum(case((dormant, per_customer.c.owed), else_=0)), 0))).one()
    earned, expired_points, owed, dormant_points = (int(v) for v in row)
    return Breakage(earned=earned, expired=expired_points, outstanding=owed, dormant=max(dormant_points, 0),
                    dormant_months=dormant_months)


def to_csv(days: list[LiabilityDay]) -> str:
    """The report as CSV, one row per day, with a header row naming the columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for d in days:
        writer.writerow([d.to_dict()[c] for c in COLUMNS])
    return out.getvalue()
