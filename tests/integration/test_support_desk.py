"""The support desk's read model (loyalty.services.read.support_desk) on SQLite and PostgreSQL: bounded
pages newest first, and every per-customer query found through an index (EXPLAIN), never a scan of the
shop's orders or entries."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select, text

from db.tables import ledger_entries, orders
from loyalty.services.customers import resolve_customer
from loyalty.services.read import support_desk

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def test_the_desk_pages_orders_and_entries_newest_first(ctx, shop):
    with ctx.engine.begin() as conn:
        who = resolve_customer(conn, shop.id, 501, "desk@example.com", NOW)
        conn.execute(insert(orders), [dict(shop_id=shop.id, shopify_order_id=9000 + n, name=f"#{n}", customer_id=who,
                                           paid_at=NOW - timedelta(days=n), award=0, excluded_reason="test order")
                                      for n in range(60)])
        conn.execute(insert(ledger_entries), [dict(shop_id=shop.id, customer_id=who, kind="adjust", available=1,
                                                   reason=f"r{n}", idempotency_key=f"k{n}", created_at=NOW,
                                                   effective_at=NOW + timedelta(minutes=n)) for n in range(55)])
        row = support_desk.customer_row(conn, shop, who)
        page = support_desk.desk(conn, shop, row, NOW)
        assert [o["name"] for o in page["orders"][:2]] == ["#0", "#1"] and page["orders_has_more"]
        assert {o["outcome"]["code"] for o in page["orders"]} == {"test_order"}
        assert page["entries"][0]["reason"] == "r54" and page["entries_has_more"] and len(page["entries"]) == 50
        rest, more = support_desk.orders_page(conn, shop, who, 2)
        assert [o["name"] for o in rest] == [f"#{n}" for n in range(50, 60)] and not more
        assert page["available"] == 55 and page["customer"]["email"] == "desk@example.com"


def test_the_desk_queries_use_an_index(ctx, shop):
    """The customer's orders, entries and notifications are looked up by index on both databases."""
    with ctx.engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if not sqlite:
            conn.execute(text("SET LOCAL enable_seqscan = off"))  # small tables: ask which index the planner can use
        for table, column in (("orders", "customer_id"), ("ledger_entries", "customer_id"),
                              ("notifications", "customer_id"), ("vouchers", "customer_id"),
                              ("perk_grants", "customer_id"), ("referrals", "referrer_id")):
            sql = f"SELECT * FROM {table} WHERE {column} = 1"
            plan = " ".join(str(r) for r in conn.execute(text(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql)))
            assert ("USING INDEX" in plan or "USING COVERING INDEX" in plan) if sqlite else "Index" in plan, (table, plan)
