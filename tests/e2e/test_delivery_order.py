"""Duplicated, late and out-of-order deliveries give the same ledger as one clean, ordered delivery."""
from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.factories import cancelled, customer, order, refund


def stream():
    """A realistic little story: two customers, a guest order later linked, refunds and a cancellation."""
    a1 = order(order_id=1001, lines=((30, 2), (15, 1)), email="ann@example.com", customer_id=71)
    a2 = order(order_id=1002, lines=((99.90, 1),), email="ann@example.com", customer_id=71, source_name="pos")
    guest = order(order_id=1003, lines=((20, 1),), email="Bob@Example.com")
    b1 = order(order_id=1004, lines=((12.5, 4),), email="bob@example.com", customer_id=72)
    return [
        ("orders/paid", a1), ("refunds/create", refund(a1, refund_id=9001, lines={0: (1, 30)})),
        ("orders/paid", a2), ("orders/paid", guest), ("customers/create", customer(72, "bob@example.com")),
        ("orders/paid", b1), ("refunds/create", refund(b1, refund_id=9002, lines={0: (2, 25)},
                                                       created_at="2025-03-04T00:00:00+00:00")),
        ("refunds/create", refund(b1, refund_id=9003, lines={0: (1, 12.5)},
                                  created_at="2025-03-06T00:00:00+00:00")),
        ("orders/cancelled", cancelled(a2)),
    ]


def ledger_state(summary):
    """What must not depend on delivery: each customer's balances and the orders' net points."""
    state = {}
    for who in ("ann@example.com", "bob@example.com"):
        s = summary(who)
        per_order = {}
        for e in s["entries"]:
            per_order[e["order"]] = per_order.get(e["order"], 0) + e["points"]
        state[who] = (s["available"], s["pending"], s["lifetime"], per_order)
    return state


def deliver(send, events, process, batches=1):
    for i, (topic, body) in enumerate(events):
        send(topic, body, webhook_id=f"{topic}:{body['id']}")
        if batches > 1 and i % batches == 0:
            process()
    process()


def test_clean_delivery_gives_the_expected_ledger(send, process, summary):
    """The reference: what one ordered delivery produces."""
    deliver(send, stream(), process)
    state = ledger_state(summary)
    assert state["ann@example.com"][:3] == (0, 45, 45)      # 75 - 30 refunded; order 1002 cancelled
    assert state["bob@example.com"][:3] == (0, 32, 32)      # guest 20 + (50 - 25 - 13): keeps 12 of 50


def test_each_event_delivered_ten_times_counts_once(send, process, summary, ctx):
    """Ten deliveries of every event (Shopify retries) give the same ledger; each is stored once."""
    deliver(send, stream(), process)
    reference = ledger_state(summary)
    for _ in range(9):
        for topic, body in stream():
            assert send(topic, body, webhook_id=f"{topic}:{body['id']}").headers["X-Loyalty-Webhook"] == "duplicate"
    assert process() == 0
    assert ledger_state(summary) == reference


def test_redelivery_with_new_webhook_ids_still_counts_once(send, process, summary):
    """Even re-sent events (new ids, e.g. after a replay) are no-ops thanks to the business keys."""
    deliver(send, stream(), process)
    reference = ledger_state(summary)
    for topic, body in stream():
        send(topic, body)
    process()
    assert ledger_state(summary) == reference


def test_refund_arriving_before_its_order(send, process, summary):
    """A refund first, then its order: the same points as the other way round."""
    body = order(order_id=2001, lines=((50, 2),))
    send("refunds/create", refund(body, refund_id=9100, lines={0: (1, 50)}))
    process()
    send("orders/paid", body)
    process()
    s = summary("alice@example.com")
    assert (s["pending"], s["lifetime"]) == (50, 50)
    assert [e["kind"] for e in s["entries"]] == ["earn", "claw_back"]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_any_order_any_duplication_same_ledger(ctx_factory, seed):
    """Random order and 1-3 copies of each event, processed in random batches: same ledger as clean.
    (A failure prints the seed.)"""
    rng = random.Random(seed)
    with ctx_factory() as (send, process, summary):
        deliver(send, stream(), process)
        reference = ledger_state(summary)
    with ctx_factory() as (send, process, summary):
        events = [e for e in stream() for _ in range(rng.randint(1, 3))]
        rng.shuffle(events)
        for i, (topic, body) in enumerate(events):
            send(topic, body, webhook_id=f"{topic}:{body['id']}:{rng.randint(0, 1)}")
            if rng.random() < 0.3:
                process()
        process()
        assert ledger_state(summary) == reference, f"seed {seed}"
