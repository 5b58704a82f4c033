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
from loyalty.services import collections
from loyalty.services.shops import get_shop, install_shop, programme, save_programme
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


CAMPAIGNS = [
    {"key": "double", "title": "Double points", "kind": "multiplier", "factor": "2",
     "starts_at": "2025-03-01T00:00:00Z", "ends_at": "2025-03-02T00:00:00Z"},
    {"key": "x3-collection", "title": "x3 on a collection", "kind": "multiplier", "factor": "3", "collection_id": 88,
     "starts_at": "2025-03-01T00:00:00Z", "ends_at": "2025-03-02T00:00:00Z"},
    {"key": "over-30", "title": "+50 over 30 EUR", "kind": "bonus", "bonus": 50, "minimum_amount": "30",
     "starts_at": "2025-03-01T00:00:00Z", "ends_at": "2025-03-02T00:00:00Z"},
]
"""Campaigns over the deliveries' paid time (2025-03-01); the products of even orders are in collection 88."""


def with_products(batches: list) -> list:
    """The deliveries with a product on each order line: order N sells product N."""
    return [[(topic, {**body, "line_items": [{**item, "product_id": body["id"]} for item in body["line_items"]]})
             if topic == "orders/paid" else (topic, body) for topic, body in batch] for batch in batches]


def run(request, database_url, redis_url, sqlite_template, tmp_path, set_based: bool, monkeypatch,
        campaigns: bool = False) -> tuple:
    """Deliver every batch into a fresh installation and process it; returns (rows applied set-based, state).
    `campaigns`: the shop runs CAMPAIGNS."""
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
            if campaigns:
                ref = get_shop(conn, SHOP)
                save_programme(conn, ref, programme(conn, ref.id, 1).with_changes(campaigns=CAMPAIGNS), CREATED)
                collections.replace_members(conn, ref.id, 88, range(100, 400, 2), CREATED)
        send = Sender(create_app(ctx).test_client())
        for batch in (with_products(deliveries()) if campaigns else deliveries()):
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
                              r.paid_at, r.excluded_reason, r.award, r.campaigns, r.pending_until, r.settings_version)
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


def test_new_orders_under_campaigns_written_set_based_are_what_the_per_event_path_writes(
        request, database_url, redis_url, sqlite_template, tmp_path, monkeypatch):
    """The same deliveries under campaigns (a multiplier, one on a collection, a bonus with a minimum): the
    same awards, campaigns recorded and entries both ways; the collection's products are read once per
    batch (by new_orders, or without it by known_orders, which then takes the payments), never per event."""
    reads, original = [], collections.members
    monkeypatch.setattr(collections, "members", lambda *args: reads.append(1) or original(*args))
    applied, together = run(request, database_url, redis_url, sqlite_template, tmp_path / "a", True, monkeypatch, True)
    set_based_reads = len(reads)
    none, one_by_one = run(request, database_url, redis_url, sqlite_template, tmp_path / "b", False, monkeypatch, True)
    assert (applied, none) == (14, 0)
    assert (set_based_reads, len(reads) - set_based_reads) == (2, 2)  # two batches, 14 payments
    assert together == one_by_one
    awards = {o[0]: (o[7], o[8]) for o in together["orders"]}
    # 100 (product 100 in the collection): 20 x3 = 60, no bonus under 30; 101 (not in it): 21 x2 = 42
    assert awards[100] == (60, '[["x3-collection", 40]]')
    assert awards[101] == (42, '[["double", 21]]')
    # 200 (66 EUR, product 200 in the collection): 66 x3 = 198, +50
    assert awards[200] == (248, '[["x3-collection", 132], ["over-30", 50]]')
    assert awards[202] == (0, None)  # a test order: no campaign
    reason = next(e[6] for e in together["entries"] if e[0].endswith(":order:200:earn"))
    assert reason == "order #200: 248 points incl. campaigns x3-collection +132, over-30 +50 (pending until 2025-03-15)"


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
