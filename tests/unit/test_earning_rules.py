"""What an order earns on and which orders earn nothing (loyalty.domain.earning), the rules both payload
translators and the order services apply."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from loyalty.domain import earning
from loyalty.domain.commands import OrderFacts, Payment
from loyalty.domain.errors import ImplausibleAmount
from loyalty.domain.programme import template

STORE_A = template("store-a")


def facts(**changes) -> OrderFacts:
    values = dict(order_id=1, name="#1001", customer_id=7, email="claire@example.com", customer_tags=(),
                  is_b2b=False, source_name="web", test=False, processed_at=datetime(2025, 3, 1, tzinfo=timezone.utc),
                  currency="EUR", merchandise=Decimal("100"), gateways=("shopify_payments",))
    return OrderFacts(**{**values, **changes})


def test_a_line_earns_its_price_times_quantity_less_its_discounts():
    assert earning.line_amount(Decimal("19.90"), 3, Decimal("5.70")) == Decimal("54.00")


def test_the_merchandise_is_the_sum_of_the_lines():
    lines = [(Decimal("80"), 2, Decimal("0")), (Decimal("10.50"), 1, Decimal("0.50"))]
    assert earning.merchandise(lines) == Decimal("170.00")
    assert earning.merchandise([]) == Decimal(0)


def test_a_merchandise_past_the_ceiling_is_implausible_as_soon_as_the_running_total_passes_it():
    seen = []

    def lines():
        for line in [(Decimal("6e11"), 1, Decimal(0)), (Decimal("6e11"), 1, Decimal(0)), (Decimal(1), 1, Decimal(0))]:
            seen.append(line)
            yield line
    with pytest.raises(ImplausibleAmount):
        earning.merchandise(lines(), ceiling=Decimal("1e12"))
    assert len(seen) == 2  # the third line is never read
    assert earning.merchandise([(Decimal("6e11"), 2, Decimal(0))]) == Decimal("1.2e12")  # no ceiling: no check


def test_gift_card_and_store_credit_captures_do_not_earn():
    payments = [Payment("gift_card", "sale", "success", Decimal("30")),
                Payment("gift_card", "capture", "success", Decimal("5")),
                Payment("gift_card", "authorization", "success", Decimal("99")),  # not captured
                Payment("gift_card", "sale", "failure", Decimal("99")),
                Payment("shopify_store_credit", "sale", "success", Decimal("10")),
                Payment("shopify_payments", "sale", "success", Decimal("55"))]
    assert earning.non_earning_total(payments, STORE_A) == Decimal("45")


def test_transactions_are_fetched_only_when_a_non_earning_gateway_took_part():
    assert earning.needs_payment_lookup(facts(gateways=("shopify_payments", "gift_card")), STORE_A)
    assert not earning.needs_payment_lookup(facts(gateways=("shopify_payments",)), STORE_A)


def test_store_a_excludes_test_orders_anonymous_orders_partner_resellers_and_reseller_tags():
    assert earning.exclusion_reason(facts(), STORE_A, 7) is None
    assert earning.exclusion_reason(facts(test=True), STORE_A, 7) == earning.TEST_ORDER == "test order"
    assert earning.exclusion_reason(facts(), STORE_A, None) == "no customer and no email"
    assert earning.exclusion_reason(facts(source_name="partner_reseller"), STORE_A, 7) == \
        "sales channel partner_reseller is excluded"
    assert earning.exclusion_reason(facts(customer_tags=("VIP", "Revendeur")), STORE_A, 7) == \
        "customer tag revendeur is excluded"


def test_b2b_orders_are_excluded_only_when_the_programme_says_so():
    assert earning.exclusion_reason(facts(is_b2b=True), STORE_A, 7) is None
    assert earning.exclusion_reason(facts(is_b2b=True), STORE_A.with_changes(exclude_b2b=True), 7) == \
        "B2B orders are excluded"


def test_a_point_of_sale_order_earns_unless_its_channel_is_excluded():
    assert earning.exclusion_reason(facts(source_name="pos"), STORE_A, 7) is None
    no_pos = STORE_A.with_changes(excluded_source_names=["partner_reseller", "pos"])
    assert earning.exclusion_reason(facts(source_name="pos"), no_pos, 7) == "sales channel pos is excluded"


def test_store_a_awards_a_point_per_euro_of_merchandise_not_paid_by_gift_card():
    assert earning.order_award(facts(merchandise=Decimal("160.90")), Decimal(0), STORE_A) == 160
    assert earning.order_award(facts(merchandise=Decimal("100")), Decimal("30"), STORE_A) == 70
    shipped = facts(merchandise=Decimal("100"), shipping=Decimal("9.90"))
    assert earning.order_award(shipped, Decimal(0), STORE_A) == 100
    assert earning.order_award(shipped, Decimal(0), STORE_A.with_changes(earn_on_shipping=True)) == 109
