"""Store B (../shared/seeds/store-b-loyalty-en.txt), run end to end from its template: every rule of the
seed is a test named after it (the voucher terms are checked in Shopify's terms, against the emulator)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests import redemptions as voucher_jobs
from jobs.scheduled import expire_points, mature_points
from loyalty.domain.programme import template
from loyalty.services.vouchers import VoucherRefused
from tests.factories import order

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def store_b(ctx, shop):
    from loyalty.services.shops import save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-b"), at("2024-01-01T00:00:00"))


@pytest.fixture
def emulator(emulator, shop):
    emulator.add_customer(shop.domain, 401, "lea@example.com")
    return emulator


@pytest.fixture
def lea(send, process, ctx):
    """A customer (Shopify id 401) with 300 available points."""
    send("orders/paid", order(lines=((300, 1),), email="lea@example.com", customer_id=401,
                              processed_at="2025-05-01T00:00:00+00:00", shipping=0))
    process()
    mature_points(NOW, ctx)
    return "lea@example.com"


def test_points_are_converted_into_a_voucher_from_the_account(ctx, shop, lea, factory, emulator, summary):
    """« To convert your points into savings, simply click on your account page »: any number of points
    (from the template's minimum of 100) becomes a code for that customer."""
    voucher = voucher_jobs.redeem(ctx, shop.domain, lea, 120, "b1", now=NOW, client_factory=factory)
    [code] = emulator.discount_codes(shop.domain)
    assert code["code"] == voucher.code and code["customer_ids"] == [401] and Decimal(code["amount"]) == 12
    assert summary(lea)["available"] == 180
    assert summary(lea)["standing"]["conversion"] == {"minimum_points": 100, "value_per_point": "0.1"}


def test_points_are_valid_one_year_after_the_last_purchase(send, process, summary, ctx):
    """« Loyalty points are valid for one year after your last purchase »."""
    send("orders/paid", order(lines=((80, 1),), processed_at="2024-03-01T10:00:00Z"))
    process()
    mature_points(at("2024-04-01T00:00:00"), ctx)
    expire_points(at("2025-02-28T00:00:00"), ctx)
    assert summary("alice@example.com")["available"] == 80
    expire_points(at("2025-03-02T00:00:00"), ctx)
    assert summary("alice@example.com")["available"] == 0


def test_any_purchase_extends_the_validity_of_all_points(send, process, summary, ctx):
    """« If you make any kind of purchase, the validity of all your loyalty points is extended »."""
    send("orders/paid", order(lines=((80, 1),), processed_at="2024-03-01T10:00:00Z"))
    send("orders/paid", order(lines=((5, 1),), processed_at="2025-02-15T10:00:00Z"))
    process()
    mature_points(at("2025-03-02T00:00:00"), ctx)
    expire_points(at("2025-03-02T00:00:00"), ctx)
    assert summary("alice@example.com")["available"] == 85
    expire_points(at("2026-02-16T00:00:00"), ctx)
    assert summary("alice@example.com")["available"] == 0


def test_a_voucher_is_valid_one_month(ctx, shop, lea, factory, emulator):
    """« If you create a voucher from your loyalty points, it will be valid for one month »."""
    voucher_jobs.redeem(ctx, shop.domain, lea, 100, "b2", now=NOW, client_factory=factory)
    [code] = emulator.discount_codes(shop.domain)
    assert code["ends_at"].startswith((NOW + timedelta(days=30)).date().isoformat())


def test_a_voucher_needs_a_100_eur_basket(ctx, shop, lea, factory, emulator):
    """« Vouchers can be used from a minimum of €100.00 »."""
    voucher_jobs.redeem(ctx, shop.domain, lea, 100, "b3", now=NOW, client_factory=factory)
    [code] = emulator.discount_codes(shop.domain)
    assert Decimal(code["minimum_subtotal"]) == 100


def test_a_voucher_applies_only_to_non_discounted_products(ctx, shop, lea, factory, emulator):
    """« excluding discounted products (sales, promotions or outlet) »: the code applies only to the
    merchant's full-price collection (voucher_collection_id)."""
    voucher_jobs.redeem(ctx, shop.domain, lea, 100, "b4", now=NOW, client_factory=factory)
    [code] = emulator.discount_codes(shop.domain)
    assert code["collection_ids"] == [template("store-b").voucher_collection_id]


def test_only_one_code_per_order(ctx, shop, lea, factory, emulator):
    """« it is not possible to use more than one coupon per transaction »: the code combines with no other
    discount and can be used once."""
    voucher_jobs.redeem(ctx, shop.domain, lea, 100, "b5", now=NOW, client_factory=factory)
    [code] = emulator.discount_codes(shop.domain)
    assert code["combines_with"] == {"orderDiscounts": False, "productDiscounts": False,
                                     "shippingDiscounts": False}
    assert code["usage_limit"] == 1


def test_cancelling_a_voucher_re_credits_its_points(ctx, shop, lea, factory, emulator, summary):
    """« contact our customer service so that we can cancel the voucher and re-credit your loyalty points »."""
    voucher = voucher_jobs.redeem(ctx, shop.domain, lea, 200, "b6", now=NOW, client_factory=factory)
    assert summary(lea)["available"] == 100
    voucher_jobs.cancel(ctx, shop.domain, voucher.code, client_factory=factory)
    assert summary(lea)["available"] == 300
    assert emulator.discount_codes(shop.domain)[0]["deactivated"]
    voucher_jobs.cancel(ctx, shop.domain, voucher.code, client_factory=factory)  # twice: credited once
    assert summary(lea)["available"] == 300


def test_a_used_voucher_can_no_longer_be_cancelled(send, process, ctx, shop, lea, factory, summary):
    """A voucher named in an order's discount codes is used: cancelling it would credit points twice."""
    voucher = voucher_jobs.redeem(ctx, shop.domain, lea, 100, "b7", now=NOW, client_factory=factory)
    body = order(lines=((150, 1),), email=lea, customer_id=401, processed_at="2025-06-02T10:00:00Z")
    body["discount_codes"] = [{"code": voucher.code, "amount": "10.00", "type": "fixed_amount"}]
    send("orders/paid", body)
    process()
    with pytest.raises(VoucherRefused, match="used"):
        voucher_jobs.cancel(ctx, shop.domain, voucher.code, client_factory=factory)
