"""Time-driven services: pending points mature; points expire under the shop's expiry policy.

Both take the time as a parameter (`as_of`), so the scheduler passes the clock and an operator or a test
passes any instant; both are idempotent (one entry per order, one per customer and last purchase).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from db.tables import ledger_entries as le, orders, shops
from loyalty import ledger, points
from loyalty.shops import programme


def mature(conn: Connection, as_of: datetime, now: datetime, limit: int = 5000) -> int:
    """Make pending points available for orders whose pending period ended by `as_of`; returns how many."""
    rows = conn.execute(
        select(orders.c.id, orders.c.shop_id, orders.c.shopify_order_id, orders.c.name, orders.c.customer_id,
               orders.c.pending_until, orders.c.settings_version, func.sum(le.c.pending).label("pending"))
        .join(le, le.c.order_id == orders.c.id)
        .where(orders.c.pending_until <= as_of)
        .group_by(orders.c.id, orders.c.shop_id, orders.c.shopify_order_id, orders.c.name,
                  orders.c.customer_id, orders.c.pending_until, orders.c.settings_version)
        .having(func.sum(le.c.pending) > 0)
        .limit(limit)
    ).all()
    for row in rows:
        ledger.write_entry(
            conn, shop_id=row.shop_id, customer_id=row.customer_id, order_id=row.id, kind="mature",
            key=f"{row.shop_id}:order:{row.shopify_order_id}:mature", pending=-row.pending,
            available=row.pending, effective_at=row.pending_until, now=now,
            settings_version=row.settings_version,
            reason=f"order {row.name or row.shopify_order_id}: {row.pending} points now available",
        )
    return len(rows)


def expire(conn: Connection, as_of: datetime, now: datetime) -> int:
    """Expire available points of customers whose last purchase is older than their shop's window."""
    count = 0
    for shop in conn.execute(select(shops.c.id, shops.c.settings_version)).all():
        prog = programme(conn, shop.id, shop.settings_version)
        if prog.expiry != "after_last_purchase":
            continue
        last_purchase = (
            select(orders.c.customer_id, func.max(orders.c.paid_at).label("last_purchase"))
            .where(orders.c.shop_id == shop.id, orders.c.paid_at.is_not(None),
                   orders.c.customer_id.is_not(None),
                   (orders.c.excluded_reason.is_(None)) | (orders.c.excluded_reason != "test order"))
            .group_by(orders.c.customer_id).subquery()
        )
        candidates = conn.execute(
            select(last_purchase.c.customer_id, last_purchase.c.last_purchase, func.sum(le.c.available))
            .join(le, and_(le.c.customer_id == last_purchase.c.customer_id))
            .group_by(last_purchase.c.customer_id, last_purchase.c.last_purchase)
            .having(func.sum(le.c.available) > 0)
        ).all()
        for customer_id, last, available in candidates:
            last = _aware(last)
            expires_at = points.add_months(last, prog.expiry_months)
            if expires_at > as_of:
                continue
            ledger.write_entry(
                conn, shop_id=shop.id, customer_id=customer_id, kind="expire", available=-int(available),
                key=f"{shop.id}:customer:{customer_id}:expire:{last:%Y%m%dT%H%M%S}",
                effective_at=expires_at, now=now, settings_version=shop.settings_version,
                reason=f"{available} points expired: no purchase since {last:%Y-%m-%d} "
                       f"({prog.expiry_months} months)",
            )
            count += 1
    return count


def _aware(moment: datetime) -> datetime:
    from datetime import timezone
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
