"""Shopify Flow triggers: recorded in the outbox in the transaction of the event they announce (only for a
shop whose programme turns them on), sent once by jobs.flow_triggers to that shop's Flow, retried and shown
among the failures when Shopify is unreachable or refuses them. SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select

from db.tables import flow_triggers
from integrations.crypto import encrypt_token
from integrations.shopify.errors import ShopifyUnavailable
from jobs.flow_triggers import retry, send_flow_triggers
from jobs.scheduled import mature_points
from loyalty.domain import flow as rules
from loyalty.domain.requests import Adjustment
from loyalty.services import flow, schedule, vouchers
from loyalty.services.adjustments import adjust
from loyalty.services.customers import find_customer
from loyalty.services.failures import list_failures
from loyalty.services.shops import get_shop, install_shop, programme, save_programme
from tests.factories import order

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
OTHER = "store-b.myshopify.com"


def turn_on(ctx, domain: str, **changes):
    """The shop's programme with `flow.triggers` on (and other settings by dotted path)."""
    with ctx.engine.begin() as conn:
        shop = get_shop(conn, domain)
        new = programme(conn, shop.id, shop.settings_version).with_paths({"flow.triggers": True, **changes})
        save_programme(conn, shop, new, NOW)
        return get_shop(conn, domain)


def rows(ctx, **where):
    """The outbox rows (of one handle, when given), oldest first, payloads read."""
    query = select(flow_triggers).order_by(flow_triggers.c.id)
    for column, value in where.items():
        query = query.where(flow_triggers.c[column] == value)
    with ctx.engine.connect() as conn:
        return [SimpleNamespace(**{**r._mapping, "payload": json.loads(r.payload)}) for r in conn.execute(query).all()]


def customer(ctx, shop, who):
    with ctx.engine.connect() as conn:
        return find_customer(conn, shop.id, str(who)).id


def test_no_trigger_is_recorded_unless_the_programme_turns_them_on(send, process, ctx, shop):
    """Off by default (store-a and store-b keep today's behaviour): an order's points make no outbox row."""
    send("orders/paid", order(lines=((120, 1),), email="ada@example.com", customer_id=71))
    process()
    assert rows(ctx) == []


def test_points_earned_is_recorded_with_the_orders_entry_and_sent_once(send, process, ctx, shop, emulator, factory):
    """The order's earn entry and its `points earned` trigger are written in one transaction; the sender
    sends it once; a second delivery of the same order records nothing more."""
    turn_on(ctx, shop.domain)
    emulator.add_customer(shop.domain, 71, "ada@example.com")
    body = order(lines=((120, 1),), email="ada@example.com", customer_id=71)
    send("orders/paid", body)
    process()
    [row] = rows(ctx)
    assert (row.handle, row.status) == (rules.POINTS_EARNED, "pending")
    assert row.payload == {"customer_id": 71, "points": 120, "status": "pending",
                           "reason": row.payload["reason"]} and "120 points" in row.payload["reason"]
    assert send_flow_triggers(ctx, client_factory=factory) == 1
    assert send_flow_triggers(ctx, client_factory=factory) == 0
    send("orders/paid", body)  # Shopify delivers it again
    process()
    assert len(rows(ctx)) == 1 and rows(ctx)[0].status == "sent"
    assert [t["payload"] for t in emulator.flow_triggers(shop.domain)] == [row.payload]


def test_a_rolled_back_event_records_no_trigger(ctx, shop, send, process):
    """The trigger commits or rolls back with its event: an adjustment whose transaction fails announces
    nothing."""
    shop = turn_on(ctx, shop.domain)
    send("customers/create", {"id": 72, "email": "bo@example.com", "created_at": "2025-01-01T00:00:00Z"})
    process()
    bo = customer(ctx, shop, 72)
    with pytest.raises(RuntimeError), ctx.engine.begin() as conn:
        adjust(conn, shop, Adjustment(bo, 40, "goodwill", "staff", "token-0001"), NOW)
        assert len(conn.execute(select(flow_triggers)).all()) == 1  # in the event's own transaction
        raise RuntimeError("the request failed after the adjustment")
    assert rows(ctx) == []
    with ctx.engine.begin() as conn:
        adjust(conn, shop, Adjustment(bo, 40, "goodwill", "staff", "token-0001"), NOW)
    [row] = rows(ctx)
    assert row.payload == {"customer_id": 72, "points": 40, "status": "available", "reason": "goodwill"}


def test_guests_known_only_by_email_get_no_trigger(send, process, ctx, shop):
    """A trigger references a Shopify customer: an order without a customer account announces nothing."""
    turn_on(ctx, shop.domain)
    send("orders/paid", order(lines=((60, 1),), email="guest@example.com"))
    process()
    assert rows(ctx) == []


