"""VIP tiers end to end: the `vip-tiers` template applied with the CLI, orders through signed webhooks until
the customer goes up a tier; the tier's tag reaches Shopify (the emulator) with the write-back, the email
is recorded and `loyalty customer SHOP EMAIL --json` shows the tier and its history."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from db.tables import notifications
from jobs.sync import sync_balances
from tests.e2e.test_cli import cli_env, run  # noqa: F401 - the CLI fixtures
from tests.factories import order


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
