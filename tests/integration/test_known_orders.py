"""An inbox batch's order events applied set-based (loyalty.services.new_orders and known_orders: payments,
repeats, refunds before and after their order, partial and full, cancellations, duplicates) write exactly
what the per-event path writes: random stories, split into random batches, applied both ways on two
databases, must leave identical orders, refunds and ledgers, on a `negative_balance: allow` shop and a
`floor` one side by side."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from db.tables import customers, ledger_entries as le, orders, refunds, shops, vouchers
from integrations.crypto import encrypt_token
from integrations.shopify.translate import to_command
from jobs import inbox as inbox_job
from loyalty.services import collections, known_orders, ledger, schedule
from loyalty.services.context import build_context
from loyalty.services.shops import install_shop, programme, save_programme
from tests.conftest import KEY, make_config
from tests.factories import cancelled, customer, order, refund
from tests.fixtures import _new_database
from tests.integration.test_fault_order_race import race

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
BUYERS = ((71, "ann@example.com"), (72, "bob@example.com"), (None, "guest@example.com"), (None, ""))
_examples = iter(range(1, 10_000))


@pytest.fixture
def two_databases(request, database_url, redis_url, sqlite_template, tmp_path):
    """(set-based, per-event) contexts on two fresh databases of the test's backend; each example installs
    its own shops in both, in the same order, so their ids (and so the idempotency keys) agree."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    contexts = [build_context(make_config(url, redis_url, tmp_path))
                for url in (database_url, _new_database(backend, request, sqlite_template))]
    yield contexts
    for ctx in contexts:
        ctx.engine.dispose()


def story(rng: random.Random, domains: list[str], products=None) -> list[tuple[str, str, dict]]:
    """(shop, topic, body) of a few orders per shop and their refunds, cancellations and repeats, in a
    random order with duplicates (a refund may come before its order, a cancellation before the payment),
    and sometimes a profile update linking the guest's email to an account (applied one by one, after the
    batch's order events on the set-based side). `products`: the product ids of each order's two lines."""
    events = []
    for domain in domains:
        for number in range(rng.randint(1, 4)):
            shopify_id, email = rng.choice(BUYERS if number else BUYERS[:2])  # someone earns in every story
            body = order(order_id=1000 + number, lines=((rng.choice((10, 25, 40)), rng.randint(1, 3)), (15, 1)),
                         email=email, customer_id=shopify_id, products=products,
                         processed_at=f"2025-03-0{rng.randint(1, 3)}T10:00:00+01:00")
            if rng.random() < 0.3:  # one of the shop's vouchers (each order its own: see `install`)
                body["discount_codes"] = [{"code": f"loyal-{body['id']}", "amount": "5.00", "type": "fixed_amount"}]
            choices = [("orders/paid", body)] * rng.randint(1, 3)
            for r in range(rng.randint(0, 3)):
                quantity = rng.randint(1, body["line_items"][0]["quantity"])
                full = {0: (quantity, quantity * float(body["line_items"][0]["price"])), 1: (1, 15)}
                lines = full if rng.random() < 0.3 else {0: (1, rng.choice((5, 10)))}
                choices += [("refunds/create", refund(body, refund_id=body["id"] * 10 + r, lines=lines,
                                                      created_at=f"2025-03-0{rng.randint(4, 6)}T10:00:00+01:00"))
                            ] * rng.randint(1, 2)
            if rng.random() < 0.3:
                choices += [("orders/cancelled", cancelled(body))] * rng.randint(1, 2)
            events += [(domain, topic, json.loads(json.dumps(payload))) for topic, payload in choices]
        if rng.random() < 0.5:
            events.append((domain, "customers/update", customer(73, "guest@example.com")))
    rng.shuffle(events)
    return events


