"""Customers' names and tags, captured from Shopify and searched by support, on SQLite and PostgreSQL:
customers/create|update and paid orders fill them (an older update changes nothing), redaction erases them,
the data request exports them; search by name, email, Shopify id or order number reads indexes."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from db.tables import customers, data_exports
from loyalty.domain.customer_search import prefix_range
from loyalty.services.customers import resolve_customer
from loyalty.services.read.customer_search import search_customers
from tests.factories import customer, order

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def profile(body: dict, **fields) -> dict:
    """A customers/* body with these names, tags and updated_at."""
    return {**body, **fields}


def stored(ctx, shopify_id: int):
    with ctx.engine.connect() as conn:
        return conn.execute(select(customers.c.first_name, customers.c.last_name, customers.c.tags,
                                   customers.c.name_key, customers.c.surname_key)
                            .where(customers.c.shopify_customer_id == shopify_id)).first()


def found(ctx, shop, query: str, **kw) -> list[str]:
    with ctx.engine.connect() as conn:
        rows, _ = search_customers(conn, shop, query, **kw)
    return [r["email"] for r in rows]


def test_customers_create_captures_names_tags_and_search_keys(send, process, ctx, shop):
    send("customers/create", profile(customer(11, "elo@example.com"), first_name="Élodie", last_name="Martin",
                                     tags="vip, newsletter", updated_at="2025-03-01T10:00:00Z"))
    process()
    assert tuple(stored(ctx, 11)) == ("Élodie", "Martin", "vip, newsletter", "elodie martin", "martin elodie")


def test_customers_update_replaces_names_and_an_older_update_changes_nothing(send, process, ctx, shop):
    """Shopify does not deliver in order: the 10:00 update arriving after the 11:00 one is stale."""
    send("customers/update", profile(customer(12, "a@example.com"), first_name="Anne", last_name="Neuve",
                                     tags="vip", updated_at="2025-03-01T11:00:00Z"))
    send("customers/update", profile(customer(12, "a@example.com"), first_name="Anne", last_name="Vieille",
                                     tags="", updated_at="2025-03-01T10:00:00Z"))
    process()
    assert tuple(stored(ctx, 12))[:3] == ("Anne", "Neuve", "vip")
    send("customers/update", profile(customer(12, "a@example.com"), first_name="Anne", last_name="Mariée",
                                     tags="", updated_at="2025-03-01T12:00:00Z"))
    process()
    assert tuple(stored(ctx, 12))[:3] == ("Anne", "Mariée", None)


def test_a_customers_update_without_name_fields_keeps_the_names(send, process, ctx, shop):
    send("customers/create", profile(customer(13, "k@example.com"), first_name="Kim", last_name="Lee"))
    process()
    body = {k: v for k, v in customer(13, "k2@example.com").items() if k not in ("first_name", "last_name", "tags")}
    send("customers/update", body)
    process()
    assert tuple(stored(ctx, 13))[:2] == ("Kim", "Lee")


def test_a_paid_orders_customer_gives_names_and_tags(send, process, ctx, shop):
    """A customer known only from orders gets the names and tags the order carries."""
    body = order(customer_id=14, email="o@example.com", tags="wholesale, vip")
    body["customer"].update(first_name="Oscar", last_name="Ödegaard")
    send("orders/paid", body)
    process()
    assert tuple(stored(ctx, 14)) == ("Oscar", "Ödegaard", "wholesale, vip", "oscar odegaard", "odegaard oscar")


def test_an_order_never_overwrites_what_customers_update_said(send, process, ctx, shop):
    """Once a customers/* webhook has spoken, an order's copy of the customer (as old as the order) is ignored."""
    send("customers/update", profile(customer(15, "p@example.com"), first_name="Paula", last_name="Nouveau",
                                     updated_at="2025-03-01T11:00:00Z"))
    process()
    body = order(customer_id=15, email="p@example.com", tags="old")
    body["customer"].update(first_name="Paula", last_name="Ancien")
    send("orders/paid", body)
    process()
    assert tuple(stored(ctx, 15))[:3] == ("Paula", "Nouveau", None)


def test_redaction_erases_names_and_tags_and_the_export_includes_them(send, process, ctx, shop):
    send("customers/create", profile(customer(16, "r@example.com"), first_name="Rita", last_name="Redact",
                                     tags="vip"))
    process()
    send("customers/data_request", {"shop_id": 1, "shop_domain": shop.domain, "customer": {"id": 16},
                                    "data_request": {"id": 99}, "orders_requested": []})
    process()
    with ctx.engine.connect() as conn:
        export = json.loads(conn.execute(select(data_exports.c.body)).scalar())
    [record] = export["records"]
    assert (record["first_name"], record["last_name"], record["tags"]) == ("Rita", "Redact", "vip")
    send("customers/redact", {"shop_id": 1, "shop_domain": shop.domain, "customer": {"id": 16, "email": "r@example.com"},
                              "orders_to_redact": []})
    process()
    with ctx.engine.connect() as conn:
        left = conn.execute(select(customers.c.id).where(
            (customers.c.first_name == "Rita") | (customers.c.last_name == "Redact")
            | (customers.c.name_key.like("rita%")) | (customers.c.surname_key.like("redact%")))).all()
    assert left == [] and found(ctx, shop, "rita") == []


@pytest.fixture
def people(send, process, ctx, shop):
    """Four customers with names, one with an order #5001, and a customer of another shop."""
    for shopify_id, email, first, last in ((21, "elodie@example.com", "Élodie", "Martin"),
                                           (22, "marc@example.com", "Marc", "Dupont"),
                                           (23, "zoe@example.com", "Zoé", "Marchand"),
                                           (24, "ana@example.com", "Ana", "Lopez")):
        send("customers/create", profile(customer(shopify_id, email), first_name=first, last_name=last))
    body = order(order_id=5001, customer_id=24, email="ana@example.com")  # its customer has tags, no names
    send("orders/paid", body)
    process()
    from loyalty.services.shops import install_shop

    with ctx.engine.begin() as conn:
        other = install_shop(conn, "other-shop.myshopify.com", None, NOW)
        conn.execute(customers.update().where(customers.c.id == resolve_customer(
            conn, other.id, 21, "elodie@example.com", NOW)).values(first_name="Élodie", name_key="elodie other"))


def test_search_by_first_name_last_name_and_both_ignores_case_and_accents(people, ctx, shop):
    assert found(ctx, shop, "ELO") == ["elodie@example.com"]
    assert found(ctx, shop, "élodie m") == ["elodie@example.com"]
    assert found(ctx, shop, "Martin E") == ["elodie@example.com"]
    assert found(ctx, shop, "zoe") == ["zoe@example.com"]
    assert sorted(found(ctx, shop, "mar")) == ["elodie@example.com", "marc@example.com", "zoe@example.com"]


def test_search_by_email_prefix_still_works(people, ctx, shop):
    assert found(ctx, shop, "marc@") == ["marc@example.com"]
    assert found(ctx, shop, "an") == ["ana@example.com"]


def test_search_by_shopify_id_gid_and_order_number(people, ctx, shop):
    assert found(ctx, shop, "22") == ["marc@example.com"]
    assert found(ctx, shop, "gid://shopify/Customer/23") == ["zoe@example.com"]
    assert found(ctx, shop, "#5001") == ["ana@example.com"]
    assert found(ctx, shop, "5001") == ["ana@example.com"]
    assert found(ctx, shop, "#9999") == []


def test_search_pages_and_says_whether_more_follow(people, ctx, shop):
    with ctx.engine.connect() as conn:
        first, more = search_customers(conn, shop, "ma", page=1, per_page=2)
        second, after = search_customers(conn, shop, "ma", page=2, per_page=2)
    assert len(first) == 2 and more and len(second) == 1 and not after
    assert {r["email"] for r in first + second} == {"elodie@example.com", "marc@example.com", "zoe@example.com"}


def test_search_rows_carry_names_tags_and_balances(people, ctx, shop):
    with ctx.engine.connect() as conn:
        [ana], _ = search_customers(conn, shop, "ana")
    assert (ana["first_name"], ana["last_name"], ana["tags"]) == ("Ana", "Lopez", [])
    assert ana["pending"] > 0


def _plan(conn, sql: str, params: dict) -> str:
    """The database's plan for `sql`, as text."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET enable_seqscan = off"))  # tiny tables: ask whether the index CAN answer
        return "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql), params))
    return "\n".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql), params))


@pytest.mark.parametrize("column, index", [("name_key", "ix_customers_name_key"),
                                           ("surname_key", "ix_customers_surname_key"),
                                           ("email", "uq_customers_shop_email")])
def test_prefix_search_reads_an_index_range(ctx, shop, column, index):
    """`key >= p AND key < p || U+10FFFF` on (shop_id, key): an index range scan on both databases."""
    low, high = prefix_range("mar")
    with ctx.engine.connect() as conn:
        order = column if column == "email" else f"{column}, id"  # as customer_search orders (emails unique)
        plan = _plan(conn, f"SELECT id FROM customers WHERE shop_id = :s AND {column} >= :low AND {column} < :high "
                           f"ORDER BY {order} LIMIT 26", {"s": shop.id, "low": low, "high": high})
    if ctx.engine.dialect.name == "sqlite":  # the unique constraint's index is SQLite's autoindex
        assert f"(shop_id=? AND {column}>? AND {column}<?)" in plan and "SCAN" not in plan, plan
    else:
        assert f"Index Scan using {index}" in plan or f"Index Only Scan using {index}" in plan, plan
        assert "Sort" not in plan, plan  # read in key order from the index


def test_order_number_search_reads_an_index(ctx, shop):
    with ctx.engine.connect() as conn:
        plan = _plan(conn, "SELECT customer_id FROM orders WHERE shop_id = :s AND name IN ('#1', '1')", {"s": shop.id})
    assert "ix_orders_shop_name" in plan, plan
