"""The home page: the programme at a glance over a period of the shop's calendar days.

Definitions (the page and its CSV say the same):
- **member**: a customer of the shop with at least one ledger entry (counted today, whatever the period);
  redacted customers are no longer anyone's, so they are not counted.
- **active member**: a member with customer activity (reports.ACTIVITY: a purchase, a refund, a redemption,
  a bonus, an adjustment; not maturing or expiring) on a day of the period.
- **points earned**: `earn` (orders) and `bonus` entries; **redeemed**: `redeem` less `recredit` (vouchers
  cancelled give their points back); **expired**: `expire`; **outstanding**: pending + available at the end
  of each bucket (the liability report's running total).
- **redemption rate**: points redeemed / points earned over the whole period (none when nothing was earned).
- **members vs non-members**: paid orders (not cancelled) of the period, by `paid_at`'s shop day: revenue is
  their merchandise (lines less discounts, shop money); an order is a member's when its customer is a member
  today; non-members are orders without a customer and customers without entries. Order frequency = orders
  per buyer (an order without a customer counts as one buyer).
- **rewards by popularity**: vouchers issued in the period (cancelled ones excepted) by reward key (none: a
  conversion) and kind: how many and the points they cost, most issued first.
- **liability**: the outstanding points at the period's end valued as the liability report values them
  (loyalty.domain.valuation), and the store credit owed (issued by then, not yet spent).

Points come from the ledger's roll-up plus its tail (loyalty.services.read.ledger_figures): exact at any size.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.engine import Connection

from db.tables import ledger_entries as le, orders, vouchers
from loyalty.domain.shop_days import GROUPS, bucket_of, buckets
from loyalty.domain.valuation import point_value
from loyalty.services.ledger_rollup import ACTIVITY
from loyalty.services.read.ledger_figures import customer_standing, day_flows
from loyalty.services.read.reports import check_range, store_credit_owed
from loyalty.services.shops import ShopRef, programme, shop_facts
from loyalty.services.unit_of_work import UnitOfWork

REWARDS_SHOWN = 20
"""The most popular rewards listed (a programme has a handful; conversions are one row per kind)."""


def money(amount) -> str:
    """A sum of money as the JSON convention wants it: a decimal string with 2 places."""
    return f"{Decimal(amount or 0).quantize(Decimal('0.01'))}"


@dataclass(frozen=True)
class Bucket:
    """Points moved in one bucket of days, and what was outstanding at its end."""

    start: date
    end: date
    earned: int = 0
    redeemed: int = 0
    expired: int = 0
    outstanding: int = 0

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "earned": self.earned,
                "redeemed": self.redeemed, "expired": self.expired, "outstanding": self.outstanding}


def _buckets(flows, first: date, last: date, group: str) -> list[Bucket]:
    """The period's days folded into buckets (the first and last clipped to the period)."""
    pending, available = flows.opening
    out = []
    for start in buckets(first, last, group):
        begin = max(start, first)
        earned = redeemed = expired = 0
        day = begin
        while day <= last and bucket_of(day, group) == start:
            kinds = flows.days.get(day, {})
            for p, a in kinds.values():
                pending, available = pending + p, available + a
            total = {k: p + a for k, (p, a) in kinds.items()}
            earned += total.get("earn", 0) + total.get("bonus", 0)
            redeemed -= total.get("redeem", 0) + total.get("recredit", 0)
            expired -= total.get("expire", 0)
            day += timedelta(days=1)
        out.append(Bucket(begin, day - timedelta(days=1), earned, redeemed, expired, pending + available))
    return out


def _active_members(conn: Connection, shop_id: int, facts, standing, first: date, last: date) -> int:
    """Members with activity in the period: from the roll-up when the ledger has nothing after the period
    (a period reaching today), else counted from the period's entries."""
    end = facts.start_of_day(last + timedelta(days=1))
    if standing.newest is None or standing.newest < end:
        return standing.active_since(first)
    return conn.execute(select(func.count(func.distinct(le.c.customer_id))).where(
        le.c.shop_id == shop_id, le.c.kind.in_(ACTIVITY), le.c.customer_id.is_not(None),
        le.c.effective_at >= facts.start_of_day(first), le.c.effective_at < end)).scalar()


