"""Store B's rules (/work/shared/seeds/store-b-loyalty-en.txt, the `store-b` template), one test each, on the
pure pieces: the conversion offer, the discount code Shopify is asked to create, the expiry arithmetic.
Each test names the rule it checks; tests/e2e/test_seed_store_b.py checks the same rules through the app."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from integrations.shopify.discounts import CodeTerms, basic_code_input
from loyalty.domain.errors import VoucherRefused
from loyalty.domain.maturity import expires_at
from loyalty.domain.offers import cancel_refusal, conversion_facts, conversion_offer, voucher_ends_at
from loyalty.domain.points import add_months
from loyalty.domain.programme import template

STORE_B = template("store-b")
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)


def code_input(points: int) -> dict:
    """The discountCodeBasicCreate input for a conversion of `points`, with the offer's terms as the
    redemption passes them on (loyalty.services.use_cases.vouchers)."""
    offer = conversion_offer(STORE_B, points)
    return basic_code_input(CodeTerms(
        code="LOY-TEST", title="Loyalty voucher", amount=offer.amount, customer_id=401, starts_at=NOW,
        ends_at=voucher_ends_at(offer, NOW), minimum_subtotal=offer.minimum_subtotal,
        collection_id=offer.collection_id, combines=offer.combines))


def test_store_b_rule_points_are_converted_into_a_voucher_at_ten_cents_a_point():
    """Store B rule « To convert your points into savings, simply click on your account page »: any number
    of points from 100 becomes a voucher worth 0.10 EUR a point, rounded down to the cent."""
    assert STORE_B.conversion_enabled
    assert conversion_offer(STORE_B, 300).amount == Decimal("30.00")
    assert conversion_offer(STORE_B, 155).amount == Decimal("15.50")
    assert conversion_offer(STORE_B, 300).points == 300


def test_store_b_rule_a_conversion_spends_at_least_100_points():
    """Store B rule « convert your points into savings »: the template's smallest conversion is 100 points
    (10 EUR); fewer are refused with a reason the storefront translates."""
    with pytest.raises(VoucherRefused) as refused:
        conversion_offer(STORE_B, 99)
    assert refused.value.reason == "below_minimum"
    assert conversion_facts(STORE_B, 99) is None
    assert conversion_facts(STORE_B, 250) == {"value": Decimal("25.00"), "minimum_points": 100}


def test_store_b_rule_a_voucher_is_valid_one_month():
    """Store B rule « If you create a voucher from your loyalty points, it will be valid for one month »: the
    offer lasts 30 days and the code's end date says so (the voucher row's ends_at is written by
    loyalty.services.vouchers.reserve, a database service)."""
    assert conversion_offer(STORE_B, 200).validity_days == 30
    assert code_input(200)["endsAt"] == (NOW + timedelta(days=30)).isoformat()


def test_store_b_rule_a_voucher_needs_a_100_eur_basket():
    """Store B rule « Vouchers can be used from a minimum of €100.00 »."""
    assert conversion_offer(STORE_B, 200).minimum_subtotal == Decimal("100")
    assert code_input(200)["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "100"}}


def test_store_b_rule_a_voucher_applies_only_to_non_discounted_products():
    """Store B rule « can be used on all products on the site, excluding discounted products (sales,
    promotions or outlet) »: the code applies to the full-price collection only, never to every product."""
    assert conversion_offer(STORE_B, 200).collection_id == STORE_B.voucher_collection_id == 2001
    items = code_input(200)["customerGets"]["items"]
    assert items == {"collections": {"add": ["gid://shopify/Collection/2001"]}}


def test_store_b_rule_only_one_code_per_order():
    """Store B rule « it is not possible to use more than one coupon per transaction » (nor a gift card code
    with a coupon): the code combines with no other discount, is used once, by its customer only."""
    assert conversion_offer(STORE_B, 200).combines is False
    data = code_input(200)
    assert data["combinesWith"] == {"orderDiscounts": False, "productDiscounts": False, "shippingDiscounts": False}
    assert data["usageLimit"] == 1 and data["appliesOncePerCustomer"]
    assert data["context"] == {"customers": {"add": ["gid://shopify/Customer/401"]}}


def test_store_b_rule_points_are_valid_one_year_after_the_last_purchase():
    """Store B rule « Loyalty points are valid for one year after your last purchase »: the policy, and the
    date it gives (29 February's year ends on 28 February)."""
    assert (STORE_B.expiry, STORE_B.expiry_months) == ("after_last_purchase", 12)
    last_purchase = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert expires_at(last_purchase, STORE_B) == datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert expires_at(datetime(2024, 2, 29, tzinfo=timezone.utc), STORE_B) == datetime(2025, 2, 28, tzinfo=timezone.utc)


def test_store_b_rule_any_purchase_extends_the_validity_of_all_points():
    """Store B rule « If you make any kind of purchase, the validity of all your loyalty points is extended »:
    the expiry counts from the last purchase, one date for all the customer's points, so a purchase in
    month 11 moves the expiry of points earned in month 0 to month 23. (Which purchase is the last is read
    by loyalty.services.schedule.expiring_balances in SQL: that part is tested in tests/e2e.)"""
    first, later = NOW, add_months(NOW, 11)
    assert expires_at(later, STORE_B) == add_months(first, 23)
    assert expires_at(later, STORE_B) > expires_at(first, STORE_B)


def test_store_b_rule_a_voucher_is_valid_one_month_from_its_creation():
    """Store B rule « Vouchers are valid for one month »: a code made on 1 March at 10:00 works until
    31 March at 10:00 (30 days: the template's `voucher_validity_days`)."""
    assert voucher_ends_at(conversion_offer(STORE_B, 200), NOW) == datetime(2025, 3, 31, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("kind, status, cancellable", [
    ("discount", "active", True), ("discount", "creating", True),
    ("discount", "used", False), ("discount", "expired", False),
    ("donation", "donated", False), ("gift_card", "active", False),
])
def test_store_b_rule_cancelling_a_voucher_gives_its_points_back(kind, status, cancellable):
    """Store B rule « contact our customer service so that we can cancel the voucher and re-credit your
    loyalty points »: an unused discount code may be cancelled (its points then come back once, as a
    `recredit` entry); a code already used or expired, a recorded donation or an issued gift card may not,
    and the refusal says why."""
    refusal = cancel_refusal("LOY-TEST", kind, status)
    assert (refusal is None) is cancellable
    if refusal is not None:
        assert refusal.reason == "not_cancellable" and "LOY-TEST" in str(refusal)
