"""Campaigns end to end: the merchant sets them through the admin API (checked against the OpenAPI
description), orders arrive as signed webhooks, the customer's record shows what each campaign added, and
a refund after the campaign is edited claws back under the rule the order earned under."""
from __future__ import annotations

import pytest

from tests.factories import cancelled, order, refund

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the suite's short secret

WEEKEND = {"starts_at": "2025-03-01T00:00:00+01:00", "ends_at": "2025-03-03T00:00:00+01:00"}
CAMPAIGNS = [
    {"key": "double-weekend", "title": "Double points this weekend", "kind": "multiplier", "factor": "2", **WEEKEND},
    {"key": "over-100", "title": "+50 on orders over 100 EUR", "kind": "bonus", "bonus": 50,
     "minimum_amount": "100", **WEEKEND},
]


def set_campaigns(admin, campaigns) -> None:
    programme = admin.get("/programme").get_json()["programme"]
    assert admin.put("/programme", {**programme, "campaigns": campaigns}).status_code == 200


def customer(admin, email: str) -> dict:
    [found] = admin.get(f"/customers?q={email}").get_json()["customers"]
    return admin.get(f"/customers/{found['id']}").get_json()


def test_campaigns_set_in_the_admin_multiply_and_add_to_orders_paid_in_their_window(admin, send, process):
    set_campaigns(admin, CAMPAIGNS)
    assert admin.get("/programme").get_json()["programme"]["campaigns"][1]["bonus"] == 50
    send("orders/paid", order(lines=((60, 2),), email="weekend@example.com", customer_id=801,
                              processed_at="2025-03-01T09:00:00+01:00"))
    send("orders/paid", order(lines=((60, 1),), email="small@example.com", customer_id=802,
                              processed_at="2025-03-02T20:00:00+01:00"))
    send("orders/paid", order(lines=((120, 1),), email="monday@example.com", customer_id=803,
                              processed_at="2025-03-03T00:00:00+01:00"))
    assert process() == 3
    weekend = customer(admin, "weekend@example.com")
    assert weekend["pending"] == 120 * 2 + 50
    assert "incl. campaigns double-weekend +120, over-100 +50" in weekend["entries"][0]["reason"]
    assert customer(admin, "small@example.com")["pending"] == 120  # doubled, under the bonus's minimum
    assert customer(admin, "monday@example.com")["pending"] == 120  # the weekend is over


def test_a_refund_after_the_campaign_is_edited_claws_back_what_the_order_earned(admin, send, process):
    set_campaigns(admin, CAMPAIGNS)
    body = order(lines=((50, 2),), email="edited@example.com", customer_id=804, processed_at="2025-03-01T12:00:00+01:00")
    send("orders/paid", body)
    process()
    assert customer(admin, "edited@example.com")["pending"] == 250
    set_campaigns(admin, [{**CAMPAIGNS[0], "factor": "4"}])  # x4 now, and no bonus
    send("refunds/create", refund(body, lines={0: (1, 50)}))
    process()
    assert customer(admin, "edited@example.com")["pending"] == 125
    send("orders/cancelled", cancelled(body))
    process()
    record = customer(admin, "edited@example.com")
    assert record["pending"] == 0
    assert sorted((e["kind"], e["pending"]) for e in record["entries"]) == [
        ("claw_back", -125), ("earn", 250), ("void", -125)]


def test_an_inconsistent_campaign_is_refused_naming_it(admin):
    answer = admin.put("/programme", {**admin.get("/programme").get_json()["programme"],
                                      "campaigns": [{**CAMPAIGNS[0], "ends_at": "2025-03-03T00:00:00"}]})
    assert answer.status_code == 422
    assert "campaigns[0].ends_at" in answer.get_json()["error"]
