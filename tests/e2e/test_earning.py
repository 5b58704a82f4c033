"""Earning on orders/paid: the earning base, gift cards and store credit, exclusions, POS, pending."""
from __future__ import annotations

import json
from decimal import Decimal

import responses

from tests.factories import order
from tests.conftest import SHOP
from tests.samples import sample

GRAPHQL = "https://store-a.myshopify.com/admin/api/2025-10/graphql.json"


def transactions_response(order_id, *transactions):
    """The Admin GraphQL answer to OrdersTransactions for one order (the worker asks for a batch's orders
    together, with nodes(ids:))."""
    return {"data": {"nodes": [{"id": f"gid://shopify/Order/{order_id}", "transactions": [
        {"gateway": g, "kind": k, "status": s, "amountSet": {"shopMoney": {"amount": a, "currencyCode": "EUR"}}}
        for g, k, s, a in transactions]}]},
        "extensions": {"cost": {"requestedQueryCost": 3, "actualQueryCost": 3, "throttleStatus": {
            "maximumAvailable": 2000.0, "currentlyAvailable": 1997, "restoreRate": 100.0}}}}


def test_sample_order_earns_on_merchandise_net_of_discounts(send, process, summary):
    """The richest sample: 3 x 199.00 - 10.00 of discounts = 587 points; shipping and tax lines do not earn."""
    body = sample("order_single_richest.json", SHOP)
    body["payment_gateway_names"] = ["bogus"]
    assert send("orders/paid", body).status_code == 200
    assert process() == 1
    customer = summary(body["email"])
    assert (customer["available"], customer["pending"], customer["lifetime"]) == (0, 587, 587)
    assert [e["kind"] for e in customer["entries"]] == ["earn"]


@responses.activate
def test_gift_card_paid_amount_earns_nothing(send, process, summary):
    """Sample order paid partly by gift card: the gift-card amount, read from the order's transactions,
    is subtracted from the earning base (587 - 100 = 487 points)."""
    body = sample("order_with_gift_card_payment.json", SHOP)
    assert "gift_card" in body["payment_gateway_names"]
    responses.post(GRAPHQL, json=transactions_response(
        body["id"], ("gift_card", "SALE", "SUCCESS", "100.00"), ("bogus", "SALE", "SUCCESS", "498.94"),
        ("gift_card", "SALE", "FAILURE", "50.00")))
    send("orders/paid", body)
    assert process() == 1
    assert summary(body["email"])["pending"] == 487
    sent = json.loads(responses.calls[0].request.body)
    assert sent["variables"] == {"ids": [f"gid://shopify/Order/{body['id']}"]}
    assert responses.calls[0].request.headers["X-Shopify-Access-Token"] == "shpat_store_a"


@responses.activate
def test_store_credit_paid_amount_earns_nothing(send, process, summary):
    """Store credit is a non-earning payment like a gift card."""
    body = order(lines=((80, 1),), gateways=("shopify_store_credit", "shopify_payments"))
    responses.post(GRAPHQL, json=transactions_response(
        body["id"], ("shopify_store_credit", "SALE", "SUCCESS", "30.00"),
        ("shopify_payments", "AUTHORIZATION", "SUCCESS", "55.00"), ("shopify_payments", "CAPTURE", "SUCCESS", "55.00")))
    send("orders/paid", body)
    process()
    assert summary("alice@example.com")["pending"] == 50


