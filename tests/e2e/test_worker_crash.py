"""A worker killed mid-job loses and doubles nothing; a job lost in Redis is found again by the sweeper.

Real `rq worker --burst` subprocesses against the test database (SQLite and PostgreSQL) and the suite's
Redis. The inbox table is the durable queue: a batch is one transaction, so SIGKILL inside it leaves
nothing committed, and the rows come back once their lease has expired.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
from rq.registry import FailedJobRegistry
from sqlalchemy import create_engine, func, select, text, update

from db.tables import ledger_entries, orders, webhook_inbox as inbox
from loyalty.services.context import INBOX_QUEUE_NAME, QUEUE_NAME
from jobs.scheduled import sweep
from tests.conftest import KEY, SECRET
from tests.factories import order
from tools.local_services import kill_tree
from tests.wakeups import settle_wakeups

ROOT = Path(__file__).resolve().parents[2]
RQ = Path(sys.executable).parent / "rq"
CUSTOMERS = [f"crash{i}@example.com" for i in range(6)]


def send_orders(send, count: int) -> dict[str, int]:
    """Send `count` paid orders spread over CUSTOMERS; returns the points each customer must end with."""
    expected: Counter = Counter()
    for i in range(count):
        email, price = CUSTOMERS[i % len(CUSTOMERS)], 10 + i
        assert send("orders/paid", order(lines=((price, 1),), email=email)).status_code == 200
        expected[email] += price  # 1 point per whole euro of merchandise; shipping does not earn
    return dict(expected)


def worker_env(ctx, tmp_path: Path, **extra: str) -> dict:
    env = dict(os.environ, DATABASE_URL=ctx.engine.url.render_as_string(hide_password=False),
               REDIS_URL=ctx.config.effective_redis_url, LOYALTY_ENCRYPTION_KEYS=KEY,
               SHOPIFY_API_SECRET=SECRET, LOYALTY_VAR_DIR=str(tmp_path))
    env.pop("LOYALTY_TEST_PAUSE_IN_BATCH", None)
    env.pop("LOYALTY_BATCH_SIZE", None)
    env.update(extra)
    return env


def start_worker(ctx, tmp_path: Path, log_name: str, **extra: str) -> tuple[subprocess.Popen, Path]:
    """An rq worker on both queues, inbox first (the Procfile's worker and background lines in one
    process), with `--burst`, in its own session; output goes to a log file under tmp_path."""
    log = tmp_path / log_name
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(RQ), "worker", INBOX_QUEUE_NAME, QUEUE_NAME, "--url", ctx.config.effective_redis_url, "--burst",
                                 "--worker-class", "runtime.worker.PreloadedWorker"],  # as the Procfile runs it
                                cwd=ROOT, env=worker_env(ctx, tmp_path, **extra), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def run_burst(ctx, tmp_path: Path, log_name: str, timeout: float = 60) -> None:
    """A burst worker (no pause) that must drain the queue and exit 0."""
    proc, log = start_worker(ctx, tmp_path, log_name)
    try:
        code = proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            kill_tree(proc)
    assert code == 0, log.read_text(errors="replace")


def inbox_state(conn) -> dict:
    rows = conn.execute(select(inbox.c.processed_at, inbox.c.failed_at, inbox.c.lease_owner,
                               inbox.c.attempts, inbox.c.last_error)).all()
    return {"total": len(rows), "processed": sum(r.processed_at is not None for r in rows),
            "failed": sum(r.failed_at is not None for r in rows),
            "leased": sum(r.lease_owner is not None for r in rows),
            "errors": [r.last_error for r in rows if r.last_error or r.attempts]}


def batch_is_open(observer, database_url: str) -> bool:
    """True when a worker has claimed a batch and holds its transaction open (applied, not committed)."""
    with observer.connect() as conn:
        leased = conn.execute(select(func.count()).select_from(inbox)
                              .where(inbox.c.lease_owner.is_not(None), inbox.c.processed_at.is_(None))).scalar()
        if not leased:
            return False
        if observer.dialect.name == "postgresql":
            # the worker's last statement marked the batch processed and its transaction is still open
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' AND query ILIKE 'UPDATE webhook_inbox SET processed_at%'"
            )).scalar())
    # SQLite: the worker holds the write lock (taken at the batch's BEGIN IMMEDIATE)
    raw = sqlite3.connect(database_url.split("///", 1)[1], timeout=0)
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.rollback()
        return False
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    finally:
        raw.close()


def assert_everything_applied_once(ctx, summary, expected: dict, total: int) -> None:
    with ctx.engine.connect() as conn:
        state = inbox_state(conn)
        earns = conn.execute(select(orders.c.shopify_order_id, func.count(ledger_entries.c.id))
                             .join(orders, orders.c.id == ledger_entries.c.order_id)
                             .where(ledger_entries.c.kind == "earn").group_by(orders.c.shopify_order_id)).all()
        entries = conn.execute(select(func.count()).select_from(ledger_entries)).scalar()
    assert state == {"total": total, "processed": total, "failed": 0, "leased": 0, "errors": []}
    assert len(earns) == total and all(n == 1 for _, n in earns), "every order earns exactly once"
    assert entries == total
    for email, points in expected.items():
        got = summary(email)
        assert (got["pending"], got["lifetime"], got["available"]) == (points, points, 0), email


def test_worker_killed_mid_batch_loses_and_doubles_nothing(ctx, shop, send, summary, tmp_path):
    """SIGKILL while a batch is applied but not committed: nothing of it is committed and its rows wait,
    leased; once the lease has expired the sweeper re-enqueues and a new worker applies every order
    exactly once (balances equal the arithmetic, no failed rows, no duplicate ledger entries)."""
    total = 30
    expected = send_orders(send, total)
    assert ctx.inbox_queue.count == 1, "the webhooks woke one processing job"
    url = ctx.engine.url.render_as_string(hide_password=False)
    observer = create_engine(url)  # plain engine: reads without taking SQLite's write lock
    proc, log = start_worker(ctx, tmp_path, "killed-worker.log", LOYALTY_TEST_PAUSE_IN_BATCH="30",
                             LOYALTY_BATCH_SIZE="10")
    try:
        deadline = time.monotonic() + 15
        while not batch_is_open(observer, url):
            assert proc.poll() is None, f"worker exited early:\n{log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"no open batch:\n{log.read_text(errors='replace')}"
            time.sleep(0.1)
        time.sleep(1.0)  # SQLite gives no finer signal: let the 10 orders be applied inside the transaction
        family = kill_tree(proc)
        assert len(family) >= 2, "the worker and its work-horse were both running"
        assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    finally:
        if proc.poll() is None:
            kill_tree(proc)
        observer.dispose()

    with ctx.engine.connect() as conn:
        state = inbox_state(conn)
        assert conn.execute(select(func.count()).select_from(ledger_entries)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(orders)).scalar() == 0
    # Two batches leased: the one being written, and the next one, claimed and prepared meanwhile.
    assert state == {"total": total, "processed": 0, "failed": 0, "leased": 20, "errors": []}

    # Time passes: the dead worker's lease expires (LEASE = 120 s), then the sweeper runs.
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        expired = conn.execute(update(inbox).where(inbox.c.lease_owner.is_not(None))
                               .values(lease_until=now - timedelta(seconds=1))).rowcount
    assert expired == 20
    assert sweep(ctx, now=now + timedelta(seconds=10)) == total
    run_burst(ctx, tmp_path, "recovery-worker.log")
    assert_everything_applied_once(ctx, summary, expected, total)


def test_job_lost_in_redis_is_recovered_by_the_sweeper(ctx, shop, send, summary, redis_client, tmp_path):
    """Redis loses the wake-up job after the webhooks were recorded: a worker alone finds nothing to do,
    the sweeper (once the rows are older than SWEEP_AFTER) enqueues processing, a burst worker applies
    every order once, and RQ's failed registry stays empty."""

    total = 8
    expected = send_orders(send, total)
    sent_at = datetime.now(timezone.utc)
    settle_wakeups()  # a wake-up the web deferred to the end of its interval is sent before Redis is emptied
    redis_client.flushall()
    assert ctx.inbox_queue.count == 0
    run_burst(ctx, tmp_path, "idle-worker.log")
    with ctx.engine.connect() as conn:
        assert inbox_state(conn)["processed"] == 0, "without a job nothing is processed"

    assert sweep(ctx, now=sent_at) == 0, "fresh deliveries are left to their own wake-up"
    assert ctx.inbox_queue.count == 0
    assert sweep(ctx, now=sent_at + timedelta(seconds=10)) == total
    assert ctx.inbox_queue.count == 1
    run_burst(ctx, tmp_path, "sweep-worker.log")
    assert_everything_applied_once(ctx, summary, expected, total)
    assert ctx.inbox_queue.count == 0
    # The balance write-back job may fail here (no Shopify to reach from the test); inbox processing may not.
    assert FailedJobRegistry(queue=ctx.inbox_queue).get_job_ids() == []
    assert sweep(ctx, now=datetime.now(timezone.utc) + timedelta(seconds=10)) == 0, "nothing left waiting"


