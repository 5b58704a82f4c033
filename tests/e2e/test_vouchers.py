"""Vouchers: points redeemed into single-use, customer-bound discount codes; cancelled ones credited back.
Driven against the local Shopify emulator through the app's real AdminClient (no network)."""
from __future__ import annotations

import threading
from decimal import Decimal
from datetime import datetime, timedelta, timezone

import pytest
import responses

from integrations.shopify.client import AdminClient
from tools.shopify_emulator import Emulator
from tests import redemptions as voucher_jobs
from jobs.scheduled import mature_points
from loyalty.services.vouchers import VoucherRefused
from tests.factories import order
from tools.wsgi_adapter import wsgi_session

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def emulator(emulator, shop):
    emulator.add_customer(shop.domain, 301, "vera@example.com")
    return emulator


@pytest.fixture
def vera(send, process, ctx, shop):
    """A customer with 200 available points; store B's voucher terms (100 EUR basket, 1 month)."""
    from loyalty.services.shops import programme, save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, programme(conn, shop.id, 1).with_changes(
            voucher_value_per_point="0.05", voucher_minimum_subtotal="100", voucher_validity_days=30), NOW)
    send("orders/paid", order(lines=((200, 1),), email="vera@example.com", customer_id=301,
                              processed_at="2025-05-01T00:00:00+00:00"))
    process()
    mature_points(NOW, ctx)
    return "vera@example.com"


def test_redeeming_creates_a_single_use_code_for_that_customer(ctx, shop, vera, factory, emulator, summary):
    """150 points -> a 7.50 code: this customer only, one use, 100 minimum, one month, combines with nothing."""
    voucher = voucher_jobs.redeem(ctx, shop.domain, vera, 150, "req-1", now=NOW, client_factory=factory)
    assert voucher.status == "active" and voucher.amount == Decimal("7.50")
    [code] = emulator.discount_codes(shop.domain)
    assert code["code"] == voucher.code
    assert code["customer_ids"] == [301]
    assert code["usage_limit"] == 1 and float(code["minimum_subtotal"]) == 100
    assert not any(code["combines_with"].values())
    assert code["ends_at"].startswith((NOW + timedelta(days=30)).date().isoformat())
    assert summary(vera)["available"] == 50


def test_a_retried_redemption_never_makes_two_codes_or_spends_twice(ctx, shop, vera, factory, emulator, summary):
    """The job died after Shopify made the code: the retry adopts that code; points spent once."""
    from integrations.shopify import discounts
    from loyalty.services.customers import find_customer
    from loyalty.services.vouchers import reserve

    with ctx.engine.begin() as conn:
        row = reserve(conn, shop, find_customer(conn, shop.id, vera).id, 100, "req-2", NOW)
        client = factory(ctx, shop, conn)
    discounts.create_code(client, discounts.CodeTerms(code=row.code, title="t", amount=row.amount, customer_id=301,
                                                      starts_at=NOW, ends_at=row.ends_at))
    for _ in range(3):
        voucher = voucher_jobs.redeem(ctx, shop.domain, vera, 100, "req-2", now=NOW, client_factory=factory)
    assert voucher.status == "active"
    assert len(emulator.discount_codes(shop.domain)) == 1
    assert summary(vera)["available"] == 100


def test_not_enough_points_is_refused_and_spends_nothing(ctx, shop, vera, factory, emulator, summary):
    """Asking for more than the available balance fails clearly; no code, no entry."""
    with pytest.raises(VoucherRefused, match="not enough points: 200 available, 500 asked"):
        voucher_jobs.redeem(ctx, shop.domain, vera, 500, "req-3", now=NOW, client_factory=factory)
    assert emulator.discount_codes(shop.domain) == []
    assert summary(vera)["available"] == 200


