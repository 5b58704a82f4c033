"""Campaigns through the services, on SQLite and PostgreSQL: an order earns under the campaigns in force at
its paid time, records them, and its claw-backs keep to the award it earned whatever the programme says
later; collection campaigns match the products the refresh job read from Shopify; the history import
earns as the webhooks do."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from db.tables import collection_products, orders
from jobs.collections import refresh_collections
from jobs.history import import_history
from loyalty.domain.requests import ChangeProgramme
from loyalty.services.shops import programme, save_programme
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.programme import change_programme
from tests.conftest import SHOP
from tests.factories import cancelled, order, refund
from tests.integration.test_history_import import deliver, entries, fresh, history  # noqa: F401 - a fixture

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
WINDOW = {"starts_at": "2025-03-01T00:00:00+01:00", "ends_at": "2025-03-03T00:00:00+01:00"}
DOUBLE = {"key": "double", "title": "Double points", "kind": "multiplier", "factor": "2", **WINDOW}
BONUS = {"key": "over-100", "title": "+50 over 100 EUR", "kind": "bonus", "bonus": 50, "minimum_amount": "100",
         **WINDOW}
LINEN = {"key": "linen-x3", "title": "x3 on linen", "kind": "multiplier", "factor": "3", "collection_id": 4242,
         **WINDOW}


def run_campaigns(ctx, shop, *campaigns) -> None:
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, programme(conn, shop.id, shop.settings_version).with_changes(
            campaigns=list(campaigns)), NOW)


def order_row(ctx, order_id):
    with ctx.engine.connect() as conn:
        return conn.execute(select(orders).where(orders.c.shopify_order_id == order_id)).one()


def test_an_order_earns_under_the_campaigns_of_its_paid_time_and_names_them(ctx, shop, send, process, summary):
    run_campaigns(ctx, shop, DOUBLE, BONUS)
    inside = order(order_id=501, lines=((100, 1),), email="in@example.com", processed_at="2025-03-02T23:59:59+01:00")
    outside = order(order_id=502, lines=((100, 1),), email="out@example.com", processed_at="2025-03-03T00:00:00+01:00")
    send("orders/paid", inside)
    send("orders/paid", outside)
    process()
    assert summary("in@example.com")["pending"] == 250
    assert summary("out@example.com")["pending"] == 100
    assert json.loads(order_row(ctx, 501).campaigns) == [["double", 100], ["over-100", 50]]
    assert order_row(ctx, 502).campaigns is None
    earn = summary("in@example.com")["entries"][0]
    assert earn["reason"].startswith("order #501: 250 points incl. campaigns double +100, over-100 +50")


def test_a_claw_back_keeps_to_the_rule_the_order_earned_under_after_the_campaign_is_edited(
        ctx, shop, send, process, summary):
    """Paid in the campaign (100 EUR: x2 and +50 = 250); the campaign is then made x5 and the bonus removed:
    refunding half takes back half of the 250 the order earned (125), the cancellation the rest; today's
    programme (x5, or no campaign at all) never enters the claw-back."""
    run_campaigns(ctx, shop, DOUBLE, BONUS)
    body = order(order_id=601, lines=((50, 2),), email="claw@example.com", processed_at="2025-03-01T12:00:00+01:00")
    send("orders/paid", body)
    process()
    assert summary("claw@example.com")["pending"] == 250
    change_programme(ChangeProgramme(SHOP, {"campaigns.double.factor": "5", "campaigns.over-100": None}),
                     UnitOfWork(ctx, lambda: NOW))
    send("refunds/create", refund(body, lines={0: (1, 50)}))
    process()
    assert summary("claw@example.com")["pending"] == 125
    send("orders/cancelled", cancelled(body))
    process()
    kinds = [(e["kind"], e["pending"]) for e in summary("claw@example.com")["entries"]]
    assert sorted(kinds) == [("claw_back", -125), ("earn", 250), ("void", -125)]


def test_a_collection_campaign_uses_the_products_the_refresh_job_read(ctx, shop, send, process, summary, emulator,
                                                                       factory, redis_client):
    """Saving a programme whose campaign names a collection queues its refresh; the job keeps the products
    Shopify lists; an order's lines of those products are multiplied, the others not; a product taken out
    of the collection and a collection no campaign names any more are dropped at the next refresh."""
    change_programme(ChangeProgramme(SHOP, {"campaigns.linen-x3": json.dumps(LINEN)}), UnitOfWork(ctx, lambda: NOW))
    assert [(j.func_name, j.args) for j in ctx.queue.get_jobs()] == [("jobs.collections.refresh_collections", (SHOP,))]
    emulator.add_collection(SHOP, 4242, [7, 8])
    assert refresh_collections(SHOP, ctx=ctx, client_factory=factory, now=NOW) == {4242: 2}
    send("orders/paid", order(order_id=701, lines=((10, 2), (30, 1)), products=[7, 9], email="linen@example.com"))
    process()
    assert summary("linen@example.com")["pending"] == 20 * 3 + 30
    assert json.loads(order_row(ctx, 701).campaigns) == [["linen-x3", 40]]

    emulator.add_collection(SHOP, 4242, [8])
    refresh_collections(SHOP, ctx=ctx, client_factory=factory, now=NOW)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(collection_products.c.product_id)).scalars().all() == [8]
    change_programme(ChangeProgramme(SHOP, {"campaigns.linen-x3": None}), UnitOfWork(ctx, lambda: NOW))
    assert refresh_collections(SHOP, ctx=ctx, client_factory=factory, now=NOW) == {}
    with ctx.engine.connect() as conn:
        assert conn.execute(select(collection_products)).all() == []


def test_history_import_earns_under_campaigns_as_the_webhooks_do(ctx, shop, send, process, emulator, factory,
                                                                  tmp_path, fresh):  # noqa: F811
    """The same orders (in and out of the campaigns, one with a line of the collection, one refunded) give
    the same entries and the same campaigns on their rows by import (planned ahead, products known from
    the collection refresh) as by webhooks."""
    other, other_shop = fresh
    emulator.add_collection(SHOP, 4242, [7])
    for context, ref in ((ctx, shop), (other, other_shop)):
        run_campaigns(context, ref, DOUBLE, BONUS, LINEN)
        refresh_collections(SHOP, ctx=context, client_factory=factory, now=NOW)
    a = order(lines=((40, 1), (70, 1)), products=[7, 9], email="a@example.com", customer_id=11,
              processed_at="2025-03-01T10:00:00+01:00")
    b = order(lines=((60, 1),), products=[9], email="b@example.com", customer_id=12,
              processed_at="2025-03-02T10:00:00+01:00")
    c = order(lines=((80, 1),), products=[7], email="c@example.com", customer_id=13,
              processed_at="2025-03-05T10:00:00+01:00")
    refunds = [refund(a, lines={1: (1, 70)}, created_at="2025-03-04T10:00:00+01:00")]
    deliver(send, process, [a, b, c], refunds, [])
    path = tmp_path / "orders.jsonl"
    path.write_bytes(history(json.loads(json.dumps([a, b, c])), emulator, refunds))
    assert import_history(SHOP, file=str(path), ctx=other, client_factory=factory, now=NOW)["status"] == "completed"
    with ctx.engine.connect() as conn, other.engine.connect() as other_conn:
        by_webhook, by_import = ({r.shopify_order_id: (r.award, r.campaigns) for r in db.execute(select(orders))}
                                 for db in (conn, other_conn))
    assert by_import == by_webhook
    # a: 40 x3 + 70 x2 = 260, +50 (campaigns in the programme's order); b: 60 x2 = 120; c: after them
    assert by_webhook[a["id"]] == (310, '[["double", 70], ["over-100", 50], ["linen-x3", 80]]')
    assert by_webhook[b["id"]] == (120, '[["double", 60]]')
    assert by_webhook[c["id"]] == (80, None)
    assert [e for e in entries(other) if e[1] != "mature"] == [e for e in entries(ctx) if e[1] != "mature"]
