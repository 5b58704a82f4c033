"""VIP tiers end to end: the `vip-tiers` template applied with the CLI, orders through signed webhooks until
the customer goes up a tier; the tier's tag reaches Shopify (the emulator) with the write-back, the email
is recorded and `loyalty customer SHOP EMAIL --json` shows the tier and its history; Gold's free shipping
code is made in Shopify at no cost and emailed once."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from db.tables import notifications
from jobs.sync import sync_balances
from jobs.tiers import give_tier_gifts
from tests.e2e.test_cli import cli_env, run  # noqa: F401 - the CLI fixtures
from tests.factories import order
from tests.storefront_support import VERA, proxy  # noqa: F401 - the app proxy fixture


def test_orders_until_the_customer_goes_up_a_tier(run, send, process, ctx, shop, emulator, factory):  # noqa: F811
    run("programme", "apply", shop.domain, "vip-tiers")
    emulator.add_customer(shop.domain, 909, "vip@example.com")
    now = datetime.now(timezone.utc)
    for amount, days_ago in ((150, 20), (100, 10), (90, 1)):  # Bronze from 100, Silver from 300 spent
        assert send("orders/paid", order(lines=((amount, 1),), email="vip@example.com", customer_id=909,
                                         processed_at=(now - timedelta(days=days_ago)).isoformat())).status_code == 200
        process()
        sync_balances(ctx, client_factory=factory)
        if amount == 150:
            assert "vip-bronze" in emulator.tags(shop.domain, 909)

    tags = emulator.tags(shop.domain, 909)
    assert "vip-silver" in tags and "vip-bronze" not in tags
    with ctx.engine.connect() as conn:
        emails = conn.execute(select(notifications.c.subject, notifications.c.to_address).where(
            notifications.c.kind == "tier_changed").order_by(notifications.c.id)).all()
    assert [tuple(e) for e in emails] == [("Welcome to Bronze", "vip@example.com"),
                                          ("Welcome to Silver", "vip@example.com")]
    record = json.loads(run("customer", shop.domain, "vip@example.com", "--json").stdout)["tiers"]
    assert record["current"]["tier"] == "silver"
    assert [(h["from"], h["to"]) for h in record["history"]] == [(None, "bronze"), ("bronze", "silver")]
    assert "spent 340.00 over the last 12 months: Silver from 300.00" == record["history"][-1]["reason"]


def test_entering_gold_gives_a_free_shipping_code_at_no_cost_emailed_once(run, send, process, ctx, shop,  # noqa: F811
                                                                         emulator, factory, summary):
    """vip-tiers' Gold gives a free shipping code a month: orders through signed webhooks until Gold, the
    job makes the code in Shopify (the emulator) for this customer, no point spent, one email; a replayed
    webhook and the job run again give nothing more."""
    run("programme", "apply", shop.domain, "vip-tiers")
    emulator.add_customer(shop.domain, 910, "gold@example.com")
    now = datetime.now(timezone.utc)
    bodies = [order(lines=((amount, 1),), email="gold@example.com", customer_id=910,
                    processed_at=(now - timedelta(days=days_ago)).isoformat())
              for amount, days_ago in ((400, 20), (400, 2))]  # Silver from 300, Gold from 750 spent
    for body in bodies:
        assert send("orders/paid", body).status_code == 200
        process()
    assert summary("gold@example.com")["tiers"]["current"]["tier"] == "gold"
    points = summary("gold@example.com")["pending"], summary("gold@example.com")["available"]

    assert give_tier_gifts(datetime.now(timezone.utc), ctx, client_factory=factory) == 1
    assert send("orders/paid", bodies[-1]).status_code == 200  # Shopify delivers the last order again
    process()
    assert give_tier_gifts(datetime.now(timezone.utc), ctx, client_factory=factory) == 0

    [code] = emulator.discount_codes(shop.domain)
    assert code["kind"] == "free_shipping" and code["customer_ids"] == [910] and code["usage_limit"] == 1
    assert (summary("gold@example.com")["pending"], summary("gold@example.com")["available"]) == points
    with ctx.engine.connect() as conn:
        sent = conn.execute(select(notifications.c.kind, notifications.c.subject, notifications.c.body_text).where(
            notifications.c.kind.in_(("voucher_created", "tier_changed"))).order_by(notifications.c.id)).all()
    [gift] = [e for e in sent if e.kind == "voucher_created"]
    assert gift.subject == "Your free shipping code" and code["code"] in gift.body_text
    assert "As a Gold member" in gift.body_text
    welcome = [e for e in sent if e.subject == "Welcome to Gold"]
    assert len(welcome) == 1 and "free shipping code by email every month" in welcome[0].body_text


def test_the_gold_free_shipping_code_shows_on_the_customers_loyalty_page(run, send, process, ctx, shop,  # noqa: F811
                                                                        factory, proxy):  # noqa: F811
    """The storefront (app proxy, signed): the code among the customer's vouchers, active, no point spent."""
    run("programme", "apply", shop.domain, "vip-tiers")
    now = datetime.now(timezone.utc)
    assert send("orders/paid", order(lines=((800, 1),), email="vera@example.com", customer_id=VERA,
                                     processed_at=(now - timedelta(days=2)).isoformat())).status_code == 200
    process()
    assert give_tier_gifts(datetime.now(timezone.utc), ctx, client_factory=factory) == 1
    [voucher] = proxy.get(VERA, json=True).get_json()["customer"]["vouchers"]
    assert (voucher["kind"], voucher["status"], voucher["points"]) == ("free_shipping", "active", 0)
    assert voucher["code"] in proxy.get(VERA).get_data(as_text=True)