@responses.activate
def test_a_code_shopify_refuses_gives_the_points_back_and_says_why(ctx, shop, vera, summary):
    """userErrors from discountCodeBasicCreate: the voucher is marked refused with Shopify's reason."""
    url = "https://store-a.myshopify.com/admin/api/2025-10/graphql.json"
    responses.post(url, json={"data": {"discountCodeBasicCreate": {"codeDiscountNode": None, "userErrors": [
        {"field": ["basicCodeDiscount", "endsAt"], "message": "Ends at must be after starts at", "code": "INVALID"}]}}})
    responses.post(url, json={"data": {"codeDiscountNodeByCode": None}})
    voucher = voucher_jobs.redeem(ctx, shop.domain, vera, 100, "req-4", now=NOW)
    assert voucher.status == "refused" and "Ends at must be after starts at" in voucher.reason
    s = summary(vera)
    assert s["available"] == 200
    assert [e["kind"] for e in s["entries"]][-2:] == ["redeem", "recredit"]


def test_cancelling_deactivates_the_code_and_credits_back_once(ctx, shop, vera, factory, emulator, summary):
    """Cancel (support, or a mistaken conversion): code deactivated in Shopify, points back, only once."""
    voucher = voucher_jobs.redeem(ctx, shop.domain, vera, 200, "req-5", now=NOW, client_factory=factory)
    assert summary(vera)["available"] == 0
    for _ in range(2):
        cancelled = voucher_jobs.cancel(ctx, shop.domain, voucher.code, now=NOW, client_factory=factory)
    assert cancelled.status == "cancelled"
    assert emulator.discount_codes(shop.domain)[0]["deactivated"] is True
    assert summary(vera)["available"] == 200


def test_a_cancelled_voucher_is_told_to_the_customer_with_the_points_back(ctx, shop, vera, factory, summary,
                                                                         mail_server):
    """Customer service cancels a 200-point voucher: one `voucher_cancelled` email (however often it is
    cancelled) naming the code and the 200 points back, with the balance after the re-credit, sent over SMTP."""
    from dataclasses import replace
    from sqlalchemy import select
    from db.tables import notifications
    from jobs.notify import send_notifications

    voucher = voucher_jobs.redeem(ctx, shop.domain, vera, 200, "req-mail", now=NOW, client_factory=factory)
    for _ in range(2):
        voucher_jobs.cancel(ctx, shop.domain, voucher.code, now=NOW, client_factory=factory)
    with ctx.engine.connect() as conn:
        [row] = conn.execute(select(notifications).where(notifications.c.kind == "voucher_cancelled")).all()
    assert row.to_address == "vera@example.com" and voucher.code in row.subject
    assert summary(vera)["available"] == 200
    assert "200 points" in row.body_text and ("200 points available" in row.body_text
                                              or "200 points disponibles" in row.body_text)
    send_notifications(replace(ctx, config=replace(ctx.config, smtp_url=mail_server.url)), now=NOW)
    assert [m["To"] for m in mail_server.received if m["Subject"] == row.subject] == ["vera@example.com"]


def test_two_workers_redeeming_at_once_cannot_spend_the_same_points(ctx, shop, vera, factory, emulator, summary):
    """Two simultaneous redemptions of all 200 points: exactly one succeeds."""
    outcomes, barrier = [], threading.Barrier(2)

    def attempt(key):
        barrier.wait()
        try:
            outcomes.append(voucher_jobs.redeem(ctx, shop.domain, vera, 200, key, now=NOW,
                                                client_factory=factory).status)
        except VoucherRefused:
            outcomes.append("refused")
        except Exception as exc:  # noqa: BLE001 - a lock timeout also means "not spent"
            outcomes.append(type(exc).__name__)
    threads = [threading.Thread(target=attempt, args=(k,)) for k in ("a", "b")]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert outcomes.count("active") == 1, outcomes
    assert len(emulator.discount_codes(shop.domain)) == 1
    assert summary(vera)["available"] == 0


