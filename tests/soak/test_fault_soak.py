"""The simulated stream (tests/simulation.py) through a whole installation while it is being broken: real
`rq worker` processes SIGKILLed at random moments, Redis restarted (its queued jobs lost), the database
unavailable for seconds (SQLite locked by another connection; PostgreSQL stopped and started). The web
app answers 503 while the database is away and the sender retries, as Shopify does. Once things recover
(the scheduler's sweeper, expired leases), every delivery answered 200 has been applied, none failed, and
the ledger equals the story's arithmetic, to the point.

`make soak` (10,000 events; LOYALTY_SOAK_EVENTS to change); a failure names its seed (LOYALTY_SIM_SEED)."""
from __future__ import annotations

import random
import shutil
import time
from collections import Counter, deque

import pytest
from sqlalchemy import create_engine, select, text

from db.migrate import upgrade
from db.tables import webhook_inbox as inbox
from jobs.scheduled import inbox_counts, mature_points
from loyalty.services.context import build_context
from runtime.web import create_app
from tests import simulation as sim
from tests.conftest import Sender, make_config
from tests.faults import Plant
from tools.local_services import PostgresCluster

pytestmark = pytest.mark.soak


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, sqlite_template, tmp_path):
    """(url, cluster): a migrated database of our own; for PostgreSQL a cluster of its own, to stop."""
    if request.param == "sqlite":
        path = tmp_path / "soak.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}", None
        return
    cluster = PostgresCluster().start()
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE soak"))
    admin.dispose()
    upgrade(cluster.url("soak"))
    yield cluster.url("soak"), cluster
    cluster.stop()


def events_from_env() -> int:
    import os
    return int(os.environ.get("LOYALTY_SOAK_EVENTS", "10000"))


def test_the_stream_survives_killed_workers_lost_redis_and_a_database_outage(database, tmp_path):
    """Two workers and the scheduler run while every event is delivered 1-10 times, shuffled; a worker is
    killed about every 8% of the deliveries, Redis restarts at 30%, the database is away for 4 s at 60%.
    Then: nothing answered 200 is lost, nothing failed, and each person's points are the story's."""
    seed = sim.seed_from_env()
    url, cluster = database
    rng = random.Random(seed)
    story_ = sim.story(seed, events_from_env())
    with sim.emulator_server() as (emulator, admin_url):
        plant = Plant(tmp_path, url, admin_url, cluster).start(workers=2)
        ctx = build_context(make_config(url, plant.redis_url, tmp_path, admin_url_template=admin_url,
                                        redis_timeout_seconds=2.0))
        try:
            sim.install(ctx, emulator, story_)
            send = Sender(create_app(ctx).test_client())
            accepted, answers = deliver_through_faults(plant, send, sim.deliveries(story_, rng), rng)
            wait_until_applied(plant, ctx, timeout=600)
            check_outcome(ctx, story_, accepted)
            print(f"\n{sim.replay_hint(seed)}: {len(story_.events)} events, {sum(answers.values())} POSTs "
                  f"{dict(answers)}, {plant.counts}")
        except AssertionError as exc:
            raise AssertionError(f"{sim.replay_hint(seed)}: {exc}") from exc
        finally:
            plant.stop()
            ctx.engine.dispose()


def deliver_through_faults(plant: Plant, send, deliveries: list, rng: random.Random):
    """POST every delivery (again later when answered 503) while faults happen; returns the webhook ids
    answered 200 `recorded` and a count of the answers."""
    total = len(deliveries)
    kills = set(rng.sample(range(total), max(1, total // 1200))) if total > 20 else {total // 2}
    redis_at, outage_at = int(total * 0.3), int(total * 0.6)
    pending, accepted, answers, sent = deque(deliveries), set(), Counter(), 0
    while pending:
        topic, shop, webhook_id, body = pending.popleft()
        answer = send(topic, body, webhook_id=webhook_id, shop=shop)
        answers[answer.status_code] += 1
        if answer.status_code == 200:
            if answer.headers["X-Loyalty-Webhook"] == "recorded":
                accepted.add(webhook_id)
        else:
            assert answer.status_code == 503, (answer.status_code, answer.headers.get("X-Loyalty-Webhook"))
            pending.append((topic, shop, webhook_id, body))  # Shopify delivers it again later
        sent += 1
        if sent in kills:
            plant.kill_a_worker(rng)
        if sent == redis_at:
            plant.restart_redis(down=2)
        if sent == outage_at:
            plant.database_outage(4)
        if sent % 250 == 0:
            plant.supervise()
    return accepted, answers


def wait_until_applied(plant: Plant, ctx, timeout: float) -> None:
    """Let the workers and the sweeper finish (leases of killed workers expire after LEASE)."""
    deadline = time.monotonic() + timeout
    while True:
        plant.supervise()
        try:
            counts = inbox_counts(ctx)
        except Exception:  # noqa: BLE001 - the database may still be coming back
            counts = None
        if counts is not None and counts["waiting"] == 0:
            return
        assert time.monotonic() < deadline, f"still waiting after {timeout} s: {counts}"
        time.sleep(2)


def check_outcome(ctx, story_, accepted: set) -> None:
    """Every accepted delivery applied, none failed; invariants; each person's points as the story says."""
    with ctx.engine.connect() as conn:
        rows = {r.webhook_id: r for r in conn.execute(select(inbox.c.webhook_id, inbox.c.processed_at,
                                                             inbox.c.failed_at, inbox.c.last_error))}
    missing = accepted - set(rows)
    assert not missing, f"{len(missing)} deliveries answered 200 are not in the inbox"
    failed = [r for r in rows.values() if r.failed_at is not None or r.processed_at is None]
    assert not failed, f"{len(failed)} not applied, e.g. {failed[:3]}"
    mature_points(sim.FAR_FUTURE, ctx)
    with ctx.engine.connect() as conn:
        sim.check_invariants(conn)
        state = sim.final_state(conn)
    for shop in sim.SHOPS:  # orders first: a wrong balance then names the order (and so the events) at fault
        got_orders = {k: v for k, v in state["orders"].items() if k[0] == shop}
        expected_orders = sim.expected_orders(story_, shop)
        assert got_orders == expected_orders, (shop, {k: (got_orders.get(k), expected_orders.get(k)) for k in
                                                      set(got_orders) | set(expected_orders)
                                                      if got_orders.get(k) != expected_orders.get(k)})
        people = {who: v for (s, who), v in state["people"].items() if s == shop}
        assert people == {who: (p, 0, p) for who, p in story_.expected(shop).items()}, shop
