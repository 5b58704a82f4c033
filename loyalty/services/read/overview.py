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
- **members vs non-members**: orders paid on a shop day of the period, not cancelled, not test orders (which
  count nowhere); revenue is their merchandise (lines less discounts, shop money) less what was refunded of it
  (whenever refunded: a refund lowers its order's paid day). Each order is decided by itself, once paid: a
  **member order** is one the programme counted (a customer, not excluded by sales channel, customer tag or
  B2B: `excluded_reason` NULL); the others are non-members' orders: **guest orders** (no customer) and
  orders of excluded customers. The redaction or merge of a customer changes none of this.
- **order frequency** (additive over days, no distinct buyers): members' orders per member (the members above);
  non-members' orders with a customer per customer of the shop who is not a member; guest orders are given as a
  count apart (a guest cannot be told from another).
- **rewards by popularity**: vouchers issued in the period (cancelled ones excepted) by reward key (none: a
  conversion) and kind: how many and the points they cost, most issued first.
- **liability**: the outstanding points at the period's end valued as the liability report values them
  (loyalty.domain.valuation), and the store credit owed (issued by then, not yet spent).

Points come from the ledger's roll-up plus its tail (loyalty.services.read.ledger_figures), orders and rewards from
the orders' and vouchers' roll-ups plus their tails (loyalty.services.read.order_figures): exact at any size.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from db.tables import ledger_entries as le
from loyalty.domain.money import cents
from loyalty.domain.shop_days import GROUPS, bucket_of, buckets
from loyalty.domain.valuation import point_value
from loyalty.services.ledger_rollup import ACTIVITY
from loyalty.services.read.ledger_figures import customer_standing, day_flows
from loyalty.services.read.order_figures import customer_count, period_orders, period_rewards
from loyalty.services.read.reports import check_range, store_credit_owed
from loyalty.services.shops import ShopRef, programme, shop_facts
from loyalty.services.unit_of_work import UnitOfWork

REWARDS_SHOWN = 20
"""The most popular rewards listed (a programme has a handful; conversions are one row per kind)."""


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


def _ratio(count: int, per: int) -> str | None:
    """count / per with 2 decimals; None when per is 0."""
    return f"{Decimal(count) / Decimal(per):.2f}" if per else None


def _orders(conn: Connection, shop_id: int, facts, first: date, last: date, members: int) -> dict:
    """Members' and non-members' orders of the period (from the orders' roll-up), with their frequency."""
    by = period_orders(conn, shop_id, facts, first, last)
    (member_orders, member_revenue), (excluded, excluded_revenue), (guests, guest_revenue) = (
        by["member"], by["customer"], by["guest"])
    others = max(customer_count(conn, shop_id, facts) - members, 0)
    return {"members": {"orders": member_orders, "revenue": cents(member_revenue or 0), "customers": members,
                        "orders_per_customer": _ratio(member_orders, members)},
            "non_members": {"orders": excluded + guests, "revenue": cents(excluded_revenue + guest_revenue or 0),
                            "customers": others, "orders_per_customer": _ratio(excluded, others),
                            "guest_orders": guests}}


def home_overview(shop: ShopRef, first: date, last: date, group: str, uow: UnitOfWork) -> dict:
    """The home page's figures for the shop days `first` to `last` in buckets of `group` (JSON-ready)."""
    check_range(first, last)
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}")
    with uow:
        conn = uow.conn
        facts = shop_facts(conn, shop.id)
        end = facts.start_of_day(last + timedelta(days=1))
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
            "orders": _orders(conn, shop.id, facts, first, last, standing.members),
            "rewards": period_rewards(conn, shop.id, facts, first, last, REWARDS_SHOWN),
            "liability": {"outstanding": outstanding, "value": cents(value.value_of(outstanding)),
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
