"""Several workers share the inbox on PostgreSQL: a backlog larger than a batch queues a job for another
worker, concurrent claims take different rows, and every order is credited exactly once.

The two "workers" are two threads running the job function (jobs.inbox.process_inbox) on the test database,
as two `rq worker` processes would; LOYALTY_TEST_PAUSE_IN_BATCH holds each batch's transaction open a
moment, so the first job is still applying its first batch when the second one starts.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from db.tables import customers, ledger_entries as entries, webhook_inbox as inbox
from jobs.inbox import WAKE_KEY, claim, process_inbox
from tests.factories import order
from tests.wakeups import settle_wakeups

ORDERS = 120
"""More than the first batch (50 rows) of a job."""


def record_backlog(ctx, send) -> int:
    """Send ORDERS paid orders, then leave no job queued: the test wakes the workers itself. Returns the
    points they must credit in all."""
    points = 0
    for i in range(ORDERS):
        assert send("orders/paid", order(lines=((10 + i, 1),), email=f"scale{i % 7}@example.com")).status_code == 200
        points += 10 + i  # 1 point per whole unit of merchandise
    settle_wakeups()
    ctx.inbox_queue.empty()
    ctx.redis.delete(WAKE_KEY)
    return points


def inbox_jobs_queued(ctx) -> int:
    return sum(1 for job in ctx.inbox_queue.get_jobs() if job.func_name == "jobs.inbox.process_inbox")


def assert_credited_once(ctx, points: int) -> None:
    """Every order has exactly one earn entry, and the points add up."""
    with ctx.engine.connect() as conn:
        per_order = Counter(conn.execute(select(entries.c.order_id).where(entries.c.kind == "earn")).scalars())
        total = conn.execute(select(func.sum(entries.c.pending)).where(entries.c.kind == "earn")).scalar()
        waiting = conn.execute(select(func.count()).select_from(inbox).where(inbox.c.processed_at.is_(None))).scalar()
    assert len(per_order) == ORDERS and set(per_order.values()) == {1}
    assert total == points
    assert waiting == 0


def test_a_backlog_larger_than_a_batch_is_shared_by_two_workers(ctx, shop, send, database_url, monkeypatch):
    points = record_backlog(ctx, send)
    monkeypatch.setenv("LOYALTY_TEST_PAUSE_IN_BATCH", "0.3")
    first: dict[str, int] = {}
    worker = threading.Thread(target=lambda: first.update(done=process_inbox(ctx=ctx)))
    worker.start()
    if database_url.startswith("sqlite"):  # one writer: a second worker would only queue for the lock
        worker.join()
        assert first["done"] == ORDERS and inbox_jobs_queued(ctx) == 0
    else:
        deadline = time.monotonic() + 10
        while not inbox_jobs_queued(ctx):  # the first job asks for help once its first batch is full
            assert time.monotonic() < deadline and worker.is_alive(), "no job was queued for a second worker"
            time.sleep(0.01)
        second = process_inbox(ctx=ctx)  # the second worker runs the queued job meanwhile
        worker.join()
        assert first["done"] > 0 and second > 0
        assert first["done"] + second == ORDERS
    assert_credited_once(ctx, points)


def test_claims_at_the_same_moment_take_different_rows(ctx, shop, send, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: two claims cannot overlap")
    record_backlog(ctx, send)
    claimed: dict[str, list] = {}
    with ctx.engine.connect() as other:
        held = other.begin()  # another worker in the middle of its claim: the first 10 rows locked
        locked = other.execute(select(inbox.c.id).order_by(inbox.c.id).limit(10).with_for_update()).scalars().all()

        def claim_meanwhile():
            try:
                claimed["rows"] = claim(ctx, "b", datetime.now(timezone.utc), 10)
            except Exception as exc:  # noqa: BLE001 - e.g. the lock timeout: reported by the assertion below
                claimed["error"] = exc
        claimer = threading.Thread(target=claim_meanwhile)
        claimer.start()
        claimer.join(timeout=10)
        waited = claimer.is_alive()
        held.rollback()
    claimer.join()
    assert not waited and "error" not in claimed, \
        f"the claim waited for the other worker's rows instead of taking the next ones ({claimed.get('error')})"
    with ctx.engine.connect() as conn:
        following = conn.execute(select(inbox.c.id).where(inbox.c.id > max(locked)).order_by(inbox.c.id)
                                 .limit(10)).scalars().all()
    assert [row.id for row in claimed["rows"]] == following


def test_two_batches_creating_the_same_new_customer_share_one_record(ctx, shop, database_url):
    """Two workers' batches both meet a buyer nobody knows yet: the second waits for the first's row and
    uses it (before, it failed on the unique email and its webhook went back to wait for a retry)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: the second batch cannot start before the first commits")
    from loyalty.services.history import Customers

    now = datetime.now(timezone.utc)
    second: dict = {}
    with ctx.engine.connect() as first_conn:
        first = first_conn.begin()
        mine = Customers(first_conn, shop.id, now)
        mine.prefetch([(4242, "new.buyer@example.com")])
        created = mine.resolve(4242, "new.buyer@example.com")

        def other_batch():
            try:
                with ctx.engine.begin() as conn:
                    theirs = Customers(conn, shop.id, now)
                    theirs.prefetch([(4242, "new.buyer@example.com")])
                    second["id"] = theirs.resolve(4242, "new.buyer@example.com")
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                second["error"] = exc
        other = threading.Thread(target=other_batch)
        other.start()
        deadline = time.monotonic() + 10
        while not waiting_on_a_lock(ctx.engine):  # the other batch's insert waits for our uncommitted row
            assert time.monotonic() < deadline and other.is_alive(), f"the other batch did not wait: {second}"
            time.sleep(0.01)
        first.commit()
    other.join(timeout=30)
    assert second == {"id": created}
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(customers).where(customers.c.shop_id == shop.id)).scalar() == 1


def waiting_on_a_lock(engine) -> bool:
    """Whether a session of this database waits for a lock (asked in a transaction of its own: a
    transaction sees pg_stat_activity as it was at its first look)."""
    with engine.connect() as conn:
        return bool(conn.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                         " AND wait_event_type = 'Lock'").scalar())
