"""Time-driven services: pending points mature; points expire under the shop's expiry policy.

Both take the time as a parameter (`as_of`), so the scheduler passes the clock and an operator or a test
passes any instant; both are idempotent (one entry per order, one per customer and last purchase).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from db.tables import ledger_entries as le, orders, shops
from loyalty.services import flow, ledger, notifications
from loyalty.domain import keys
from loyalty.domain.earning import TEST_ORDER
from loyalty.domain.maturity import expires_at
from loyalty.domain.offers import conversion_facts
from loyalty.domain.programme import Programme
from loyalty.domain.times import last_day, local_date
from loyalty.services.shops import programme, shop_zone
from loyalty.defaults import NOTIFY_MATURED_WITHIN


@ledger.perks_once
def mature(conn: Connection, as_of: datetime, now: datetime, limit: int = 5000,
           order_ids: list[int] | None = None) -> int:
    """Make pending points available for orders whose pending period ended by `as_of` (only `order_ids`,
    when given), and tell each customer (one email per customer and run); returns how many orders matured."""
    only = orders.c.id.in_(order_ids) if order_ids is not None else orders.c.id.is_not(None)
    rows = conn.execute(
        select(orders.c.id, orders.c.shop_id, orders.c.shopify_order_id, orders.c.name, orders.c.customer_id,
               orders.c.pending_until, orders.c.settings_version, func.sum(le.c.pending).label("pending"))
        .join(le, le.c.order_id == orders.c.id)
        .where(orders.c.pending_until <= as_of, only)
        .group_by(orders.c.id, orders.c.shop_id, orders.c.shopify_order_id, orders.c.name,
                  orders.c.customer_id, orders.c.pending_until, orders.c.settings_version)
        .having(func.sum(le.c.pending) > 0)
        .limit(limit)
    ).all()
    fresh = defaultdict(list)
    done = 0
    for row in rows:
        # The order's row lock, as its events take it: a refund a worker is applying now is waited for and
        # counted, so the order's pending points never go below zero.
        conn.execute(select(orders.c.id).where(orders.c.id == row.id).with_for_update())
        pending = conn.execute(select(func.coalesce(func.sum(le.c.pending), 0))
                               .where(le.c.order_id == row.id)).scalar()
        if pending <= 0:
            continue
        ledger.write_entry(
            conn, shop_id=row.shop_id, customer_id=row.customer_id, order_id=row.id, kind="mature",
            key=keys.mature(row.shop_id, row.shopify_order_id), pending=-pending,
            available=pending, effective_at=row.pending_until, now=now,
            settings_version=row.settings_version,
            reason=maturity_reason(row.name or row.shopify_order_id, pending),
        )
        done += 1
        if row.customer_id is not None and _aware(row.pending_until) >= now - NOTIFY_MATURED_WITHIN:
            fresh[(row.shop_id, row.customer_id)].append(SimpleNamespace(**{**row._mapping, "pending": pending}))
    shops_of_run = {shop_id: (notifications.current_programme(conn, shop_id), notifications.shop_currency(conn, shop_id))
                    for shop_id in {shop_id for shop_id, _ in fresh}}
    for (shop_id, customer_id), matured in fresh.items():
        notifications.points_available(conn, shop_id, customer_id, matured, now, *shops_of_run[shop_id])
    return done


def maturity_reason(order_label, pending: int) -> str:
    """The reason written on a `mature` entry."""
    return f"order {order_label}: {pending} points now available"


@ledger.perks_once
def expire(conn: Connection, as_of: datetime, now: datetime) -> int:
    """Expire available points of customers whose last purchase is older than their shop's window."""
    count = 0
    for shop in conn.execute(select(shops.c.id, shops.c.settings_version)).all():
        prog = programme(conn, shop.id, shop.settings_version)
        if prog.expiry != "after_last_purchase":
            continue
        for held in expiring_balances(conn, shop.id, prog):
            if held.expires_at > as_of:
                continue
            last = held.last_purchase
            ledger.write_entry(
                conn, shop_id=shop.id, customer_id=held.customer_id, kind="expire", available=-held.available,
                key=keys.expire(shop.id, held.customer_id, last),
                effective_at=held.expires_at, now=now, settings_version=shop.settings_version,
                reason=f"{held.available} points expired: no purchase since {last:%Y-%m-%d} "
                       f"({prog.expiry_months} months)",
            )
            count += 1
    return count