def test_a_voucher_used_on_an_order_is_marked_used_and_cannot_be_cancelled(
        ctx, shop, vera, factory, send, process, summary):
    """The order's discount_codes name the voucher: it is used; cancelling it then refunds nothing."""
    voucher = voucher_jobs.redeem(ctx, shop.domain, vera, 100, "req-6", now=NOW, client_factory=factory)
    body = order(lines=((120, 1),), email="vera@example.com", customer_id=301)
    body["discount_codes"] = [{"code": voucher.code.lower(), "amount": "5.00", "type": "fixed_amount"}]
    send("orders/paid", body)
    process()
    with ctx.engine.connect() as conn:
        from loyalty.services.vouchers import find
        assert find(conn, shop, voucher.code).status == "used"
    with pytest.raises(VoucherRefused, match="is used"):
        voucher_jobs.cancel(ctx, shop.domain, voucher.code, now=NOW, client_factory=factory)
    assert summary(vera)["available"] == 100


@pytest.mark.parametrize("returns_points, expected_available", [(False, 100), (True, 200)])
def test_an_unused_voucher_expires_per_the_shop_setting(ctx, shop, vera, factory, summary,
                                                        returns_points, expected_available):
    """After its end date an unused voucher expires: its points are lost, or returned if the shop says so."""
    from jobs.scheduled import expire_vouchers
    from loyalty.services.shops import get_shop, programme, save_programme

    with ctx.engine.begin() as conn:
        current = get_shop(conn, shop.domain)
        save_programme(conn, current, programme(conn, current.id, current.settings_version).with_changes(
            voucher_expiry_returns_points=returns_points), NOW)
    voucher = voucher_jobs.redeem(ctx, shop.domain, vera, 100, "req-7", now=NOW, client_factory=factory)
    assert expire_vouchers(voucher.ends_at - timedelta(seconds=1), ctx) == 0
    assert expire_vouchers(voucher.ends_at, ctx) == 1
    assert expire_vouchers(voucher.ends_at + timedelta(days=1), ctx) == 0
    assert summary(vera)["available"] == expected_available


def test_a_burst_of_redemptions_never_fails_on_throttling(ctx, shop, send, process, redis_client):
    """40 redemptions from 4 workers against a small bucket (100 points, restoring 100/s; each code costs
    10): none fails, and the shared budget keeps the shop's bucket busy (most of the restore rate used)."""
    from integrations.shopify.throttle import RedisThrottle
    from loyalty.services.context import build_context

    workers_ctx = build_context(ctx.config, role="worker")  # workers wait for SQLite's lock, as in production

    em = Emulator(maximum_available=100, restore_rate=100)
    em.add_shop(shop.domain, "shpat_store_a")
    for i in range(40):
        em.add_customer(shop.domain, 7000 + i, f"b{i}@example.com")
        send("orders/paid", order(lines=((100, 1),), email=f"b{i}@example.com", customer_id=7000 + i,
                                  processed_at="2025-01-01T00:00:00+00:00"))
    process()
    mature_points(NOW, ctx)
    session = wsgi_session(em.app)

    def factory(ctx_, shop_, conn_):
        return AdminClient(shop_.domain, "shpat_store_a", session=session, throttle=RedisThrottle(redis_client),
                           admin_url_template="http://shopify.test/{shop}")
    failures = []

    def worker(indexes):
        for i in indexes:
            try:
                voucher = voucher_jobs.redeem(workers_ctx, shop.domain, f"b{i}@example.com", 100, f"burst-{i}",
                                              now=NOW, client_factory=factory)
                assert voucher.status == "active"
            except Exception as exc:  # noqa: BLE001 - collected and reported
                failures.append(repr(exc))
    threads = [threading.Thread(target=worker, args=(range(k, 40, 4),)) for k in range(4)]
    [t.start() for t in threads]
    [t.join(120) for t in threads]
    assert failures == []
    assert len(em.discount_codes(shop.domain)) == 40
    stats = em.stats(shop.domain)
    assert stats["utilisation"] >= 0.5, stats
    workers_ctx.engine.dispose()