def test_a_batch_the_database_refuses_is_given_back_at_once(ctx, shop, send, summary, monkeypatch):
    """When the database refuses a batch's transaction (on SQLite: the write lock not free in time), the job
    fails but its claimed rows are free again at once, not only when their lease runs out."""
    import pytest
    from sqlalchemy.exc import OperationalError

    from jobs import inbox as inbox_job

    expected = send_orders(send, 4)

    def refused(*args, **kwargs):
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    with monkeypatch.context() as patched:
        patched.setattr(inbox_job, "_apply_together", refused)
        with pytest.raises(OperationalError):
            inbox_job.process_inbox(ctx=ctx)
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(inbox.c.lease_owner, inbox.c.lease_until, inbox.c.processed_at)).all()
    assert rows == [(None, None, None)] * 4
    assert inbox_job.process_inbox(ctx=ctx) == 4
    for email, points in expected.items():
        assert summary(email)["available"] + summary(email)["pending"] == points



def test_a_job_that_stops_before_the_inbox_is_empty_queues_its_continuation(ctx, shop, send, redis_client):
    """A job stops after its share (here one batch) with webhooks still waiting: it queues the next job
    itself instead of leaving them to the sweeper."""
    from jobs import inbox as inbox_job

    send_orders(send, 60)
    settle_wakeups()  # a wake-up deferred to the end of the web's interval would queue a job after the emptying
    ctx.inbox_queue.empty()
    redis_client.delete(inbox_job.WAKE_KEY)
    assert inbox_job.process_inbox(max_batches=1, ctx=ctx) == 50  # the first batch of a job is 50 at most
    assert [job.func_name for job in ctx.inbox_queue.jobs] == ["jobs.inbox.process_inbox"]
    assert inbox_job.process_inbox(ctx=ctx) == 10