@responses.activate
def test_a_batch_reads_its_gift_card_orders_transactions_in_one_request(send, process, summary):
    """Three orders paid partly by gift card, applied in one batch: their transactions come in one
    OrdersTransactions request (not one per order), and each order earns on its own non-gift-card part."""
    bodies = [order(lines=((50 + 10 * i, 1),), email=f"c{i}@example.com", gateways=("gift_card", "bogus"))
              for i in range(3)]
    paid_by_card = {str(b["id"]): f"{10 * (i + 1)}.00" for i, b in enumerate(bodies)}

    def answer(request):
        ids = json.loads(request.body)["variables"]["ids"]
        return 200, {}, json.dumps(transactions_response(0) | {"data": {"nodes": [
            transactions_response(gid.rsplit("/", 1)[1], ("gift_card", "SALE", "SUCCESS",
                                                          paid_by_card[gid.rsplit("/", 1)[1]]))["data"]["nodes"][0]
            for gid in ids]}})

    responses.add_callback(responses.POST, GRAPHQL, callback=answer)
    for body in bodies:
        send("orders/paid", body)
    assert process() == 3
    assert len(responses.calls) == 1
    assert [summary(f"c{i}@example.com")["pending"] for i in range(3)] == [40, 40, 40]


@responses.activate
def test_a_payment_delivered_again_costs_no_second_look_up(send, process, summary):
    """The same orders/paid recorded twice (Shopify retries with a new webhook id): the second is a
    repeat of a recorded payment, so its transactions are not asked for again, and nothing is credited twice."""
    body = order(lines=((80, 1),), gateways=("gift_card", "bogus"))
    responses.post(GRAPHQL, json=transactions_response(body["id"], ("gift_card", "SALE", "SUCCESS", "30.00")))
    send("orders/paid", body)
    assert process() == 1
    send("orders/paid", body, webhook_id="another-delivery")
    assert process() == 1
    assert len(responses.calls) == 1
    assert summary("alice@example.com")["pending"] == 50


def test_no_transactions_fetched_without_a_gift_card(send, process, summary):
    """Orders paid without gift card or store credit cost no call to Shopify (responses would fail it)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        send("orders/paid", order(lines=((19.99, 2),)))
        process()
        assert len(mock.calls) == 0
    assert summary("alice@example.com")["pending"] == 39


@responses.activate
def test_shopify_unavailable_leaves_the_event_waiting_with_its_reason(send, process, ctx):
    """If the transactions cannot be fetched the event is not lost: it waits for a retry, reason recorded."""
    from sqlalchemy import select

    from db.tables import webhook_inbox

    responses.post(GRAPHQL, status=503)
    body = order(gateways=("gift_card",))
    send("orders/paid", body)
    from integrations.shopify import client as client_module
    original = client_module.AdminClient.__init__

    def fast(self, *a, **kw):
        kw["sleep"] = lambda s: None
        original(self, *a, **kw)
    client_module.AdminClient.__init__ = fast
    try:
        assert process() == 0
    finally:
        client_module.AdminClient.__init__ = original
    with ctx.engine.connect() as conn:
        row = conn.execute(select(webhook_inbox)).one()
    assert row.processed_at is None and row.failed_at is None and row.attempts == 1
    assert "fetching transactions" in row.last_error


def test_shopify_test_notification_earns_nothing(send, process, ctx):
    """Shopify's 'send test notification' body (test: true) is recorded but credits no one."""
    from sqlalchemy import func, select

    from db.tables import ledger_entries, orders

    body = sample("webhook_orders_create_shopify_test_notification_2024-06-26.json", SHOP)
    assert body["test"] is True
    assert send("orders/paid", body).status_code == 200
    assert process() == 1
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger_entries)).scalar() == 0
        assert conn.execute(select(orders.c.excluded_reason)).scalar() == "test order"


def test_pos_orders_earn_like_online_orders(send, process, summary):
    """In-store (source_name pos) and online orders earn alike: 1 point per euro."""
    send("orders/paid", order(lines=((42.50, 1),), source_name="pos"))
    send("orders/paid", order(lines=((42.50, 1),), source_name="web"))
    process()
    assert summary("alice@example.com")["pending"] == 84