CAMPAIGNS = [
    {"key": "double", "title": "Double on the 2nd", "kind": "multiplier", "factor": "2",
     "starts_at": "2025-03-02T00:00:00+01:00", "ends_at": "2025-03-03T00:00:00+01:00"},
    {"key": "linen-x3", "title": "x3 on linen", "kind": "multiplier", "factor": "3", "collection_id": 77,
     "starts_at": "2025-03-01T00:00:00Z", "ends_at": "2025-03-04T00:00:00Z"},
    {"key": "linen-stack", "title": "x1.5 more on linen", "kind": "multiplier", "factor": "1.5", "stacks": True,
     "collection_id": 77, "starts_at": "2025-03-03T00:00:00+01:00", "ends_at": "2025-03-04T00:00:00+01:00"},
    {"key": "over-60", "title": "+25 over 60 EUR", "kind": "bonus", "bonus": 25, "minimum_amount": "60",
     "starts_at": "2025-03-01T00:00:00Z", "ends_at": "2025-03-04T00:00:00Z"},
]
"""Campaigns over the stories' paid times (the 1st to the 3rd), product 1 in collection 77."""


def install(ctx, domains: list[str], campaigns: bool = False) -> None:
    """The example's shops, the second one on the floor policy, each with a voucher per order number; with
    `campaigns`, both run CAMPAIGNS."""
    with ctx.engine.begin() as conn:
        for domain in domains:
            ref = install_shop(conn, domain, encrypt_token((KEY,), "t"), NOW)
            conn.execute(vouchers.insert(), [dict(shop_id=ref.id, request_key=f"{domain}:{number}", code=f"LOYAL-{number}",
                                                  points=100, amount=5, ends_at=NOW, status="active", created_at=NOW)
                                             for number in range(1000, 1004)])
            changes = dict(campaigns=CAMPAIGNS) if campaigns else {}
            if domain == domains[-1]:
                changes["negative_balance"] = "floor"
            if changes:
                save_programme(conn, ref, programme(conn, ref.id, 1).with_changes(**changes), NOW)
            if campaigns:
                collections.replace_members(conn, ref.id, 77, [1, 5], NOW)


def spend_some(ctx, domains: list[str], rng_seed: int) -> None:
    """Between batches: pending points matured and some spent (so a floor programme has a balance to keep
    above zero), the same in both databases (customers found by their Shopify id)."""
    with ctx.engine.begin() as conn, ledger.perks_decided_once(conn):
        schedule.mature(conn, datetime(2026, 1, 1, tzinfo=timezone.utc), NOW)
        for domain in domains:
            shop_id = conn.execute(select(shops.c.id).where(shops.c.domain == domain)).scalar()
            for shopify_id in (71, 72):
                customer_id = conn.execute(select(customers.c.id).where(
                    customers.c.shop_id == shop_id, customers.c.shopify_customer_id == shopify_id)).scalar()
                available = ledger.balance(conn, customer_id).available if customer_id else 0
                if available > 0:
                    ledger.write_entry(conn, shop_id=shop_id, customer_id=customer_id, kind="redeem",
                                       available=-min(available, 20 + rng_seed % 30), now=NOW, effective_at=NOW,
                                       key=f"spend:{shop_id}:{shopify_id}:{rng_seed}", reason="spent")


def apply(ctx, batch: list[tuple[int, str, str, dict]], set_based: bool) -> None:
    """One inbox batch: set-based as `_apply_together` does (which must not fall back), or event by event."""
    rows = [SimpleNamespace(id=i, webhook_id=f"w{i}", shop_domain=domain, topic=topic, attempts=0, lease_owner=None)
            for i, domain, topic, _ in batch]
    commands = {i: to_command(topic, body) for i, _, topic, body in batch}
    apply_ = inbox_job._apply_together if set_based else inbox_job._apply_one_by_one
    failures: dict = {}
    assert apply_(ctx, rows, commands, failures, NOW) == len(rows)
    assert failures == {}


