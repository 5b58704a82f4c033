"""Shopify Flow end to end: a signed order webhook becomes a trigger the (emulated) Flow receives; a signed
Flow action request awards points once per action run; unsigned, badly signed and bad requests are refused."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

from integrations.shopify.webhook_signature import sign
from jobs.flow_triggers import send_flow_triggers
from loyalty.services.shops import programme, save_programme, set_shopify_shop_id
from tests.conftest import SECRET, SHOP
from tests.factories import order

AWARD = "/flow/actions/loyalty-award-points"
SHOP_ID = 548380009


def action(client, path, body, *, secret=SECRET, signed=True):
    """POST an action request as Flow sends it: the raw JSON body signed with the app's secret."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Shopify-Hmac-Sha256"] = sign(secret, raw)
    return client.post(path, data=raw, headers=headers)


def award(customer_id=71, points="25", reason="Wrote a review", run_id=None, **overrides):
    """Flow's body for the award action (Flow sends number_decimal properties as strings or numbers)."""
    return {"shop_id": str(SHOP_ID), "shopify_domain": SHOP, "action_run_id": run_id or str(uuid.uuid4()),
            "action_definition_id": "Award loyalty points", "handle": "loyalty-award-points",
            "properties": {"customer_id": customer_id, "points": points, "reason": reason}} | overrides


@pytest.fixture
def known_shop(ctx, shop):
    """Store A with its Shopify id recorded (as the install does)."""
    with ctx.engine.begin() as conn:
        set_shopify_shop_id(conn, shop.domain, SHOP_ID)
    return shop


def test_a_signed_order_webhook_becomes_a_trigger_flow_receives(send, process, ctx, shop, emulator, factory):
    """orders/paid (signed) -> points earned -> the outbox -> flowTriggerReceive -> the emulated Flow."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, programme(conn, shop.id, 1).with_paths({"flow.triggers": True}),
                       datetime.now(timezone.utc))
    emulator.add_customer(shop.domain, 71, "ada@example.com")
    assert send("orders/paid", order(lines=((150, 1),), email="ada@example.com", customer_id=71)).status_code == 200
    process()
    assert send_flow_triggers(ctx, client_factory=factory) == 1
    [received] = emulator.flow_triggers(shop.domain)
    assert received["handle"] == "loyalty-points-earned"
    assert (received["payload"]["customer_id"], received["payload"]["points"]) == (71, 150)


def test_a_signed_action_awards_the_points_once_per_run(client, ctx, known_shop, summary):
    """Award points (signed, for a customer the app has not met yet): booked as an adjustment by "Shopify
    Flow"; Flow sending the same run again (no 200 heard) awards nothing more."""
    body = award(run_id="run-1")
    first = action(client, AWARD, body)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["points"] == 25 and first.get_json()["available"] == 25
    again = action(client, AWARD, body)
    assert again.status_code == 200 and again.get_json()["entry_id"] == first.get_json()["entry_id"]
    ada = summary("71")
    assert ada["available"] == 25
    assert [e["kind"] for e in ada["entries"]] == ["adjust"]
    from loyalty.services.adjustments import adjustments
    with ctx.engine.connect() as conn:
        [booked] = adjustments(conn, known_shop)
    assert (booked.points, booked.reason, booked.actor) == (25, "Wrote a review", "Shopify Flow")
    assert action(client, AWARD, award(run_id="run-2")).status_code == 200
    assert summary("71")["available"] == 50


@pytest.mark.parametrize("signed, secret", [(False, SECRET), (True, "not-the-app-secret")])
def test_an_unsigned_or_badly_signed_action_is_401_and_awards_nothing(client, ctx, known_shop, signed, secret):
    """No signature, or one made with another secret: 401, nothing read or booked."""
    answer = action(client, AWARD, award(), secret=secret, signed=signed)
    assert answer.status_code == 401
    from loyalty.services.customers import find_customer
    with ctx.engine.connect() as conn:
        assert find_customer(conn, known_shop.id, "71") is None


@pytest.mark.parametrize("body, status, field", [
    (award(points="2.5"), 422, "points"),
    (award(points="0"), 422, "points"),
    (award(reason=" "), 422, "reason"),
    (award(customer_id="someone"), 422, "customer_id"),
    (award(handle="loyalty-change-tier"), 400, "handle"),
    (award(action_run_id=""), 400, "action_run_id"),
    (award(shopify_domain="elsewhere.myshopify.com"), 404, "shopify_domain"),
    (award(shop_id="1234"), 403, "shop_id"),
])
def test_a_bad_action_request_is_refused_with_its_reason(client, known_shop, body, status, field):
    """Bad input: a 4xx naming the property (Flow marks the step failed with it and does not retry)."""
    answer = action(client, AWARD, body)
    assert (answer.status_code, answer.get_json()["field"]) == (status, field)
    assert answer.get_json()["error"]