def _orders(conn: Connection, shop_id: int, start, end) -> dict:
    """Members' and non-members' paid orders between two instants: orders, buyers, revenue, frequency.
    Orders are grouped per customer first, so each buyer's membership is looked up once."""
    # `shop_id + 0`: the period's range on ix_orders_paid_shop, not every order of the shop by uq_orders_shop_order
    per_buyer = (select(orders.c.customer_id, func.count().label("n"), func.sum(orders.c.merchandise).label("revenue"))
                 .where(orders.c.paid_at >= start, orders.c.paid_at < end, (orders.c.shop_id + 0) == shop_id,
                        orders.c.cancelled_at.is_(None))
                 .group_by(orders.c.customer_id).subquery())
    member = case((and_(per_buyer.c.customer_id.is_not(None),
                        exists().where(le.c.customer_id == per_buyer.c.customer_id)), 1), else_=0)
    flagged = select(member.label("member"), per_buyer.c.customer_id, per_buyer.c.n, per_buyer.c.revenue).subquery()
    buyers = func.sum(case((flagged.c.customer_id.is_(None), flagged.c.n), else_=1))  # a guest order: a buyer
    out = {"members": {"orders": 0, "buyers": 0, "revenue": money(0), "orders_per_buyer": None},
           "non_members": {"orders": 0, "buyers": 0, "revenue": money(0), "orders_per_buyer": None}}
    for flag, count, buyer_count, revenue in conn.execute(
            select(flagged.c.member, func.sum(flagged.c.n), buyers, func.sum(flagged.c.revenue))
            .group_by(flagged.c.member)):
        count, buyer_count = int(count), int(buyer_count)
        out["members" if flag else "non_members"] = {
            "orders": count, "buyers": buyer_count, "revenue": money(revenue),
            "orders_per_buyer": f"{Decimal(count) / Decimal(buyer_count):.2f}" if buyer_count else None}
    return out


def _rewards(conn: Connection, shop_id: int, start, end) -> list[dict]:
    """Vouchers issued between two instants (cancelled ones excepted), by reward and kind, most issued first."""
    rows = conn.execute(
        select(vouchers.c.reward_key, vouchers.c.kind, func.count().label("n"), func.sum(vouchers.c.points))
        .where((vouchers.c.shop_id + 0) == shop_id, vouchers.c.created_at >= start, vouchers.c.created_at < end,
               vouchers.c.status != "cancelled")
        .group_by(vouchers.c.reward_key, vouchers.c.kind)
        .order_by(func.count().desc(), vouchers.c.kind, vouchers.c.reward_key).limit(REWARDS_SHOWN))
    return [{"reward_key": key, "kind": kind, "count": n, "points": int(points or 0)} for key, kind, n, points in rows]


def home_overview(shop: ShopRef, first: date, last: date, group: str, uow: UnitOfWork) -> dict:
    """The home page's figures for the shop days `first` to `last` in buckets of `group` (JSON-ready)."""
    check_range(first, last)
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}")
    with uow:
        conn = uow.conn
        facts = shop_facts(conn, shop.id)
        start, end = facts.start_of_day(first), facts.start_of_day(last + timedelta(days=1))
        value = point_value(programme(conn, shop.id, shop.settings_version))
        standing = customer_standing(conn, shop.id, facts)
        rows = _buckets(day_flows(conn, shop.id, facts, first, last), first, last, group)
        earned, redeemed = sum(b.earned for b in rows), sum(b.redeemed for b in rows)
        outstanding = rows[-1].outstanding
        return {
            "from": first.isoformat(), "to": last.isoformat(), "group": group, "currency": facts.currency,
            "members": standing.members,
            "active_members": _active_members(conn, shop.id, facts, standing, first, last),
            "points": {"earned": earned, "redeemed": redeemed, "expired": sum(b.expired for b in rows),
                       "outstanding": outstanding,
                       "redemption_rate": f"{Decimal(redeemed) / Decimal(earned):.4f}" if earned else None},
            "buckets": [b.to_dict() for b in rows],
            "orders": _orders(conn, shop.id, start, end),
            "rewards": _rewards(conn, shop.id, start, end),
            "liability": {"outstanding": outstanding, "value": money(value.value_of(outstanding)),
                          "value_per_point": value.per_point_text(),
                          "store_credit": store_credit_owed(conn, shop.id, end).to_dict()},
        }


CSV_COLUMNS = ("start", "end", "earned", "redeemed", "expired", "outstanding")


def overview_csv(overview: dict) -> str:
    """The figures as CSV: the buckets, then the period's figures as name/value rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for b in overview["buckets"]:
        writer.writerow([b[c] for c in CSV_COLUMNS])
    writer.writerow([])
    writer.writerow(("figure", "value"))
    points, liability = overview["points"], overview["liability"]
    rows = [("members", overview["members"]), ("active_members", overview["active_members"]),
            *((f"points_{k}", v) for k, v in points.items()),
            *((f"{who}_{k}", v) for who in ("members", "non_members") for k, v in overview["orders"][who].items()),
            ("liability_value", liability["value"]), ("store_credit_outstanding", liability["store_credit"]["outstanding"]),
            ("currency", overview["currency"])]
    writer.writerows((name, "" if value is None else value) for name, value in rows)
    writer.writerow([])
    writer.writerow(("reward_key", "kind", "count", "points"))
    writer.writerows((r["reward_key"] or "", r["kind"], r["count"], r["points"]) for r in overview["rewards"])
    return out.getvalue()
