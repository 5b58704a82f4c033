"""The orders' figures read from their roll-up (loyalty/services/order_rollup.py) plus the live tail of
changes above the watermark: exact, in a few rows per day of the period, whatever the number of orders (and
the shop's customers, from the same log: a few rows per day since the first customer)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from db.tables import (JOINED, ORDER_BUYERS, order_changes as oc, order_day_totals as totals, voucher_changes as vc,
                       voucher_day_totals as voucher_totals, voucher_rollups)
from loyalty.domain.shops import ShopFacts
from loyalty.services.order_rollup import order_watermark


def period_orders(conn: Connection, shop_id: int, facts: ShopFacts, first: date,
                  last: date) -> dict[str, tuple[int, Decimal]]:
    """Per buyer class (db.tables.ORDER_BUYERS): the orders counted and their revenue (merchandise less
    refunds) of the orders paid on the shop days `first` to `last`."""
    out = {buyer: [0, Decimal(0)] for buyer in ORDER_BUYERS}
    mark = order_watermark(conn, shop_id, facts)
    if mark:
        for buyer, count, revenue in conn.execute(
                select(totals.c.buyer, func.sum(totals.c.orders), func.sum(totals.c.revenue))
                .where(totals.c.shop_id == shop_id, totals.c.day >= first, totals.c.day <= last,
                       totals.c.buyer.in_(ORDER_BUYERS))
                .group_by(totals.c.buyer)):
            out[buyer][0] += int(count)
            out[buyer][1] += Decimal(str(revenue))
    start, end = facts.start_of_day(first), facts.start_of_day(last + timedelta(days=1))
    for buyer, count, revenue in conn.execute(
            select(oc.c.buyer, func.sum(oc.c.orders), func.sum(oc.c.revenue))
            .where(oc.c.id > mark, oc.c.shop_id == shop_id, oc.c.paid_at >= start, oc.c.paid_at < end,
                   oc.c.buyer.in_(ORDER_BUYERS))
            .group_by(oc.c.buyer)):
        out[buyer][0] += int(count)
        out[buyer][1] += Decimal(str(revenue))
    return {buyer: (count, revenue) for buyer, (count, revenue) in out.items()}


def customer_count(conn: Connection, shop_id: int, facts: ShopFacts) -> int:
    """The shop's customers today (rows made less rows deleted: `joined` in the log)."""
    mark = order_watermark(conn, shop_id, facts)
    rolled = conn.execute(select(func.coalesce(func.sum(totals.c.orders), 0))
                          .where(totals.c.shop_id == shop_id, totals.c.buyer == JOINED)).scalar() if mark else 0
    tail = conn.execute(select(func.coalesce(func.sum(oc.c.orders), 0))
                        .where(oc.c.id > mark, oc.c.shop_id == shop_id, oc.c.buyer == JOINED)).scalar()
    return int(rolled) + int(tail)


def period_rewards(conn: Connection, shop_id: int, facts: ShopFacts, first: date, last: date,
                   limit: int) -> list[dict]:
    """Vouchers issued on the shop days `first` to `last` (cancelled ones excepted), by reward and kind: how
    many and the points they cost, most issued first (then by kind and reward), at most `limit`."""
    found: dict[tuple[str, str], list[int]] = {}
    mark = order_watermark(conn, shop_id, facts, voucher_rollups)
    rows = []
    if mark:
        rows += conn.execute(
            select(voucher_totals.c.kind, voucher_totals.c.reward_key, func.sum(voucher_totals.c.vouchers),
                   func.sum(voucher_totals.c.points))
            .where(voucher_totals.c.shop_id == shop_id, voucher_totals.c.day >= first, voucher_totals.c.day <= last)
            .group_by(voucher_totals.c.kind, voucher_totals.c.reward_key)).all()
    start, end = facts.start_of_day(first), facts.start_of_day(last + timedelta(days=1))
    rows += conn.execute(
        select(vc.c.kind, vc.c.reward_key, func.sum(vc.c.vouchers), func.sum(vc.c.points))
        .where(vc.c.id > mark, vc.c.shop_id == shop_id, vc.c.created_at >= start, vc.c.created_at < end)
        .group_by(vc.c.kind, vc.c.reward_key)).all()
    for kind, key, count, points in rows:
        total = found.setdefault((kind, key), [0, 0])
        total[0] += int(count)
        total[1] += int(points)
    ranked = sorted(((kind, key, n, p) for (kind, key), (n, p) in found.items() if n), key=lambda r: (-r[2], r[0], r[1]))
    return [{"reward_key": key or None, "kind": kind, "count": n, "points": p} for kind, key, n, p in ranked[:limit]]
