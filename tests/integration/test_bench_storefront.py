"""The storefront benchmark's data set (tools/bench/storefront_data.py) at a small size, on SQLite and
PostgreSQL: the shape asked, rows the app would have written, and the loyalty page read from it as the
whole ledger says (its history is the newest entries, its pending points the sums by order); and the
benchmark's requests answered 200 through the app."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, inspect, select

from db.tables import customers, ledger_entries, metadata, orders, vouchers
from loyalty.defaults import STOREFRONT_HISTORY_LIMIT
from loyalty.services.customers import find_customer
from loyalty.services.ledger import entries_of
from loyalty.services.read.loyalty_page import loyalty_page
from loyalty.services.read.views import iso
from tools.bench import storefront
from tools.bench.storefront_data import Shape, populate

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
SHAPE = Shape(customers=500, entries=6_000, measured=3, per_customer=400)
"""Orders every 13 hours over three years; each measured customer's every 15th: the last one still pending."""


@pytest.fixture
def made(ctx, shop, database_url):
    """The small shop, made in the test database (which the load has to itself, as in the benchmark)."""
    ctx.engine.dispose()
    return populate(database_url, shop.id, SHAPE, now=NOW)


def count(conn, table, *where):
    return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_the_data_set_has_the_shape_asked(ctx, shop, made):
    """500 customers, 6,000 entries (four orders, one redemption with its voucher in ten), the measured
    customers exactly 400 entries each, spread over the whole ledger; the last 14 days' orders pending."""
    with ctx.engine.connect() as conn:
        assert count(conn, customers) == 500 and count(conn, ledger_entries) == 6_000
        assert count(conn, orders) == 2_400 and count(conn, vouchers) == 600
        ids = [find_customer(conn, shop.id, str(c)).id for c in made.measured]
        for customer_id in ids:
            entries = entries_of(conn, customer_id)
            assert len(entries) == 400
            assert {e.kind for e in entries} == {"earn", "mature", "redeem", "bonus"}
            spread = conn.execute(select(func.min(ledger_entries.c.id), func.max(ledger_entries.c.id)).where(
                ledger_entries.c.customer_id == customer_id, ledger_entries.c.kind == "earn")).one()
            assert spread[1] - spread[0] > 2_000  # first and last orders far apart in the table
        pending = count(conn, orders, orders.c.pending_until > NOW)
        assert 0 < pending < 100 and count(conn, ledger_entries, ledger_entries.c.kind == "mature") == 2_400 - pending


def test_the_rows_are_those_the_app_writes(ctx, shop, made):
    """Written without per-row checks: every entry's customer and order exist and agree, every key is
    unique, the indexes dropped for the load are back, and no measured balance is negative."""
    with ctx.engine.connect() as conn:
        orphans = count(conn, ledger_entries.outerjoin(customers, customers.c.id == ledger_entries.c.customer_id),
                        customers.c.id.is_(None))
        mismatched = count(conn, ledger_entries.join(orders, orders.c.id == ledger_entries.c.order_id),
                           orders.c.customer_id != ledger_entries.c.customer_id)
        assert (orphans, mismatched) == (0, 0)
        assert conn.execute(select(func.count(func.distinct(ledger_entries.c.idempotency_key)))).scalar() == 6_000
        present = {i["name"] for name in ("orders", "ledger_entries", "vouchers")
                   for i in inspect(conn).get_indexes(name)}
        expected = {i.name for name in ("orders", "ledger_entries", "vouchers")
                    for i in metadata.tables[name].indexes if not i.unique}
        assert expected <= present
        page = loyalty_page(conn, shop, made.measured[0], NOW)
        assert page["customer"]["available"] > 0 and page["customer"]["pending"] > 0


def test_the_page_reads_the_newest_history_and_pending_sums_by_order(ctx, shop, made):
    """The page's bounded reads give what reading the whole ledger gives: the newest STOREFRONT_HISTORY_LIMIT
    entries, newest first, with their orders; pending points summed by order, earliest release first."""
    with ctx.engine.connect() as conn:
        for shopify_id in made.measured:
            row = find_customer(conn, shop.id, str(shopify_id))
            names = {o.id: (o.name, iso(o.pending_until)) for o in conn.execute(
                select(orders).where(orders.c.customer_id == row.id))}
            everything = entries_of(conn, row.id)
            sums = defaultdict(int)
            for e in everything:
                sums[e.order_id] += e.pending if e.order_id else 0
            expected_pending = sorted(({"order": names[o][0], "points": p, "pending_until": names[o][1]}
                                       for o, p in sums.items() if o and p > 0), key=lambda p: p["pending_until"])
            expected_history = [(e.kind, e.pending + e.available, iso(e.effective_at),
                                 names[e.order_id][0] if e.order_id else None)
                                for e in everything[::-1][:STOREFRONT_HISTORY_LIMIT]]
            customer = loyalty_page(conn, shop, shopify_id, NOW)["customer"]
            assert customer["pending_points"] == expected_pending and expected_pending
            assert [(h["kind"], h["points"], h["effective_at"], h["order"]) for h in customer["history"]] \
                == expected_history
            assert len(customer["vouchers"]) == 40


def test_the_benchmark_requests_are_answered(ctx, shop, made):
    """The benchmark's own requests (signed proxy query, the baseline) through the app: 200 each, and the
    extension's endpoint measured when the route exists, reported as not present otherwise."""
    from runtime.web import create_app

    app = create_app(replace(ctx, config=replace(ctx.config, api_secrets=(storefront.SECRET,), api_key="bench",
                                                 rate_limit_pages="1000 per minute")))
    # The benchmark signs for its own shop; measure this test's shop under that name.
    with ctx.engine.begin() as conn:
        conn.execute(shops_rename(shop.domain))
    results = storefront.timed(app, made.measured, 3)
    for name, result in results.items():
        if result is None:
            assert name == f"GET {storefront.EXTENSION_PATH}"
            assert storefront.EXTENSION_PATH not in {r.rule for r in app.url_map.iter_rules()}
        else:
            assert result["statuses"] == {200: 3} and len(result["ms"]) == 3
    rows = storefront.judged("sqlite", "store-b", results)
    assert rows[0].name.endswith("baseline GET /healthz") and all("p99" in r.value for r in rows
                                                                if r.value != "not present")


def shops_rename(domain: str):
    """An UPDATE giving the test's shop the benchmark's domain."""
    from db.tables import shops

    return shops.update().where(shops.c.domain == domain).values(domain=storefront.SHOP)
