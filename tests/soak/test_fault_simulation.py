"""A seeded stream of shop traffic, delivered as Shopify might (each event 1 to 10 times, shuffled, in
random batches) through the real path: signed POST to the Flask app -> inbox -> process_inbox. After every
batch the ledger's invariants hold; at the end the ledger equals one clean, ordered delivery's and the
story's own arithmetic. `make test` runs a small stream on SQLite and PostgreSQL; `make soak` runs 10,000
events. A failure names its seed: LOYALTY_SIM_SEED=<seed> replays it.
"""
from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from jobs.inbox import process_inbox
from jobs.scheduled import inbox_counts, mature_points
from loyalty.services.context import build_context
from runtime.web import create_app
from tests import simulation as sim
from tests.conftest import Sender, make_config
from tests.fixtures import _new_database


@pytest.fixture(scope="module")
def served_emulator():
    """Shopify's stand-in over HTTP, shared by the module's runs."""
    with sim.emulator_server() as served:
        yield served


@pytest.fixture
def installation(request, database_url, redis_url, redis_client, sqlite_template, tmp_path, served_emulator):
    """`installation(story, batch_size)`: a fresh database of the test's backend with both shops
    installed; returns (ctx, send)."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    contexts = []

    def fresh(story_, batch_size=500):
        config = make_config(_new_database(backend, request, sqlite_template), redis_url, tmp_path,
                             admin_url_template=served_emulator[1], batch_size=batch_size,
                             redis_timeout_seconds=2.0)  # a loaded test machine can be slow to connect
        ctx = build_context(config)
        contexts.append(ctx)
        sim.install(ctx, served_emulator[0], story_)
        return ctx, Sender(create_app(ctx).test_client())
    yield fresh
    for ctx in contexts:
        ctx.engine.dispose()


def deliver_in_order(ctx, send, story_) -> dict:
    """The reference: each event once, in the order it happened; then everything matured."""
    for i, (topic, shop, webhook_id, body) in enumerate(story_.events, 1):
        assert send(topic, body, webhook_id=webhook_id, shop=shop).status_code == 200
        if i % 500 == 0:
            process_inbox(ctx=ctx)
    process_inbox(ctx=ctx)
    mature_points(sim.FAR_FUTURE, ctx)
    with ctx.engine.connect() as conn:
        sim.check_invariants(conn)
        return sim.final_state(conn)


def deliver_like_shopify(ctx, send, story_, rng: random.Random, batch_every: int) -> dict:
    """Duplicated, shuffled deliveries processed at random moments, with maturing and (store B)
    redemptions in between; the invariants checked after every batch. Returns the final state."""
    steps = 0
    for topic, shop, webhook_id, body in sim.deliveries(story_, rng):
        answer = send(topic, body, webhook_id=webhook_id, shop=shop)
        assert answer.status_code == 200 and answer.headers["X-Loyalty-Webhook"] in ("recorded", "duplicate"), \
            answer.headers.get("X-Loyalty-Webhook")
        if rng.random() < 1 / batch_every:
            process_inbox(ctx=ctx)
            steps += 1
            if rng.random() < 0.2:
                mature_points(datetime(2025, rng.randint(1, 12), 1, tzinfo=timezone.utc), ctx)
            if rng.random() < 0.3:
                sim.redeem_some(ctx, rng, datetime.now(timezone.utc))
            with ctx.engine.connect() as conn:
                sim.check_invariants(conn)
    process_inbox(ctx=ctx)
    mature_points(sim.FAR_FUTURE, ctx)
    assert inbox_counts(ctx)["waiting"] == 0 and inbox_counts(ctx)["failed"] == 0, inbox_counts(ctx)
    with ctx.engine.connect() as conn:
        sim.check_invariants(conn)
        return sim.final_state(conn)


def compare(story_, reference: dict, got: dict) -> None:
    """Store A: the same people, balances and order holdings as the reference and as the story's arithmetic.
    Store B (redemptions, floor): every order awarded exactly what the story says, to the right person."""
    a = {k: v for k, v in got["people"].items() if k[0] == sim.STORE_A}
    assert a == {k: v for k, v in reference["people"].items() if k[0] == sim.STORE_A}
    assert a == {(sim.STORE_A, who): (points, 0, points) for who, points in story_.expected(sim.STORE_A).items()}
    orders_a = {k: v for k, v in got["orders"].items() if k[0] == sim.STORE_A}
    assert orders_a == {k: v for k, v in reference["orders"].items() if k[0] == sim.STORE_A}
    assert orders_a == sim.expected_orders(story_, sim.STORE_A)
    awards_b = {k: v[:2] for k, v in got["orders"].items() if k[0] == sim.STORE_B}
    assert awards_b == {k: v[:2] for k, v in sim.expected_orders(story_, sim.STORE_B).items()}


def run_simulation(installation, events: int, batch_every: int) -> None:
    seed = sim.seed_from_env()
    try:
        story_ = sim.story(seed, events)
        reference = deliver_in_order(*installation(story_), story_)
        rng = random.Random(seed)
        got = deliver_like_shopify(*installation(story_, batch_size=rng.choice([7, 50, 500])), story_, rng,
                                   batch_every)
        compare(story_, reference, got)
    except AssertionError as exc:
        raise AssertionError(f"{sim.replay_hint(seed)}: {exc}") from exc


def test_a_shuffled_duplicated_stream_gives_the_ordered_ledger(installation):
    """150 events for two shops, each delivered 1-10 times in random order and batches: invariants after
    every batch; the final ledger equals the ordered delivery's and the story's arithmetic."""
    run_simulation(installation, events=150, batch_every=40)


@pytest.mark.soak
def test_ten_thousand_events_shuffled_and_duplicated(installation):
    """The same with 10,000 events (about 55,000 deliveries)."""
    run_simulation(installation, events=10_000, batch_every=400)