def test_partner_reseller_orders_earn_nothing(send, process, summary, ctx, shop):
    """Orders from excluded channels, customer tags or B2B companies earn nothing (configurable)."""
    from datetime import datetime, timezone

    from loyalty.services.shops import programme, save_programme

    with ctx.engine.begin() as conn:
        prog = programme(conn, shop.id, shop.settings_version).with_changes(
            excluded_source_names=["partner-reseller"], excluded_customer_tags=["Revendeur"], exclude_b2b=True)
        save_programme(conn, shop, prog, datetime.now(timezone.utc))
    send("orders/paid", order(email="a@example.com", source_name="partner-reseller"))
    send("orders/paid", order(email="b@example.com", customer_id=11, tags="VIP, revendeur"))
    send("orders/paid", order(email="c@example.com", company={"id": 5, "location_id": 6}))
    send("orders/paid", order(email="d@example.com"))
    process()
    assert [summary(e)["lifetime"] for e in ("a@example.com", "b@example.com", "c@example.com",
                                             "d@example.com")] == [0, 0, 0, 50]


def test_order_without_customer_or_email_earns_nothing(send, process, ctx):
    """Nobody to credit: the order is kept with its reason, no entry."""
    from sqlalchemy import select

    from db.tables import orders

    body = order(email=None)
    body["contact_email"] = None
    send("orders/paid", body)
    assert process() == 1
    with ctx.engine.connect() as conn:
        assert conn.execute(select(orders.c.excluded_reason)).scalar() == "no customer and no email"


def test_points_are_floored_and_rate_is_a_setting(send, process, summary, ctx, shop):
    """floor(base x rate): 33.99 EUR at 1.5 points per euro gives 50 points."""
    from datetime import datetime, timezone

    from loyalty.services.shops import programme, save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, programme(conn, shop.id, 1).with_changes(earn_rate="1.5"),
                       datetime.now(timezone.utc))
    send("orders/paid", order(lines=((33.99, 1),)))
    process()
    assert summary("alice@example.com")["pending"] == 50


def test_earned_points_are_pending_for_14_days(send, process, summary):
    """New points wait 14 days after the order was processed (the return window)."""
    send("orders/paid", order(processed_at="2025-03-01T10:00:00+01:00"))
    process()
    entry = summary("alice@example.com")["entries"][0]
    assert entry["pending_until"] == "2025-03-15T09:00:00+00:00"
    assert Decimal(entry["points"]) == 50


@responses.activate
def test_a_refused_token_is_refreshed_once_and_the_call_repeated(send, process, summary, ctx, shop):
    """Shopify answers 401 (the expiring token was revoked early): the worker refreshes it (the refresh
    token rotates) and repeats the transactions query; the order earns as usual."""
    from datetime import datetime, timezone

    from integrations.shopify.oauth import TokenGrant
    from loyalty.services.tokens import store_grant

    with ctx.engine.begin() as conn:
        store_grant(conn, shop.domain, TokenGrant("shpat_old", expires_in=3600, refresh_token="shprt_1",
                                                  refresh_token_expires_in=86400),
                    ctx.config.encryption_keys, datetime.now(timezone.utc))
    body = order(lines=((60, 1),), gateways=("gift_card",))
    responses.post(GRAPHQL, status=401, json={"errors": "[API] Invalid API key or access token"},
                   match=[responses.matchers.header_matcher({"X-Shopify-Access-Token": "shpat_old"})])
    refresh = responses.post("https://store-a.myshopify.com/admin/oauth/access_token", json={
        "access_token": "shpat_new", "expires_in": 3600, "refresh_token": "shprt_2",
        "refresh_token_expires_in": 86400, "scope": "read_orders"})
    responses.post(GRAPHQL, json=transactions_response(body["id"], ("gift_card", "SALE", "SUCCESS", "20.00")),
                   match=[responses.matchers.header_matcher({"X-Shopify-Access-Token": "shpat_new"})])
    send("orders/paid", body)
    assert process() == 1
    assert refresh.call_count == 1
    assert summary("alice@example.com")["pending"] == 40
