"""Short outages in the middle of a stream, in the normal suite (the long version with real workers being
killed is tests/soak/test_fault_soak.py, `make soak`): Redis restarted with its queued job lost, and the
database unavailable for a moment (SQLite: locked by another connection; PostgreSQL: the database refusing
connections, its sessions terminated). The web app answers 503 meanwhile, the sender retries as Shopify
does, the worker's job fails; once the sweeper has run, nothing answered 200 is lost and the points are
the story's."""
from __future__ import annotations

import random
import sqlite3
from collections import deque
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from jobs.inbox import process_inbox
from jobs.scheduled import inbox_counts, sweep
from loyalty.services.context import build_context
from tools.embedded_redis import start_redis
from runtime.web import create_app
from tests import simulation as sim
from tests.conftest import Sender, make_config
from tests.soak.test_fault_soak import check_outcome


@pytest.fixture(scope="module")
def served_emulator():
    with sim.emulator_server() as served:
        yield served


@contextmanager
def database_unavailable(url: str):
    """The database refuses work until the block ends."""
    if url.startswith("sqlite"):
        raw = sqlite3.connect(url.split("///", 1)[1], timeout=10, isolation_level=None)
        raw.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        return
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        try:
            yield
        finally:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    admin.dispose()


def test_a_redis_restart_and_a_database_outage_lose_nothing(database_url, tmp_path, served_emulator):
    """80 events delivered 1-3 times; Redis restarted after a third (the queued job gone), the database
    away for a while after two thirds. Afterwards the sweeper re-enqueues, and every delivery answered 200
    is applied once; the ledger is the story's."""
    seed = sim.seed_from_env()
    rng = random.Random(seed)
    story_ = sim.story(seed, 80)
    redis_process, redis_url = start_redis(tmp_path / "redis", persistent=False)
    ctx = build_context(make_config(database_url, redis_url, tmp_path, admin_url_template=served_emulator[1],
                                     redis_timeout_seconds=2.0))  # a loaded test machine is slow to connect
    try:
        sim.install(ctx, served_emulator[0], story_)
        send = Sender(create_app(ctx).test_client())
        deliveries = deque(sim.deliveries(story_, rng, max_copies=3))
        total, sent, accepted = len(deliveries), 0, set()
        while deliveries:
            topic, shop, webhook_id, body = item = deliveries.popleft()
            answer = send(topic, body, webhook_id=webhook_id, shop=shop)
            sent += 1
            assert answer.status_code == 200, answer.headers.get("X-Loyalty-Webhook")
            if answer.headers["X-Loyalty-Webhook"] == "recorded":
                accepted.add(webhook_id)
            if sent == total // 3:
                process_inbox(ctx=ctx)
                redis_process.terminate()
                redis_process.wait(10)
                redis_process, _ = start_redis(tmp_path / "redis", persistent=False)
                assert ctx.inbox_queue.count == 0, "the restart lost the queued wake-up"
            if sent == 2 * total // 3:
                with database_unavailable(database_url):
                    for _ in range(2):
                        topic, shop, webhook_id, body = item = deliveries.popleft()
                        assert send(topic, body, webhook_id=webhook_id, shop=shop).status_code == 503
                        deliveries.append(item)  # Shopify delivers it again later
                    with pytest.raises(OperationalError):
                        process_inbox(ctx=ctx)  # the worker's job fails; its rows stay in the inbox
                ctx.engine.dispose()  # connections the outage killed
        later = datetime.now(timezone.utc) + timedelta(seconds=10)
        assert sweep(ctx, now=later) > 0 and ctx.inbox_queue.count >= 1
        process_inbox(ctx=ctx)
        assert inbox_counts(ctx)["waiting"] == 0
        check_outcome(ctx, story_, accepted)
    except AssertionError as exc:
        raise AssertionError(f"{sim.replay_hint(seed)}: {exc}") from exc
    finally:
        ctx.engine.dispose()
        redis_process.terminate()
        redis_process.wait(10)
