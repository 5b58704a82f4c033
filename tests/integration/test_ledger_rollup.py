"""The ledger roll-up (loyalty/services/ledger_rollup.py) on SQLite and PostgreSQL: totals up to the watermark
plus the live tail equal a direct sum of the ledger by the shop's calendar day, before a roll-up, after it,
with entries written after it, after a redaction or a merge, after a change of time zone, and (PostgreSQL) with a
transaction that commits after the roll-up passed its id."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from itertools import count

import pytest
from sqlalchemy import insert, select, update

from db.tables import customers, ledger_entries as le, ledger_rollups, shops
from loyalty.domain.points import add_months
from loyalty.services.customers import _merge
from loyalty.services.ledger_rollup import ACTIVITY, roll_up
from loyalty.services.privacy import redact_customer
from loyalty.services.read.ledger_figures import customer_standing, day_flows
from loyalty.services.read.reports import _breakage_from_ledger, breakage
from loyalty.services.shops import shop_facts
from tools.bench.storefront_data import Shape, populate

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
SHAPE = Shape(customers=300, entries=4_000, measured=2, per_customer=300)
KEYS = count()


@pytest.fixture
def made(ctx, shop, database_url):
    """A small bench shop (three years of orders, redemptions, bonuses) in a half-hour zone with DST."""
    ctx.engine.dispose()
    populate(database_url, shop.id, SHAPE, now=NOW)
    set_zone(ctx, shop, "America/St_Johns")
    return shop


def set_zone(ctx, shop, zone):
    with ctx.engine.begin() as conn:
        conn.execute(update(shops).where(shops.c.id == shop.id).values(iana_timezone=zone))


def direct(conn, shop):
    """The reference: every entry summed in Python by its shop day and kind, and per customer."""
    facts = shop_facts(conn, shop.id)
    days = defaultdict(lambda: [0, 0])
    owed, last = defaultdict(int), {}
    for who, kind, pending, available, at in conn.execute(
            select(le.c.customer_id, le.c.kind, le.c.pending, le.c.available, le.c.effective_at)
            .where(le.c.shop_id == shop.id)):
        at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
        day = facts.local_day(at)
        days[(day, kind)][0] += pending
        days[(day, kind)][1] += available
        owed[who or 0] += pending + available
        if who and kind in ACTIVITY:
            last[who] = max(last.get(who, day), day)
    return days, owed, last


def add_entry(conn, shop, customer_id, at, kind="bonus", points=10):
    return conn.execute(insert(le).values(
        shop_id=shop.id, customer_id=customer_id, kind=kind, pending=0, available=points, reason="test",
        idempotency_key=f"rollup-test-{next(KEYS)}", effective_at=at, created_at=at).returning(le.c.id)).scalar()


def assert_exact(ctx, shop):
    """day_flows, customer_standing and breakage equal the direct sums, over several ranges."""
    with ctx.engine.connect() as conn:
        facts = shop_facts(conn, shop.id)
        days, owed, last = direct(conn, shop)
        for first, final in ((date(2023, 6, 1), date(2026, 6, 1)), (date(2025, 3, 9), date(2025, 3, 9)),
                             (date(2025, 11, 1), date(2025, 11, 3)), (date(2026, 5, 2), date(2026, 6, 1))):
            flows = day_flows(conn, shop.id, facts, first, final)
            opening = [sum(v[i] for (d, _), v in days.items() if d < first) for i in (0, 1)]
            assert list(flows.opening) == opening
            expected = {(d, k): tuple(v) for (d, k), v in days.items() if first <= d <= final and any(v)}
            got = {(d, k): v for d, kinds in flows.days.items() for k, v in kinds.items() if any(v)}
            assert got == expected
        standing = customer_standing(conn, shop.id, facts)
        assert standing.members == len([c for c in owed if c])
        since = date(2026, 3, 1)
        assert standing.active_since(since) == len([c for c, d in last.items() if d >= since])
        cutoff = date(2025, 6, 2)
        assert standing.owed_inactive_before(cutoff) == sum(
            o for c, o in owed.items() if not c or last.get(c, date.min) < cutoff)
        final = date(2026, 6, 1)
        fast = breakage(conn, shop.id, final, facts)
        slow = _breakage_from_ledger(conn, shop.id, facts.start_of_day(final + timedelta(days=1)),
                                     facts.start_of_day(add_months(final + timedelta(days=1), -fast.dormant_months)),
                                     fast.dormant_months)
        assert fast == slow and fast.outstanding == sum(owed.values())


def test_reads_are_exact_before_any_roll_up(ctx, made):
    assert_exact(ctx, made)


def test_totals_plus_tail_equal_the_ledger_after_a_roll_up_and_later_entries(ctx, made):
    roll_up(ctx.engine, made.id, NOW, batch=1_000)
    assert_exact(ctx, made)
    with ctx.engine.begin() as conn:
        first, second = conn.execute(select(customers.c.id).where(customers.c.shop_id == made.id)
                                     .order_by(customers.c.id).limit(2)).scalars()
        add_entry(conn, made, first, NOW + timedelta(minutes=5))
        add_entry(conn, made, second, datetime(2024, 1, 5, 3, 10, tzinfo=timezone.utc), kind="adjust", points=-7)
        add_entry(conn, made, None, NOW)
    assert_exact(ctx, made)  # the tail above the watermark
    roll_up(ctx.engine, made.id, NOW + timedelta(minutes=6))
    roll_up(ctx.engine, made.id, NOW + timedelta(minutes=7))
    assert_exact(ctx, made)


def test_a_redacted_customer_s_points_join_those_of_no_customer(ctx, made):
    roll_up(ctx.engine, made.id, NOW)
    roll_up(ctx.engine, made.id, NOW)
    with ctx.engine.begin() as conn:
        row = conn.execute(select(customers.c.shopify_customer_id).where(customers.c.shop_id == made.id)
                           .order_by(customers.c.id).limit(1)).one()
        redact_customer(conn, made, row.shopify_customer_id, None)
    assert_exact(ctx, made)


def test_two_records_of_one_person_merged_after_a_roll_up_count_as_one_member(ctx, made):
    """An email-only record merged into the account record (loyalty.services.customers._merge moves its
    entries): its rolled-up totals move too, so members, activity and breakage stay exact."""
    roll_up(ctx.engine, made.id, NOW)
    roll_up(ctx.engine, made.id, NOW)
    with ctx.engine.begin() as conn:
        keep, drop = conn.execute(select(customers.c.id).where(customers.c.shop_id == made.id)
                                  .order_by(customers.c.id.desc()).limit(2)).scalars()
        _merge(conn, keep=keep, drop=drop)
    assert_exact(ctx, made)


def test_a_change_of_time_zone_rebuilds_the_totals(ctx, made):
    roll_up(ctx.engine, made.id, NOW)
    roll_up(ctx.engine, made.id, NOW)
    set_zone(ctx, made, "Asia/Kathmandu")  # +5:45
    assert_exact(ctx, made)  # the totals of the old zone are ignored until rebuilt
    roll_up(ctx.engine, made.id, NOW)
    roll_up(ctx.engine, made.id, NOW)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(ledger_rollups.c.zone).where(ledger_rollups.c.shop_id == made.id)).scalar() \
            == "Asia/Kathmandu"
    assert_exact(ctx, made)


@pytest.mark.postgres
def test_a_transaction_committing_after_the_roll_up_passed_its_id_is_still_counted(ctx, made, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: an id cannot commit after a higher one is visible")
    roll_up(ctx.engine, made.id, NOW)
    roll_up(ctx.engine, made.id, NOW)
    with ctx.engine.connect() as conn:
        customer = conn.execute(select(customers.c.id).where(customers.c.shop_id == made.id).limit(1)).scalar()
    late = ctx.engine.connect()
    try:
        slow = late.begin()
        late_id = add_entry(late, made, customer, NOW, points=1000)  # drawn now, committed later
        with ctx.engine.begin() as conn:
            higher = add_entry(conn, made, customer, NOW, points=3)
        assert higher > late_id
        for _ in range(3):
            mark = roll_up(ctx.engine, made.id, NOW)
            assert mark < late_id  # the open transaction holds the watermark back
        slow.commit()
    finally:
        late.close()
    assert_exact(ctx, made)
    roll_up(ctx.engine, made.id, NOW)
    assert roll_up(ctx.engine, made.id, NOW) >= higher
    assert_exact(ctx, made)
