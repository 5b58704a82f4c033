"""Rows through the driver (db/rows.py): stored exactly as SQLAlchemy's insert() stores them, on SQLite and
PostgreSQL; any number of values in one look-up; upserts; the schema's constraints still apply."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from db.rows import fewer_checkpoints, insert_rows, select_in, upsert_rows
from db.tables import customer_sync, customers, orders, refunds

UTC = datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
PARIS = UTC.astimezone(timezone(timedelta(hours=2)))  # the same instant, another offset
COLUMNS = ("shop_id", "shopify_refund_id", "created_at", "shopify_order_id", "merchandise")


def test_rows_are_stored_as_insert_stores_them(ctx, shop):
    """Times (equal instants of different offsets included), amounts and big ids: the same stored forms."""
    values = [(UTC, Decimal("10.50")), (PARIS, Decimal("10.5")), (UTC + timedelta(days=400), Decimal("0.0001"))]
    with ctx.engine.begin() as conn:
        conn.execute(insert(orders), [dict(shop_id=shop.id, shopify_order_id=2**62 + n) for n in range(3)])
        conn.execute(insert(refunds), [dict(shop_id=shop.id, shopify_refund_id=n, created_at=at,
                                            shopify_order_id=2**62 + n, merchandise=amount)
                                       for n, (at, amount) in enumerate(values)])
        insert_rows(conn, refunds, COLUMNS, [(shop.id, 100 + n, at, 2**62 + n, amount)
                                             for n, (at, amount) in enumerate(values)])
        for n, (at, amount) in enumerate(values):  # one at a time: values converted by an earlier call
            insert_rows(conn, refunds, COLUMNS, [(shop.id, 200 + n, at, 2**62 + n, amount)])
        stored = conn.execute(text("SELECT shopify_refund_id, created_at, shopify_order_id, merchandise "
                                   "FROM refunds ORDER BY shopify_refund_id")).all()
    assert [tuple(r[1:]) for r in stored[:3]] == [tuple(r[1:]) for r in stored[3:6]] == [
        tuple(r[1:]) for r in stored[6:]]
    assert [r[0] for r in stored] == [0, 1, 2, 100, 101, 102, 200, 201, 202]


def test_a_look_up_takes_more_values_than_sqlite_has_variables(ctx, shop):
    """40,000 values (SQLite allows 32,766 variables in one statement) in one parameter."""
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with ctx.engine.begin() as conn:
        insert_rows(conn, customers, ("shop_id", "shopify_customer_id", "email", "created_at"),
                    [(shop.id, 7_000 + n, f"c{n}@example.com", now) for n in range(0, 40_000, 100)])
        found = select_in(conn, "SELECT shopify_customer_id, email FROM customers WHERE shop_id = {p} "
                                "AND shopify_customer_id {IN}", (shop.id,), range(7_000, 47_000))
        by_email = select_in(conn, "SELECT email FROM customers WHERE shop_id = {p} AND email {IN}",
                             (shop.id,), ["c100@example.com", "nobody@example.com"])
    assert sorted(found) == [(7_000 + n, f"c{n}@example.com") for n in range(0, 40_000, 100)]
    assert by_email == [("c100@example.com",)]


def test_upsert_updates_the_rows_that_exist_and_inserts_the_others(ctx, shop):
    """customer_sync: a known customer's mark moves to the new time, a new one is added."""
    t1, t2 = datetime(2025, 1, 1, tzinfo=timezone.utc), datetime(2025, 2, 1, tzinfo=timezone.utc)
    with ctx.engine.begin() as conn:
        insert_rows(conn, customers, ("shop_id", "email", "created_at"),
                    [(shop.id, "a@example.com", t1), (shop.id, "b@example.com", t1)])
        a, b = conn.execute(select(customers.c.id).order_by(customers.c.email)).scalars()
        columns = ("customer_id", "shop_id", "changed_at")
        upsert_rows(conn, customer_sync, columns, [(a, shop.id, t1)], key="customer_id", update=("changed_at",))
        upsert_rows(conn, customer_sync, columns, [(a, shop.id, t2), (b, shop.id, t2)], key="customer_id",
                    update=("changed_at",))
        marks = conn.execute(select(customer_sync.c.customer_id, customer_sync.c.changed_at)
                             .order_by(customer_sync.c.customer_id)).all()
    assert [(c, at.replace(tzinfo=None)) for c, at in marks] == [(a, t2.replace(tzinfo=None)),
                                                                  (b, t2.replace(tzinfo=None))]


def test_the_schema_still_refuses_what_it_refuses(ctx, shop):
    """A negative refund and a repeated refund id are refused as from insert() (CHECK, UNIQUE)."""
    with ctx.engine.begin() as conn:
        conn.execute(insert(orders).values(shop_id=shop.id, shopify_order_id=1))
    with pytest.raises(IntegrityError):
        with ctx.engine.begin() as conn:
            insert_rows(conn, refunds, COLUMNS, [(shop.id, 1, UTC, 1, Decimal("-1"))])
    with pytest.raises(IntegrityError):
        with ctx.engine.begin() as conn:
            insert_rows(conn, refunds, COLUMNS, [(shop.id, 2, UTC, 1, Decimal("1")),
                                                 (shop.id, 2, UTC, 1, Decimal("2"))])
    with ctx.engine.connect() as conn:
        assert conn.execute(select(refunds.c.id)).all() == []


def test_many_distinct_times_in_two_columns_of_one_type(ctx, shop, monkeypatch):
    """More distinct times than are kept converted, in two columns sharing their conversions: all stored."""
    monkeypatch.setattr("db.rows.CONVERTED_KEPT", 3)
    times = [UTC + timedelta(minutes=n) for n in range(10)]
    with ctx.engine.begin() as conn:
        insert_rows(conn, customers, ("shop_id", "email", "created_at", "profile_updated_at"),
                    [(shop.id, f"t{n}@example.com", at, at + timedelta(days=1)) for n, at in enumerate(times)])
        stored = conn.execute(select(customers.c.created_at, customers.c.profile_updated_at)
                              .order_by(customers.c.email)).all()
    assert [(a.replace(tzinfo=None), b.replace(tzinfo=None)) for a, b in stored] == [
        (at.replace(tzinfo=None), (at + timedelta(days=1)).replace(tzinfo=None)) for at in times]


def test_fewer_checkpoints_while_bulk_work_runs_then_as_before(ctx):
    """SQLite: the connection checkpoints every N pages inside, as before after; PostgreSQL: untouched."""
    with ctx.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            with fewer_checkpoints(conn, 5000):
                assert conn.execute(text("SELECT 1")).scalar() == 1
            return
        driver = conn.connection.driver_connection
        setting = lambda: driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0]  # noqa: E731
        before = setting()
        with fewer_checkpoints(conn, 5000):
            assert setting() == 5000
            with conn.begin():
                conn.execute(text("SELECT 1"))
        assert setting() == before == 1000
