"""Why an order earned what it earned (loyalty.domain.order_outcome): each rule by name, and the stored
exclusion texts unchanged."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from loyalty.domain import order_outcome as oo
from loyalty.domain.commands import OrderFacts
from loyalty.domain.programme import template

STORE_A = template("store-a")
NOW = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
PAID = NOW - timedelta(days=30)


def facts(**changes) -> OrderFacts:
    values = dict(order_id=1, name="#1001", customer_id=7, email="claire@example.com", customer_tags=(),
                  is_b2b=False, source_name="web", test=False, processed_at=PAID, currency="EUR",
                  merchandise=Decimal("100"), gateways=("shopify_payments",))
    return OrderFacts(**{**values, **changes})


EARNED = oo.RecordedOrder(paid_at=PAID, cancelled_at=None, excluded_reason=None, award=100, capped=None,
                          merchandise=Decimal("100"), non_earning_paid=Decimal(0), pending_until=PAID + timedelta(days=14),
                          refunded=Decimal(0), points=100, pending=0)


def recorded(**changes) -> oo.RecordedOrder:
    return replace(EARNED, **changes)


# -- the exclusion rules and their stored texts ------------------------------------------------------

@pytest.mark.parametrize("changes, customer, code, params, text", [
    ({"test": True}, 7, oo.TEST_ORDER, {}, "test order"),
    ({}, None, oo.NO_CUSTOMER, {}, "no customer and no email"),
    ({"source_name": "partner_reseller"}, 7, oo.EXCLUDED_CHANNEL, {"channel": "partner_reseller"},
     "sales channel partner_reseller is excluded"),
    ({"customer_tags": ("VIP", "Revendeur")}, 7, oo.EXCLUDED_TAG, {"tag": "revendeur"},
     "customer tag revendeur is excluded"),
])
def test_each_exclusion_rule_has_a_code_and_keeps_its_stored_text(changes, customer, code, params, text):
    found = oo.exclusion(facts(**changes), STORE_A, customer)
    assert (found.code, found.params, oo.exclusion_text(found)) == (code, params, text)
    assert oo.exclusion_of_text(text) == found


def test_b2b_exclusion_only_when_the_programme_says_so():
    assert oo.exclusion(facts(is_b2b=True), STORE_A, 7) is None
    found = oo.exclusion(facts(is_b2b=True), STORE_A.with_changes(exclude_b2b=True), 7)
    assert (found, oo.exclusion_text(found)) == (oo.Exclusion(oo.B2B), "B2B orders are excluded")


def test_an_order_that_earns_has_no_exclusion():
    assert oo.exclusion(facts(), STORE_A, 7) is None


def test_an_unknown_stored_reason_is_kept_as_its_text():
    assert oo.exclusion_of_text("sales channel  is excluded") == oo.Exclusion(oo.EXCLUDED_OTHER,
                                                                              {"reason": "sales channel  is excluded"})


# -- the outcome of a recorded order ----------------------------------------------------------------

def test_outcome_earned_gives_the_net_points():
    assert oo.outcome(EARNED) == oo.Outcome(oo.EARNED, 100)


def test_outcome_pending_says_until_when():
    until = NOW + timedelta(days=3)
    found = oo.outcome(recorded(pending=100, pending_until=until))
    assert found == oo.Outcome(oo.PENDING, 100, {"until": until.isoformat()})


def test_outcome_matured_order_is_earned_not_pending():
    assert oo.outcome(recorded(pending=0, pending_until=NOW - timedelta(days=1))).code == oo.EARNED


@pytest.mark.parametrize("reason, code, params", [
    ("test order", oo.TEST_ORDER, {}),
    ("sales channel partner_reseller is excluded", oo.EXCLUDED_CHANNEL, {"channel": "partner_reseller"}),
    ("customer tag revendeur is excluded", oo.EXCLUDED_TAG, {"tag": "revendeur"}),
    ("B2B orders are excluded", oo.B2B, {}),
    ("no customer and no email", oo.NO_CUSTOMER, {}),
])
def test_outcome_excluded_order_names_its_rule(reason, code, params):
    found = oo.outcome(recorded(excluded_reason=reason, award=0, points=0))
    assert found == oo.Outcome(code, 0, params)


def test_outcome_paid_wholly_by_gift_card_or_store_credit():
    found = oo.outcome(recorded(award=0, points=0, non_earning_paid=Decimal("100")))
    assert found == oo.Outcome(oo.GIFT_CARD, 0, {"amount": "100"})


def test_outcome_partly_paid_by_gift_card_still_earns():
    assert oo.outcome(recorded(award=40, points=40, non_earning_paid=Decimal("60"))).code == oo.EARNED


def test_outcome_cancelled_after_earning_lost_its_points():
    found = oo.outcome(recorded(points=0, cancelled_at=NOW))
    assert found == oo.Outcome(oo.CANCELLED, 0, {"at": NOW.isoformat(), "award": 100})


def test_outcome_refunded_in_full_lost_its_points():
    found = oo.outcome(recorded(points=0, refunded=Decimal("100.00")))
    assert found == oo.Outcome(oo.REFUNDED, 0, {"refunded": "100.00", "award": 100})


def test_outcome_partly_refunded_keeps_the_rest_and_says_so():
    assert oo.outcome(recorded(points=60, refunded=Decimal("40"))) == oo.Outcome(oo.EARNED, 60, {"refunded": "40"})


def test_outcome_capped_by_the_earning_cap_to_nothing():
    assert oo.outcome(recorded(award=0, points=0, capped=100)) == oo.Outcome(oo.CAPPED, 0, {"capped": 100})


def test_outcome_partly_capped_earns_the_rest_and_says_what_the_cap_took():
    assert oo.outcome(recorded(award=30, points=30, capped=70)) == oo.Outcome(oo.EARNED, 30, {"capped": 70})


def test_outcome_before_the_programme_when_a_refund_arrives_for_a_payment_never_seen():
    found = oo.outcome(recorded(paid_at=None, award=None, points=0, refunded=Decimal("45")))
    assert found == oo.Outcome(oo.BEFORE_PROGRAMME, 0, {"refunded": "45"})


def test_outcome_not_paid_yet():
    assert oo.outcome(recorded(paid_at=None, award=None, points=0)) == oo.Outcome(oo.NOT_PAID, 0)


def test_outcome_cancelled_before_payment():
    found = oo.outcome(recorded(paid_at=None, award=None, points=0, cancelled_at=NOW))
    assert found == oo.Outcome(oo.CANCELLED, 0, {"at": NOW.isoformat()})


def test_outcome_nothing_to_earn_for_a_zero_basket():
    found = oo.outcome(recorded(award=0, points=0, merchandise=Decimal(0)))
    assert found == oo.Outcome(oo.NOTHING_TO_EARN, 0)


def test_every_outcome_code_is_listed():
    assert len(set(oo.CODES)) == len(oo.CODES) == 15


def test_every_outcome_code_has_a_text_in_english_and_french():
    """The support desk translates each code (admin/i18n/customer.json)."""
    import json
    from pathlib import Path
    texts = json.loads((Path(__file__).parents[2] / "admin" / "i18n" / "customer.json").read_text())
    for language in ("en", "fr"):
        assert {f"outcome.{code}" for code in oo.CODES} <= set(texts[language])
