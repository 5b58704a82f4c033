"""Shopify Flow as data (loyalty.domain.flow): trigger payloads, the action request's checks, the signature
Flow's requests carry, and the programme's `flow` part (off by default)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from integrations.shopify.webhook_signature import sign, verify
from loyalty.domain import flow
from loyalty.domain.errors import FlowActionRefused, ProgrammeError
from loyalty.domain.programme import Programme, template

SHOP = "store-a.myshopify.com"


def body(handle=flow.AWARD_POINTS, **properties):
    props = {"customer_id": "71", "points": "25", "reason": "review"} | properties
    return json.dumps({"shop_id": "548380009", "shopify_domain": SHOP, "action_run_id": "run-1",
                       "handle": handle, "properties": props}).encode()


# -- triggers -------------------------------------------------------------------------------------------

def test_points_earned_names_pending_points_for_an_order_and_available_for_a_bonus():
    assert flow.earned_payload(71, "earn", 120, "order #1001") == {
        "customer_id": 71, "points": 120, "status": "pending", "reason": "order #1001"}
    assert flow.earned_payload(71, "bonus", 50, "sign-up")["status"] == "available"
    assert flow.earned_payload(71, "adjust", 10, "goodwill")["status"] == "available"


def test_points_taken_or_spent_are_not_points_earned():
    assert flow.earned_payload(71, "adjust", -10, "correction") is None
    assert flow.earned_payload(71, "redeem", -100, "voucher") is None
    assert flow.earned_payload(71, "claw_back", -5, "refund") is None


def test_trigger_texts_are_cut_so_a_payload_stays_far_under_flows_50_kb_limit():
    payload = flow.earned_payload(71, "earn", 1, "x" * 100_000)
    assert len(payload["reason"]) == flow.MAX_TEXT
    assert flow.payload_size(payload) < flow.MAX_TRIGGER_PAYLOAD_BYTES


def test_every_trigger_payload_references_the_customer_by_shopify_id():
    payloads = [flow.available_payload(9, 10, 30, "r"), flow.perk_payload(9, "vip", "VIP", 1000),
                flow.redeemed_payload(9, reward_key=None, reward_title=None, kind="discount", points=100,
                                      code="LOY-1"),
                flow.expiring_payload(9, 40, "2026-01-10", 7), flow.tier_payload(9, None, "gold", "spent")]
    assert all(p["customer_id"] == 9 for p in payloads)
    assert payloads[2]["reward_key"] == "conversion" and payloads[4]["previous_tier"] == ""


# -- actions --------------------------------------------------------------------------------------------

def test_an_award_request_is_read_with_its_run_as_the_adjustment_token():
    action = flow.parse_action(flow.AWARD_POINTS, body())
    assert (action.shop_domain, action.shopify_shop_id, action.shopify_customer_id, action.points,
            action.reason) == (SHOP, 548380009, 71, 25, "review")
    assert action.client_token == "flow:run-1"


def test_an_award_takes_a_customer_gid_and_a_number_of_points():
    action = flow.parse_action(flow.AWARD_POINTS, body(customer_id="gid://shopify/Customer/71", points=25.0))
    assert (action.shopify_customer_id, action.points) == (71, 25)


@pytest.mark.parametrize("points", ["2.5", "0", "-3", "10000001", "ten", None, True])
def test_an_award_refuses_points_that_are_not_a_whole_positive_number(points):
    with pytest.raises(FlowActionRefused) as refused:
        flow.parse_action(flow.AWARD_POINTS, body(points=points))
    assert (refused.value.status, refused.value.field) == (422, "points")


def test_an_award_refuses_a_missing_reason():
    with pytest.raises(FlowActionRefused) as refused:
        flow.parse_action(flow.AWARD_POINTS, body(reason="  "))
    assert refused.value.field == "reason"


def test_an_action_refuses_a_body_for_another_action():
    with pytest.raises(FlowActionRefused) as refused:
        flow.parse_action(flow.AWARD_POINTS, body(handle=flow.CHANGE_TIER))
    assert (refused.value.status, refused.value.field) == (400, "handle")


def test_an_action_refuses_an_unknown_handle_with_404():
    with pytest.raises(FlowActionRefused) as refused:
        flow.parse_action("loyalty-nothing", body(handle="loyalty-nothing"))
    assert refused.value.status == 404


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"handle": "loyalty-award-points"}'])
def test_an_action_refuses_a_body_that_is_not_a_request(raw):
    with pytest.raises(FlowActionRefused) as refused:
        flow.parse_action(flow.AWARD_POINTS, raw)
    assert refused.value.status == 400


def test_a_change_tier_request_needs_a_tier():
    assert flow.parse_action(flow.CHANGE_TIER, body(flow.CHANGE_TIER, tier="gold")).tier == "gold"
    with pytest.raises(FlowActionRefused) as refused:
        flow.parse_action(flow.CHANGE_TIER, body(flow.CHANGE_TIER))
    assert refused.value.field == "tier"


def test_flow_signs_the_raw_body_with_the_app_secret_like_a_webhook():
    """base64(HMAC-SHA256(secret, raw body)) in X-Shopify-Hmac-Sha256, compared in constant time; one
    byte changed, or another secret, fails."""
    raw = body()
    expected = base64.b64encode(hmac.new(b"app-secret", raw, hashlib.sha256).digest()).decode()
    assert sign("app-secret", raw) == expected
    assert verify(("app-secret",), raw, expected)
    assert not verify(("app-secret",), raw + b" ", expected)
    assert not verify(("other-secret",), raw, expected)
    assert not verify(("app-secret",), raw, None)


# -- the programme's part -------------------------------------------------------------------------------

def test_flow_triggers_are_off_by_default_and_in_the_seed_templates():
    assert Programme().flow.triggers is False
    assert template("store-a").flow.triggers is False and template("store-b").flow.triggers is False


def test_flow_triggers_are_turned_on_by_dotted_path_and_validated():
    assert Programme().with_paths({"flow.triggers": "true"}).flow.triggers is True
    with pytest.raises(ProgrammeError, match="flow.triggers"):
        Programme().with_paths({"flow.triggers": "maybe"})
    with pytest.raises(ProgrammeError, match="flow.webhook"):
        Programme().with_paths({"flow.webhook": "x"})


def test_an_award_by_programme_action_is_once_per_its_reference_or_else_per_run():
    """With `action`, the award names a programme action: points and reason are not needed, the reference
    given (or the action run's id) is what it is awarded once for."""
    named = flow.parse_action(flow.AWARD_POINTS, body(points=None, reason=None, action="review", reference="r-9"))
    assert (named.action_key, named.reference, named.points) == ("review", "r-9", 0)
    assert flow.parse_action(flow.AWARD_POINTS, body(action="review")).reference == "run-1"
    with pytest.raises(FlowActionRefused) as refused:
        flow.parse_action(flow.AWARD_POINTS, body(action="x" * 41))
    assert refused.value.field == "action"