def test_points_available_is_announced_when_an_order_matures(send, process, ctx, shop):
    """The maturity run's `mature` entry: the points now available and the customer's balance after."""
    turn_on(ctx, shop.domain)
    send("orders/paid", order(lines=((80, 1),), email="cy@example.com", customer_id=73,
                              processed_at="2025-03-01T10:00:00Z"))
    process()
    mature_points(datetime(2025, 4, 1, tzinfo=timezone.utc), ctx)
    [row] = rows(ctx, handle=rules.POINTS_AVAILABLE)
    assert row.payload["points"] == 80 and row.payload["available_balance"] == 80
    mature_points(datetime(2025, 4, 2, tzinfo=timezone.utc), ctx)
    assert len(rows(ctx, handle=rules.POINTS_AVAILABLE)) == 1


def test_perk_unlocked_is_announced_once_per_perk(send, process, ctx, shop):
    """Store A's ladder: 1000 confirmed points unlock its three status perks, each announced once."""
    from loyalty.domain.programme import template

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-a"), NOW)
    turn_on(ctx, shop.domain)
    send("orders/paid", order(lines=((1000, 1),), email="di@example.com", customer_id=74,
                              processed_at="2025-03-01T10:00:00Z"))
    process()
    mature_points(datetime(2025, 4, 1, tzinfo=timezone.utc), ctx)
    unlocked = rows(ctx, handle=rules.PERK_UNLOCKED)
    assert {r.payload["perk_key"] for r in unlocked} == {p.key for p in template("store-a").perks}
    assert all(r.payload["lifetime_points"] == 1000 and r.payload["customer_id"] == 74 for r in unlocked)


def test_reward_redeemed_is_announced_when_the_code_is_made(send, process, ctx, shop):
    """Points converted into a code: announced when Shopify made the code (activate), not before."""
    shop = turn_on(ctx, shop.domain)
    send("customers/create", {"id": 75, "email": "ed@example.com", "created_at": "2025-01-01T00:00:00Z"})
    process()
    ed = customer(ctx, shop, 75)
    with ctx.engine.begin() as conn:
        adjust(conn, shop, Adjustment(ed, 300, "welcome", "staff", "token-0002"), NOW)
        voucher = vouchers.reserve(conn, shop, ed, 200, "req-1", NOW)
    assert rows(ctx, handle=rules.REWARD_REDEEMED) == []
    with ctx.engine.begin() as conn:
        vouchers.activate(conn, voucher.id, "gid://shopify/DiscountCodeNode/1", NOW)
    [row] = rows(ctx, handle=rules.REWARD_REDEEMED)
    assert row.payload == {"customer_id": 75, "reward_key": "conversion", "reward_title": "",
                           "reward_kind": "discount", "points": 200, "code": voucher.code}


def test_points_expiring_is_announced_with_each_notice(send, process, ctx, shop):
    """Expiry after the last purchase: the 30-day notice and the 7-day notice each announce the points."""
    turn_on(ctx, shop.domain, expiry="after_last_purchase", expiry_months=12)
    send("orders/paid", order(lines=((90, 1),), email="fa@example.com", customer_id=76,
                              processed_at="2025-01-10T10:00:00Z"))
    process()
    mature_points(datetime(2025, 2, 1, tzinfo=timezone.utc), ctx)
    for day in (datetime(2025, 12, 20, tzinfo=timezone.utc), datetime(2025, 12, 21, tzinfo=timezone.utc),
                datetime(2026, 1, 5, tzinfo=timezone.utc)):
        with ctx.engine.begin() as conn:
            schedule.points_expiring(conn, day, day)
    expiring = rows(ctx, handle=rules.POINTS_EXPIRING)
    assert [(r.payload["points"], r.payload["days_left"]) for r in expiring] == [(90, 21), (90, 5)]
    assert expiring[0].payload["expires_on"] == "2026-01-10"  # they expire at 10:00 that day


def test_tier_changed_is_recorded_by_a_direct_call_once_per_event(send, process, ctx, shop):
    """The service the tiers call: one trigger per event key, none when the shop has triggers off."""
    send("customers/create", {"id": 77, "email": "gu@example.com", "created_at": "2025-01-01T00:00:00Z"})
    process()
    gu = customer(ctx, shop, 77)
    with ctx.engine.begin() as conn:
        assert not flow.tier_changed(conn, shop_id=shop.id, customer_id=gu, previous_tier=None, new_tier="gold",
                                     reason="1000 points earned", event="tier:1", now=NOW)
    turn_on(ctx, shop.domain)
    for _ in range(2):
        with ctx.engine.begin() as conn:
            flow.tier_changed(conn, shop_id=shop.id, customer_id=gu, previous_tier="silver", new_tier="gold",
                              reason="1000 points earned", event="tier:2", now=NOW)
    [row] = rows(ctx)
    assert row.handle == rules.TIER_CHANGED
    assert row.payload == {"customer_id": 77, "previous_tier": "silver", "new_tier": "gold",
                           "reason": "1000 points earned"}


