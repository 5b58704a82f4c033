"""The payments of orders new to the app are applied set-based by an inbox batch
(loyalty.services.new_orders): what they write must be exactly what the per-event path writes, and an
event that fails in such a batch must fail alone, the rest of the batch applied."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from db.tables import customer_sync, customers, ledger_entries as le, orders, vouchers, webhook_inbox as inbox
from integrations.crypto import encrypt_token
from jobs import inbox as inbox_job
from loyalty.services.context import build_context
from loyalty.services.shops import install_shop
from runtime.web import create_app
from tests.conftest import KEY, SHOP, Sender, make_config
from tests.factories import customer, order
from tests.faults import refuse_order
from tests.fixtures import _new_database

CREATED = datetime(2024, 1, 1, tzinfo=timezone.utc)


def deliveries() -> list[list[tuple[str, dict]]]:
    """Two batches: accounts (customers with several orders), guests, an order with nobody to credit, a
    test order, a payment delivered twice, an order using a voucher, a profile update; then an account
    meeting the email of a guest record (the records are linked) beside new orders."""
    first = [("orders/paid", order(order_id=100 + i, lines=((20 + i, 1),), email=f"a{i % 3}@example.com",
                                   customer_id=500 + i % 3)) for i in range(6)]
    first += [("orders/paid", order(order_id=200, lines=((33, 2),), email="guest@example.com")),
              ("orders/paid", order(order_id=201, lines=((40, 1),), email="")),
              ("orders/paid", order(order_id=202, lines=((50, 1),), email="test@example.com", test=True)),
              ("customers/update", customer(501, "a1@example.com")),
              ("orders/paid", order(order_id=203, lines=((70, 1),), email="twice@example.com")),
              ("orders/paid", order(order_id=203, lines=((70, 1),), email="twice@example.com")),
              ("orders/paid", {**order(order_id=204, lines=((90, 1),), email="a0@example.com", customer_id=500),
                               "discount_codes": [{"code": "loyal-1", "amount": "5.00", "type": "fixed_amount"}]})]
    second = [("orders/paid", order(order_id=300, lines=((15, 1),), email="guest@example.com", customer_id=900)),
              ("orders/paid", order(order_id=301, lines=((25, 1),), email="new@example.com", customer_id=901)),
              ("orders/paid", order(order_id=302, lines=((35, 1),), email="a2@example.com", customer_id=502))]
    return [first, second]


def run(request, database_url, redis_url, sqlite_template, tmp_path, set_based: bool, monkeypatch) -> tuple:
    """Deliver every batch into a fresh installation and process it; returns (rows applied set-based, state)."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    ctx = build_context(make_config(_new_database(backend, request, sqlite_template), redis_url, tmp_path))
    applied, original = [], inbox_job.events.record_new_orders_paid

    def spy(*args):
        done = original(*args) if set_based else set()
        applied.extend(done)
        return done
    monkeypatch.setattr(inbox_job.events, "record_new_orders_paid", spy)
    try:
        with ctx.engine.begin() as conn:
            install_shop(conn, SHOP, encrypt_token((KEY,), "t"), CREATED)
            conn.execute(vouchers.insert().values(shop_id=1, request_key="r1", code="LOYAL-1", points=100,
                                                  amount=5, ends_at=CREATED, status="active", created_at=CREATED))
        send = Sender(create_app(ctx).test_client())
        for batch in deliveries():
            for topic, body in batch:
                assert send(topic, body).status_code == 200
            inbox_job.process_inbox(ctx=ctx)
        return len(applied), state(ctx)
    finally:
        ctx.engine.dispose()


def state(ctx) -> dict:
    """Everything the orders wrote, with database ids replaced by what names them."""
    with ctx.engine.connect() as conn:
        who = {r.id: (r.shopify_customer_id, r.email) for r in conn.execute(select(customers))}
        order_of = {r.id: r.shopify_order_id for r in conn.execute(select(orders))}
        return {
            "customers": sorted(who.values(), key=repr),
            "orders": sorted((r.shopify_order_id, who.get(r.customer_id), r.name, r.merchandise, r.non_earning_paid,
                              r.paid_at, r.excluded_reason, r.award, r.pending_until, r.settings_version)
                             for r in conn.execute(select(orders))),
            "entries": sorted((r.idempotency_key, r.kind, who.get(r.customer_id), order_of.get(r.order_id), r.pending,
                               r.available, r.reason, r.effective_at, r.settings_version)
                              for r in conn.execute(select(le))),
            "queued for write-back": sorted((who[r.customer_id] for r in conn.execute(select(customer_sync))), key=repr),
            "vouchers": [(r.code, r.status, r.reason) for r in conn.execute(select(vouchers))],
            "inbox": sorted((r.topic, r.processed_at is not None, r.failed_at, r.attempts)
                            for r in conn.execute(select(inbox))),
        }


def test_new_orders_written_set_based_are_exactly_what_the_per_event_path_writes(
        request, database_url, redis_url, sqlite_template, tmp_path, monkeypatch):
    """The same deliveries, applied with the set-based path and without it: the same customers, orders,
    entries (keys, points, reasons), write-backs queued, vouchers used and inbox outcome."""
    applied, together = run(request, database_url, redis_url, sqlite_template, tmp_path / "a", True, monkeypatch)
    none, one_by_one = run(request, database_url, redis_url, sqlite_template, tmp_path / "b", False, monkeypatch)
    # set-based: the first batch's 11 orders (203's repeat goes event by event), the second's 3
    assert (applied, none) == (14, 0)
    assert together == one_by_one
    assert ("LOYAL-1", "used", "used on order #204") in together["vouchers"]
    assert len(together["entries"]) == 12  # 100-105, 200, 203, 204, 300-302: 201 has nobody, 202 is a test


def test_an_event_failing_in_a_set_based_batch_fails_alone(ctx, shop, send, summary):
    """A batch of new orders of which one cannot be written (its row is refused, by a trigger): the batch
    falls back to the per-event path, that event records its reason and waits for a retry, and every
    other order of the batch earns."""
    refuse_order(ctx, 13)
    for order_id in range(10, 16):
        send("orders/paid", order(order_id=order_id, lines=((order_id, 1),), email=f"o{order_id}@example.com"),
             webhook_id=f"w{order_id}")
    assert inbox_job.process_inbox(ctx=ctx) == 5
    for order_id in (10, 11, 12, 14, 15):
        assert summary(f"o{order_id}@example.com")["pending"] == order_id
    with ctx.engine.connect() as conn:
        failed = conn.execute(select(inbox).where(inbox.c.processed_at.is_(None))).one()
    assert failed.webhook_id == "w13" and "order 13 refused" in failed.last_error
    assert failed.attempts == 1 and failed.failed_at is None  # retried later, with backoff