def state(ctx, domains: list[str]) -> dict:
    """Everything the example's orders wrote, with database ids replaced by what names them."""
    with ctx.engine.connect() as conn:
        shop_ids = list(conn.execute(select(shops.c.id).where(shops.c.domain.in_(domains))).scalars())
        who = {r.id: (r.shopify_customer_id, r.email) for r in conn.execute(select(customers))}
        order_of = {r.id: r.shopify_order_id for r in conn.execute(select(orders))}
        return {
            "customers": sorted((who[r.id] for r in conn.execute(select(customers).where(
                customers.c.shop_id.in_(shop_ids)))), key=repr),
            "orders": sorted((r.shop_id, r.shopify_order_id, who.get(r.customer_id), r.name, r.merchandise,
                              r.non_earning_paid, r.paid_at, r.cancelled_at, r.excluded_reason, r.award,
                              r.campaigns, r.pending_until, r.settings_version)
                             for r in conn.execute(select(orders).where(orders.c.shop_id.in_(shop_ids)))),
            "refunds": sorted((r.shop_id, r.shopify_refund_id, r.shopify_order_id, r.merchandise, r.created_at)
                              for r in conn.execute(select(refunds).where(refunds.c.shop_id.in_(shop_ids)))),
            "vouchers": sorted((r.shop_id, r.code, r.status, r.reason) for r in conn.execute(
                select(vouchers).where(vouchers.c.shop_id.in_(shop_ids)))),
            "entries": sorted((r.idempotency_key, r.kind, who.get(r.customer_id), order_of.get(r.order_id),
                               r.pending, r.available, r.reason, r.effective_at, r.settings_version)
                              for r in conn.execute(select(le).where(le.c.shop_id.in_(shop_ids)))),
        }


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_set_based_batches_write_what_event_by_event_writes(two_databases, seed):
    """Random stories in random batches: identical orders, refunds, entries (keys, amounts, reasons),
    vouchers and customers both ways. (A failure prints the seed.)"""
    both_ways(two_databases, seed, campaigns=False)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_set_based_batches_under_campaigns_write_what_event_by_event_writes(two_databases, seed):
    """The same under campaigns (multipliers, one limited to a collection, one stacking, a bonus with a
    minimum): identical awards, campaigns recorded on the orders and entries both ways."""
    set_based = both_ways(two_databases, seed, campaigns=True)
    assert any(o[10] for o in set_based["orders"]), f"seed {seed}: no campaign applied"


def both_ways(two_databases, seed: int, campaigns: bool) -> dict:
    """Play one random story both ways; the set-based side's state, once compared with the other's."""
    rng, n = random.Random(seed), next(_examples)
    domains = [f"allow-{n}.myshopify.com", f"floor-{n}.myshopify.com"]
    events = [(i, *e) for i, e in enumerate(story(rng, domains, (1, 2) if campaigns else None), start=1)]
    cuts = sorted(rng.sample(range(1, len(events)), min(len(events) - 1, rng.randint(0, 3))))
    batches = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)])]
    spend_after = {b for b in range(len(batches)) if rng.random() < 0.5}
    for ctx, set_based in zip(two_databases, (True, False)):
        install(ctx, domains, campaigns)
        for b, batch in enumerate(batches):
            apply(ctx, batch, set_based)
            if b in spend_after:
                spend_some(ctx, domains, seed + b)
    set_based, per_event = (state(ctx, domains) for ctx in two_databases)
    assert set_based["entries"], f"seed {seed}: nothing earned"
    assert set_based == per_event, f"seed {seed}"
    return set_based


@pytest.mark.parametrize("first", ["payment", "refund"])
def test_set_based_events_racing_another_worker_on_the_same_order_settle_it_once(ctx, shop, summary, first):
    """The order's row exists (an earlier refund of 20 created it). Worker A applies set-based its batch's
    payment of the order (or a refund of 30) and stays open; worker B applies set-based the refund of 30
    (or the payment): B waits for A's lock on the order's row, then settles against what A wrote. The order
    keeps 50 of its 100 points, whichever came first (without the lock, B would read the order unpaid, or
    A would settle without B's refund: a refund never clawed back)."""
    body = order(order_id=4721 if first == "payment" else 4722, lines=((50, 2),), email=f"{first}@example.com")
    paid = to_command("orders/paid", body)
    earlier, refunded = (to_command("refunds/create", refund(body, lines={0: (1, amount)})) for amount in (20, 30))

    def batch(command):
        return lambda conn, shop_ref, now: known_orders.record_order_events(conn, shop_ref, [command], now)
    with ctx.engine.begin() as conn:
        batch(earlier)(conn, shop, NOW)
    a, b = (paid, refunded) if first == "payment" else (refunded, paid)
    assert race(ctx, shop, batch(a), batch(b)) == {"second": "committed"}
    s = summary(f"{first}@example.com")
    assert (s["pending"], sorted(e["kind"] for e in s["entries"])) == (50, ["claw_back", "claw_back", "earn"])
