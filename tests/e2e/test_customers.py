"""Customers are matched by Shopify id and by email: orders placed before an account count once linked."""
from __future__ import annotations

from sqlalchemy import func, select

from db.tables import customers
from tests.factories import customer, order


def test_guest_orders_count_for_the_account_created_later(send, process, summary, ctx):
    """Orders placed with an email before the programme/account exist count once the account appears."""
    send("orders/paid", order(lines=((30, 1),), email="Claire@Example.com "))
    send("orders/paid", order(lines=((20, 1),), email="claire@example.com"))
    process()
    send("customers/create", customer(501, "claire@example.com"))
    send("orders/paid", order(lines=((10, 1),), email="claire@example.com", customer_id=501))
    process()
    by_id = summary("501")
    assert by_id["lifetime"] == 60
    assert by_id["customer"] == {"shopify_customer_id": 501, "email": "claire@example.com"}
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar() == 1


def test_email_change_merges_the_guest_record(send, process, summary, ctx):
    """An account changes its email to one that has guest orders: the two records become one."""
    send("orders/paid", order(lines=((40, 1),), email="old@example.com", customer_id=777))
    send("orders/paid", order(lines=((15, 1),), email="new@example.com"))
    process()
    send("customers/update", customer(777, "new@example.com"))
    process()
    assert summary("777")["lifetime"] == 55
    assert summary("new@example.com")["customer"]["shopify_customer_id"] == 777
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar() == 1


def test_an_email_owned_by_another_account_is_not_merged(send, process, summary):
    """Two accounts never merge: the email moves, each keeps its own points."""
    send("orders/paid", order(lines=((40, 1),), email="shared@example.com", customer_id=1))
    send("orders/paid", order(lines=((15, 1),), email="other@example.com", customer_id=2))
    process()
    send("customers/update", customer(2, "shared@example.com"))
    process()
    assert summary("1")["lifetime"] == 40
    assert summary("2")["lifetime"] == 15
    assert summary("shared@example.com")["customer"]["shopify_customer_id"] == 2


def test_customer_webhook_before_any_order(send, process, summary):
    """customers/create first, then an order by email only: credited to that customer."""
    send("customers/create", customer(9, "first@example.com"))
    process()
    send("orders/paid", order(lines=((12, 1),), email="FIRST@example.com"))
    process()
    assert summary("9")["lifetime"] == 12


def test_an_older_customer_update_delivered_late_does_not_undo_a_newer_one(send, process, summary):
    """Shopify does not deliver in order: the update of 10:00 arriving after the one of 11:00 must not put
    the old email back, or later guest orders with the new email would miss the account."""
    from tests.factories import customer

    send("customers/update", {**customer(88, "new@example.com"), "updated_at": "2025-03-01T11:00:00Z"})
    process()
    send("customers/update", {**customer(88, "old@example.com"), "updated_at": "2025-03-01T10:00:00Z"})
    process()
    send("orders/paid", order(lines=((10, 1),), email="new@example.com"))
    process()
    record = summary("88")
    assert record["customer"]["email"] == "new@example.com" and record["lifetime"] == 10
    send("customers/update", {**customer(88, "newest@example.com"), "updated_at": "2025-03-01T12:00:00Z"})
    process()
    assert summary("88")["customer"]["email"] == "newest@example.com"