@dataclass(frozen=True)
class Expiring:
    """A customer's available points and when they expire (last purchase + the shop's window)."""

    customer_id: int
    last_purchase: datetime
    available: int
    expires_at: datetime


def expiring_balances(conn: Connection, shop_id: int, prog: Programme) -> list[Expiring]:
    """Every customer of the shop holding available points, with their expiry under `after_last_purchase`."""
    last_purchase = (
        select(orders.c.customer_id, func.max(orders.c.paid_at).label("last_purchase"))
        .where(*_purchases(shop_id), orders.c.customer_id.is_not(None))
        .group_by(orders.c.customer_id).subquery()
    )
    rows = conn.execute(
        select(last_purchase.c.customer_id, last_purchase.c.last_purchase, func.sum(le.c.available))
        .join(le, and_(le.c.customer_id == last_purchase.c.customer_id))
        .group_by(last_purchase.c.customer_id, last_purchase.c.last_purchase)
        .having(func.sum(le.c.available) > 0)
    ).all()
    return [Expiring(customer_id, _aware(last), int(available), expires_at(_aware(last), prog))
            for customer_id, last, available in rows]


def _purchases(shop_id: int) -> tuple:
    """The orders that count as purchases for expiry: paid, not test orders."""
    return (orders.c.shop_id == shop_id, orders.c.paid_at.is_not(None),
            (orders.c.excluded_reason.is_(None)) | (orders.c.excluded_reason != TEST_ORDER))


def expiry_of(conn: Connection, shop_id: int, prog: Programme, customer_id: int, available: int) -> dict:
    """One customer's expiry as the shopper's page shows it: the policy, the date their available points
    expire (None: never, or no purchase yet) and how many would (what `expire` would take that day)."""
    if prog.expiry != "after_last_purchase":
        return {"policy": prog.expiry, "date": None, "points": 0}
    last = conn.execute(select(func.max(orders.c.paid_at)).where(
        *_purchases(shop_id), orders.c.customer_id == customer_id)).scalar()
    if last is None:
        return {"policy": prog.expiry, "date": None, "points": 0}
    return {"policy": prog.expiry, "date": local_date(expires_at(_aware(last), prog), shop_zone(conn, shop_id)).isoformat(),
            "points": max(0, available)}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def points_expiring(conn, as_of: datetime, now: datetime) -> int:
    """Daily: tell customers whose points expire within 30 days, then within 7 (the most urgent notice
    due, once each per last purchase: a new purchase pushes the expiry back and re-arms the notices)."""
    count = 0
    for shop in conn.execute(select(shops.c.id, shops.c.settings_version).where(shops.c.uninstalled_at.is_(None))):
        prog = programme(conn, shop.id, shop.settings_version)
        if prog.expiry != "after_last_purchase":
            continue
        zone = shop_zone(conn, shop.id)  # the days an email names are the shop's calendar days
        for held in expiring_balances(conn, shop.id, prog):
            due = [d for d in notifications.EXPIRY_NOTICE_DAYS if held.expires_at - timedelta(days=d) <= as_of < held.expires_at]
            if not due:
                continue
            days = min(due)
            status = notifications.enqueue(conn, shop_id=shop.id, prog=prog, customer_id=held.customer_id, kind="points_expiring",
                             key=keys.expiring_event(held.customer_id, held.last_purchase, days),
                             now=now, facts={
                                 "available": held.available, "days_left": max(1, (held.expires_at - as_of).days),
                                 "expires_on": last_day(held.expires_at, zone), "months": prog.expiry_months,
                                 "last_purchase_on": local_date(held.last_purchase, zone),
                                 "conversion": conversion_facts(prog, held.available)})
            count += status is not None
            if prog.flow.triggers:  # the merchant's workflow hears of it too, whether or not an email may go
                flow.points_expiring(conn, shop.id, held.customer_id, points=held.available,
                                     expires_on=last_day(held.expires_at, zone).isoformat(),
                                     days_left=max(1, (held.expires_at - as_of).days),
                                     event=keys.expiring_event(held.customer_id, held.last_purchase, days), now=now)
    return count
