"""`loyalty demo traffic`: realistic, signed webhooks; gift-card orders get their transactions seeded."""
from __future__ import annotations

import json

import responses
from click.testing import CliRunner

from integrations.shopify.webhook_signature import verify


@responses.activate
def test_traffic_is_signed_and_consistent(monkeypatch, tmp_path):
    """Every webhook verifies with the app secret; each order's seeded transactions add up to its lines."""
    monkeypatch.setenv("SHOPIFY_API_SECRET", "demo-secret")
    monkeypatch.setenv("LOYALTY_VAR_DIR", str(tmp_path))
    hook = responses.post("http://app.test/webhooks", headers={"X-Loyalty-Webhook": "recorded"})
    seeded = responses.post("http://emu.test/_emulator/demo.myshopify.com/orders", status=201, json={})
    responses.post("http://emu.test/_emulator/demo.myshopify.com/customers", status=201, json={})
    seeded_refunds = responses.post("http://emu.test/_emulator/demo.myshopify.com/refunds", status=201, json={})
    from cli.main import main

    result = CliRunner().invoke(main, ["demo", "traffic", "--orders", "40", "--url", "http://app.test/webhooks",
                                       "--emulator", "http://emu.test", "--seed", "7"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["orders/paid"] == 40 and counts["customers/create"] == 5
    assert counts["refunds/create"] + counts["orders/cancelled"] > 0
    for call in hook.calls:
        assert verify(("demo-secret",), call.request.body, call.request.headers["X-Shopify-Hmac-Sha256"])
    orders = {json.loads(c.request.body)["id"]: json.loads(c.request.body) for c in hook.calls
              if c.request.headers["X-Shopify-Topic"] == "orders/paid"}
    gift_card_orders = 0
    for call in seeded.calls:
        seed = json.loads(call.request.body)
        order = orders[seed["order"]["id"]]
        assert {**seed["order"], "cancelled_at": None} == order  # the emulated shop holds what webhooks say
        total = sum(float(li["price"]) * li["quantity"] for li in order["line_items"])
        assert abs(sum(float(t["amount"]) for t in seed["transactions"]) - total) < 0.01
        gift_card_orders += any(t["gateway"] == "gift_card" for t in seed["transactions"])
        assert ("gift_card" in order["payment_gateway_names"]) == any(
            t["gateway"] == "gift_card" for t in seed["transactions"])
    assert gift_card_orders > 0
    refunded = [json.loads(c.request.body) for c in hook.calls if c.request.headers["X-Shopify-Topic"] == "refunds/create"]
    assert [json.loads(c.request.body) for c in seeded_refunds.calls] == refunded