def test_an_unknown_action_is_404(client, known_shop):
    answer = action(client, "/flow/actions/loyalty-nothing", award(handle="loyalty-nothing"))
    assert answer.status_code == 404 and answer.get_json()["field"] == "handle"


def test_change_tier_says_the_programme_has_no_tiers(client, known_shop):
    """The change-tier action, valid and signed, on a programme without tiers: 422, saying so."""
    body = award(handle="loyalty-change-tier") | {"properties": {"customer_id": 71, "tier": "gold"}}
    answer = action(client, "/flow/actions/loyalty-change-tier", body)
    assert answer.status_code == 422
    assert "this programme has no tiers" in answer.get_json()["error"]


def test_change_tier_puts_the_customer_in_the_tier_once_and_announces_it(client, ctx, known_shop, summary):
    """vip-tiers with Flow triggers on: a signed change-tier action puts customer 71 in Gold (history with the
    workflow's reason, tag), announced by a `tier changed` trigger; the same run sent again changes nothing;
    a tier the programme lacks is 422 naming the tiers it has."""
    from db.tables import flow_triggers
    from loyalty.domain.programme import template
    from sqlalchemy import select

    with ctx.engine.begin() as conn:
        save_programme(conn, known_shop, template("vip-tiers").with_paths({"flow.triggers": True}),
                       datetime.now(timezone.utc))
    body = award(handle="loyalty-change-tier", run_id="run-t") | {
        "properties": {"customer_id": 71, "tier": "gold", "reason": "VIP event guest"}}
    first = action(client, "/flow/actions/loyalty-change-tier", body)
    assert first.status_code == 200, first.get_json()
    assert action(client, "/flow/actions/loyalty-change-tier", body).status_code == 200
    record = summary("71")["tiers"]
    assert record["current"]["tier"] == "gold"
    assert [(h["from"], h["to"], h["reason"]) for h in record["history"]] == [
        (None, "gold", "Shopify Flow: VIP event guest")]
    with ctx.engine.connect() as conn:
        handles = [r.handle for r in conn.execute(select(flow_triggers))]
    assert handles.count("loyalty-tier-changed") == 1
    unknown = action(client, "/flow/actions/loyalty-change-tier",
                     body | {"action_run_id": "run-u", "properties": {"customer_id": 71, "tier": "platinum"}})
    assert unknown.status_code == 422 and "bronze, silver, gold" in unknown.get_json()["error"]


def test_award_by_programme_action_gives_its_points_once_per_reference_within_its_cap(client, ctx, known_shop,
                                                                                      summary):
    """The award action naming a programme action (`earning.actions.review`, 40 points, one a month): its
    points once per reference (Flow sending the run again, or another run for the same review, gives nothing
    more); a second review that month is capped to 0, with the cap named; an unknown action is 422."""
    with ctx.engine.begin() as conn:
        prog = programme(conn, known_shop.id, known_shop.settings_version).with_paths({
            "earning.actions.review": '{"points": 40, "title": "Product review", "cap": {"period": "month", "count": 1}}'})
        save_programme(conn, known_shop, prog, datetime.now(timezone.utc))
    body = award(run_id="run-r1") | {"properties": {"customer_id": 71, "action": "review", "reference": "rev-1"}}
    first = action(client, AWARD, body)
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["points"], first.get_json()["available"]) == (40, 40)
    assert action(client, AWARD, body).get_json()["award_id"] == first.get_json()["award_id"]
    same_review = body | {"action_run_id": "run-r2"}
    assert action(client, AWARD, same_review).get_json()["award_id"] == first.get_json()["award_id"]
    capped = action(client, AWARD, body | {"action_run_id": "run-r3",
                                           "properties": {"customer_id": 71, "action": "review", "reference": "rev-2"}})
    assert capped.status_code == 200 and capped.get_json()["points"] == 0
    assert "cap" in capped.get_json()["reason"]
    assert summary("71")["available"] == 40
    unknown = action(client, AWARD, body | {"action_run_id": "run-r4",
                                            "properties": {"customer_id": 71, "action": "tweet"}})
    assert (unknown.status_code, unknown.get_json()["field"]) == (422, "action")
    assert "review" in unknown.get_json()["error"]