def test_one_shop_never_triggers_for_another(send, process, ctx, shop, emulator):
    """Two shops with triggers on: each trigger is sent with its own shop's client, to its own shop only."""
    from integrations.shopify.client import AdminClient
    from tools.wsgi_adapter import wsgi_session

    with ctx.engine.begin() as conn:
        install_shop(conn, OTHER, encrypt_token(ctx.config.encryption_keys, "shpat_store_b"), NOW)
    emulator.add_shop(OTHER, "shpat_store_b")
    turn_on(ctx, shop.domain)
    turn_on(ctx, OTHER)
    send("orders/paid", order(lines=((10, 1),), email="a@example.com", customer_id=81))
    send("orders/paid", order(lines=((20, 1),), email="b@example.com", customer_id=82), shop=OTHER)
    process()
    session = wsgi_session(emulator.app)
    tokens = {shop.domain: "shpat_store_a", OTHER: "shpat_store_b"}

    def clients(ctx_, shop_, conn_):
        return AdminClient(shop_.domain, tokens[shop_.domain], session=session,
                           admin_url_template="http://shopify.test/{shop}", sleep=lambda s: None)
    assert send_flow_triggers(ctx, client_factory=clients) == 2
    assert [t["payload"]["customer_id"] for t in emulator.flow_triggers(shop.domain)] == [81]
    assert [t["payload"]["customer_id"] for t in emulator.flow_triggers(OTHER)] == [82]


def test_a_trigger_shopify_refuses_fails_at_once_and_is_listed_until_retried(send, process, ctx, shop, factory):
    """userErrors (here: a trigger whose extension is not deployed) would come again: the row fails at once,
    shows among the failures with Shopify's reason, and `retry` gives it a new round."""
    send("customers/create", {"id": 78, "email": "ha@example.com", "created_at": "2025-01-01T00:00:00Z"})
    process()
    ha = customer(ctx, shop, 78)
    with ctx.engine.begin() as conn:
        conn.execute(insert(flow_triggers).values(
            shop_id=shop.id, customer_id=ha, handle="loyalty-undeployed", payload="{}",
            dedup_key="x-1", status="pending", attempts=0, next_attempt_at=NOW, created_at=NOW))
    assert send_flow_triggers(ctx, client_factory=factory, now=NOW) == 0
    [row] = rows(ctx)
    assert (row.status, row.attempts) == ("failed", 1) and "Invalid handle" in row.last_error
    with ctx.engine.connect() as conn:
        [failure] = list_failures(conn, shop.domain, NOW)
    assert failure.kind == "flow_failed" and "Invalid handle" in failure.reason
    assert retry(ctx, now=NOW) == 1 and rows(ctx)[0].status == "pending"


def test_shopify_unreachable_retries_with_backoff_then_sends(send, process, ctx, shop, emulator, factory):
    """ShopifyUnavailable: the row waits (attempt 1, next in a minute), shown as flow_retrying; it is not
    tried again before then, and is sent once Shopify answers."""
    turn_on(ctx, shop.domain)
    send("orders/paid", order(lines=((30, 1),), email="io@example.com", customer_id=79))
    process()

    def down(ctx_, shop_, conn_):
        client = factory(ctx_, shop_, conn_)

        def execute(document, variables=None):
            raise ShopifyUnavailable("503", shop=shop_.domain, operation="FlowTriggerReceive", attempts=5)
        client.execute = execute
        return client
    first = datetime.now(timezone.utc) + timedelta(seconds=1)  # every row of the batch is due by then
    assert send_flow_triggers(ctx, client_factory=down, now=first) == 0
    [row] = rows(ctx)
    assert (row.status, row.attempts) == ("pending", 1)
    with ctx.engine.connect() as conn:
        assert [f.kind for f in list_failures(conn, shop.domain)] == ["flow_retrying"]
    assert send_flow_triggers(ctx, client_factory=factory, now=first + timedelta(seconds=30)) == 0
    assert send_flow_triggers(ctx, client_factory=factory, now=first + timedelta(minutes=1)) == 1
    assert rows(ctx)[0].status == "sent" and len(emulator.flow_triggers(shop.domain)) == 1
