"""The orders' roll-up (loyalty/services/order_rollup.py) on SQLite and PostgreSQL: totals up to the watermark
plus the tail of changes equal a direct computation over the orders and refunds by the shop's calendar day of
paid_at and buyer class: before a roll-up, after it, after a cancellation, a refund, a refund arriving before
its order, a redaction and a change of time zone made after it, and (PostgreSQL) with a transaction that
commits after the roll-up passed its id."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import func, insert, select, update

from db.tables import customers, order_changes, orders, refunds, shops, vouchers
from loyalty.services.order_rollup import rebuild_orders, roll_up_orders, roll_up_vouchers
from loyalty.services.privacy import redact_customer
from loyalty.services.read.order_figures import customer_count, period_orders, period_rewards
from loyalty.services.shops import shop_facts
from tools.bench.storefront_data import Shape, populate

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
SHAPE = Shape(customers=300, entries=4_000, measured=2, per_customer=300)
IDS = count(9_000_000_000)
RANGES = ((date(2023, 6, 1), date(2026, 6, 1)), (date(2025, 3, 9), date(2025, 3, 9)),
          (date(2025, 11, 1), date(2025, 11, 3)), (date(2026, 5, 2), date(2026, 6, 1)))


@pytest.fixture
def made(ctx, shop, database_url):
    """A small bench shop (three years of members' orders) in a half-hour zone with DST, plus a guest order,
    an excluded customer's, a test order and a refunded one."""
    ctx.engine.dispose()
    populate(database_url, shop.id, SHAPE, now=NOW)
    set_zone(ctx, shop, "America/St_Johns")
    with ctx.engine.begin() as conn:
        customer = first_customer(conn, shop)
        add_order(conn, shop, None, NOW - timedelta(days=3), "70", "no customer and no email")
        add_order(conn, shop, customer, NOW - timedelta(days=2), "55.5", "sales channel pos is excluded")
        add_order(conn, shop, customer, NOW - timedelta(days=2), "999", "test order")
        refunded = add_order(conn, shop, customer, datetime(2025, 3, 9, 3, 10, tzinfo=timezone.utc), "40", None)
        add_refund(conn, shop, refunded, "15")
    return shop


def roll(engine, shop_id, now, batch=200_000):
    """The roll-up job's part for one shop: vouchers, then orders (their watermark)."""
    roll_up_vouchers(engine, shop_id, now, batch)
    return roll_up_orders(engine, shop_id, now, batch)


def set_zone(ctx, shop, zone):
    with ctx.engine.begin() as conn:
        conn.execute(update(shops).where(shops.c.id == shop.id).values(iana_timezone=zone))


def first_customer(conn, shop):
    return conn.execute(select(func.min(customers.c.id)).where(customers.c.shop_id == shop.id)).scalar()


def add_order(conn, shop, customer_id, paid_at, merchandise, excluded_reason):
    shopify_id = next(IDS)
    conn.execute(insert(orders).values(shop_id=shop.id, shopify_order_id=shopify_id, customer_id=customer_id,
                                       merchandise=Decimal(merchandise), paid_at=paid_at,
                                       excluded_reason=excluded_reason))
    return shopify_id


def add_refund(conn, shop, shopify_order_id, merchandise):
    conn.execute(insert(refunds).values(shop_id=shop.id, shopify_refund_id=next(IDS), shopify_order_id=shopify_order_id,
                                        merchandise=Decimal(merchandise), created_at=NOW))


def direct(conn, shop):
    """The reference: every order and refund read back and summed in Python by shop day and buyer class."""
    facts = shop_facts(conn, shop.id)
    refunded = defaultdict(Decimal)
    for order_id, amount in conn.execute(select(refunds.c.shopify_order_id, refunds.c.merchandise)
                                         .where(refunds.c.shop_id == shop.id)):
        refunded[order_id] += Decimal(str(amount))
    days = defaultdict(lambda: [0, Decimal(0)])
    for order_id, paid_at, cancelled_at, reason, merchandise in conn.execute(
            select(orders.c.shopify_order_id, orders.c.paid_at, orders.c.cancelled_at, orders.c.excluded_reason,
                   orders.c.merchandise).where(orders.c.shop_id == shop.id)):
        if paid_at is None or cancelled_at is not None or reason == "test order":
            continue
        paid_at = paid_at if paid_at.tzinfo else paid_at.replace(tzinfo=timezone.utc)
        buyer = "member" if reason is None else "guest" if reason == "no customer and no email" else "customer"
        day = days[(facts.local_day(paid_at), buyer)]
        day[0] += 1
        day[1] += Decimal(str(merchandise or 0)) - refunded[order_id]
    return days


def direct_rewards(conn, shop, first, last):
    """The reference for the rewards: vouchers not cancelled, issued on those shop days, by kind and reward."""
    facts = shop_facts(conn, shop.id)
    found = defaultdict(lambda: [0, 0])
    for key, kind, points, at in conn.execute(select(vouchers.c.reward_key, vouchers.c.kind, vouchers.c.points,
                                                     vouchers.c.created_at)
                                              .where(vouchers.c.shop_id == shop.id, vouchers.c.status != "cancelled")):
        if first <= facts.local_day(at if at.tzinfo else at.replace(tzinfo=timezone.utc)) <= last:
            found[(kind, key)][0] += 1
            found[(kind, key)][1] += points
    return {(kind, key): tuple(v) for (kind, key), v in found.items()}


def assert_exact(ctx, shop):
    """period_orders equals the direct sums over several ranges (revenue to the cent, as the page shows it)."""
    with ctx.engine.connect() as conn:
        facts = shop_facts(conn, shop.id)
        days = direct(conn, shop)
        for first, last in RANGES:
            got = period_orders(conn, shop.id, facts, first, last)
            for buyer in ("member", "customer", "guest"):
                rows = [v for (d, b), v in days.items() if b == buyer and first <= d <= last]
                expected = (sum(v[0] for v in rows), sum((v[1] for v in rows), Decimal(0)))
                assert (got[buyer][0], round(got[buyer][1], 2)) == (expected[0], round(expected[1], 2)), \
                    (buyer, first, last)
            rewards = period_rewards(conn, shop.id, facts, first, last, 1_000)
            assert {(r["kind"], r["reward_key"]): (r["count"], r["points"]) for r in rewards} == \
                direct_rewards(conn, shop, first, last)
            assert [r["count"] for r in rewards] == sorted((r["count"] for r in rewards), reverse=True)
        assert customer_count(conn, shop.id, facts) == conn.execute(
            select(func.count()).select_from(customers).where(customers.c.shop_id == shop.id)).scalar()


def test_reads_are_exact_before_any_roll_up(ctx, made):
    with ctx.engine.connect() as conn:
        assert direct_rewards(conn, made, *RANGES[0])  # the shop has rewards to compare
    assert_exact(ctx, made)


def test_totals_plus_tail_equal_the_orders_after_a_roll_up_and_later_changes(ctx, made):
    roll(ctx.engine, made.id, NOW, batch=500)
    roll(ctx.engine, made.id, NOW)  # PostgreSQL: the horizon of the first run
    assert_exact(ctx, made)
    with ctx.engine.begin() as conn:
        customer = first_customer(conn, made)
        rolled = conn.execute(select(orders.c.shopify_order_id).where(
            orders.c.shop_id == made.id, orders.c.paid_at >= datetime(2025, 3, 9, tzinfo=timezone.utc))
            .order_by(orders.c.paid_at).limit(2)).scalars().all()
        conn.execute(update(orders).where(orders.c.shop_id == made.id, orders.c.shopify_order_id == rolled[0])
                     .values(cancelled_at=NOW))  # a cancellation of an order already rolled up
        add_refund(conn, made, rolled[1], "7.25")  # a refund of one
        issued = conn.execute(select(vouchers.c.id).where(vouchers.c.shop_id == made.id, vouchers.c.status != "cancelled")
                              .order_by(vouchers.c.id.desc()).limit(3)).scalars().all()
        conn.execute(update(vouchers).where(vouchers.c.id.in_(issued)).values(status="cancelled"))  # vouchers too
        early = next(IDS)  # a refund arriving before its order: the row is made empty, then paid
        conn.execute(insert(orders).values(shop_id=made.id, shopify_order_id=early))
        add_refund(conn, made, early, "3")
        conn.execute(update(orders).where(orders.c.shop_id == made.id, orders.c.shopify_order_id == early)
                     .values(customer_id=customer, merchandise=Decimal("30"), paid_at=NOW - timedelta(days=1)))
    assert_exact(ctx, made)
    roll(ctx.engine, made.id, NOW)
    roll(ctx.engine, made.id, NOW)
    assert_exact(ctx, made)


def test_a_redacted_customer_s_orders_stay_members_orders(ctx, made):
    roll(ctx.engine, made.id, NOW)
    with ctx.engine.connect() as conn:
        before = period_orders(conn, made.id, shop_facts(conn, made.id), *RANGES[0])
    with ctx.engine.begin() as conn:
        row = conn.execute(select(customers).where(customers.c.id == first_customer(conn, made))).one()
        redact_customer(conn, made, row.shopify_customer_id, row.email)
    with ctx.engine.connect() as conn:
        assert period_orders(conn, made.id, shop_facts(conn, made.id), *RANGES[0]) == before
    assert_exact(ctx, made)


def test_a_change_of_time_zone_rebuilds_the_order_totals(ctx, made):
    roll(ctx.engine, made.id, NOW)
    set_zone(ctx, made, "Asia/Kathmandu")
    assert_exact(ctx, made)  # the totals of another zone are ignored meanwhile
    roll(ctx.engine, made.id, NOW)
    roll(ctx.engine, made.id, NOW)
    assert_exact(ctx, made)
    rebuild_orders(ctx.engine, made.id, NOW)
    assert_exact(ctx, made)


def test_a_transaction_committing_after_the_roll_up_passed_its_id_is_still_counted(ctx, made, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: an id cannot commit after a higher one is visible")
    roll_up_orders(ctx.engine, made.id, NOW)
    roll_up_orders(ctx.engine, made.id, NOW)
    late = ctx.engine.connect()
    try:
        slow = late.begin()
        add_order(late, made, None, NOW, "1000", "no customer and no email")
        late_id = late.execute(select(func.max(order_changes.c.id))).scalar()  # its change: drawn now, committed later
        with ctx.engine.begin() as conn:
            add_order(conn, made, None, NOW, "3", "no customer and no email")
            higher = conn.execute(select(func.max(order_changes.c.id))).scalar()
        assert higher > late_id
        for _ in range(3):
            assert roll_up_orders(ctx.engine, made.id, NOW) < late_id  # the open transaction holds it back
        slow.commit()
    finally:
        late.close()
    assert_exact(ctx, made)
    roll_up_orders(ctx.engine, made.id, NOW)
    assert roll_up_orders(ctx.engine, made.id, NOW) >= higher
    assert_exact(ctx, made)
