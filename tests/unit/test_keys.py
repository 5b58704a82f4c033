"""The idempotency keys (loyalty.domain.keys) keep the exact formats existing databases hold: a key that
changed by one byte would let a replayed webhook, a re-run import or a retried redemption count twice."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from loyalty.domain import keys

LAST_PURCHASE = datetime(2025, 3, 1, 9, 5, 7, 123456, tzinfo=timezone.utc)


def test_an_order_earns_matures_and_is_voided_under_its_shop_and_shopify_id():
    assert keys.earn(3, 5501) == "3:order:5501:earn"
    assert keys.mature(3, 5501) == "3:order:5501:mature"
    assert keys.void(3, 5501) == "3:order:5501:void"


def test_a_refund_claws_back_under_its_own_shopify_id_not_its_orders():
    assert keys.claw_back(3, 9901) == "3:refund:9901"


def test_expiry_is_keyed_by_customer_and_last_purchase_to_the_second_without_offset():
    assert keys.expire(3, 42, LAST_PURCHASE) == "3:customer:42:expire:20250301T090507"
    # the same wall-clock time read back naive from SQLite gives the same key
    assert keys.expire(3, 42, LAST_PURCHASE.replace(tzinfo=None)) == keys.expire(3, 42, LAST_PURCHASE)
    # a time in another offset is written as its own wall-clock time (callers pass UTC)
    paris = LAST_PURCHASE.astimezone(timezone(timedelta(hours=1)))
    assert keys.expire(3, 42, paris) == "3:customer:42:expire:20250301T100507"


def test_a_voucher_redeems_and_recredits_under_its_id():
    assert keys.redeem(3, 17) == "3:voucher:17:redeem"
    assert keys.recredit(3, 17) == "3:voucher:17:recredit"


def test_an_adjustment_is_keyed_by_its_forms_client_token():
    assert keys.adjust(3, "form-0f3c9a") == "3:adjust:form-0f3c9a"


def test_a_redemption_request_is_keyed_by_shop_and_the_callers_request_key():
    assert keys.voucher_request(3, "storefront:42:abc:convert") == "3:voucher-request:storefront:42:abc:convert"
    assert keys.storefront_request(42, "abc", "convert") == "storefront:42:abc:convert"
    assert keys.storefront_request(42, "abc", "bon-10") == "storefront:42:abc:bon-10"
    assert keys.cli_request("0b6c8f4e-7d3a-4f6e-9a51-2b1d0c9e8f70") == "cli:0b6c8f4e-7d3a-4f6e-9a51-2b1d0c9e8f70"


def test_an_email_is_keyed_by_shop_and_event():
    assert keys.email(3, keys.points_available_event(5501)) == "3:order:5501:available"
    assert keys.email(3, keys.voucher_event(17)) == "3:voucher:17"
    assert keys.email(3, keys.voucher_cancelled_event(17)) == "3:voucher:17:cancelled"
    assert keys.email(3, keys.birthday_event(42, "anniversaire", 2026)) == "3:customer:42:birthday:anniversaire:2026"
    assert keys.email(3, keys.expiring_event(42, LAST_PURCHASE, 30)) == "3:customer:42:expiring:20250301T090507:30"
    assert keys.expiring_event(42, LAST_PURCHASE, 7) == "customer:42:expiring:20250301T090507:7"


def test_a_threshold_email_names_the_perks_unlocked_together_in_the_given_order():
    assert keys.threshold_event(42, ["anniversaire", "avant-premiere"]) == "customer:42:threshold:anniversaire+avant-premiere"
    assert keys.threshold_event(42, iter(["vip"])) == "customer:42:threshold:vip"


def test_a_tier_change_email_is_keyed_by_customer_tier_and_entry_moment():
    assert keys.tier_event(42, "gold", LAST_PURCHASE) == "customer:42:tier:gold:20250301T090507"
    assert keys.tier_event(42, None, LAST_PURCHASE) == "customer:42:tier:-:20250301T090507"
def test_a_flow_trigger_is_sent_once_per_shop_handle_and_event():
    assert keys.flow_trigger(3, "loyalty-points-earned", "3:order:5501:earn") == \
        "3:flow:loyalty-points-earned:3:order:5501:earn"
