"""The Shopify API budget: a burst of balance changes written back as customer metafields by a real
`rq worker`, against the Admin API emulator run as its own process (`python -m tools.shopify_emulator`)
with Shopify's leaky bucket (restore rate set high enough for a short run, low enough to be the limit).

Figures: throttled answers and failed calls (target: no failure), and the share of the bucket's restore
rate actually spent while work was waiting (the emulator's own accounting; target ≥ 90%).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

import requests
from sqlalchemy import func, insert, select

from tools.bench.report import Figure
from tools.bench.stack import SHOP, Emulator, PeakRss, Stack, seed
from db.engine import reading
from db.tables import customer_sync, customers, ledger_entries
from loyalty.services.wakeups import wake_sync

RESTORE_RATE = 300.0
"""Points per second the emulated bucket refills (Shopify: 100 standard, 1,000 Plus). Set below what one
sync job can spend here (~430 points/s: ~43 metafieldsSet calls/s), so the budget is the limit, as the
figure needs, and the run stays short (~40 s)."""
MAXIMUM = 1000.0
"""Bucket size."""


def run(options) -> list[Figure]:
    """Measure, and return the figures with their targets."""
    count = options.syncs
    with Emulator(restore_rate=RESTORE_RATE, maximum=MAXIMUM) as base:
        # Calls, not a bulk mutation (which a burst this size would start: the `writeback` benchmark
        # measures that path): what is measured is how much of the bucket the calls use.
        with Stack(SHOPIFY_ADMIN_URL=f"{base}/{{shop}}", LOYALTY_BULK_WRITE_THRESHOLD=str(count + 1)) as stack:
            seed(base, "customers", [{"id": 800_000 + n} for n in range(count)])
            record_balance_changes(stack, count)
            stack.start_workers(1)
            with PeakRss({"worker": stack.root_pids("worker")}) as rss:
                started = time.monotonic()
                wake_sync(stack.ctx)  # as the inbox job queues it: one-second slices, each queuing the next
                waiting = wait_for_sync(stack, timeout=600)
                seconds = time.monotonic() - started
            failed_jobs = stack.ctx.queue.failed_job_registry.count
            stats = requests.get(f"{base}/_emulator/{SHOP}/state", timeout=30).json()["stats"]
    calls, throttled = stats["served"], stats["throttled"]
    utilisation = stats["utilisation"]
    return [
        Figure(f"Shopify burst: {count:,} balance changes written as metafields",
               f"{seconds:.1f} s, {calls:,} metafieldsSet calls, {count - waiting:,} customers written",
               "all written", waiting == 0,
               note=f"emulator bucket {MAXIMUM:,.0f} points, restore {RESTORE_RATE:,.0f}/s; 1 rq worker; "
                    "per-customer calls (bulk writes off: see `writeback`)"),
        Figure("Shopify burst: throttling failures", f"{failed_jobs} failed jobs, {throttled} THROTTLED answers",
               "0 failures", failed_jobs == 0 and waiting == 0,
               note="a THROTTLED answer is waited out; a failure is a job that gave up"),
        Figure("Shopify burst: restore rate used while work waits", f"{utilisation:.0%}", "≥ 90%",
               utilisation >= 0.9, note=f"points spent / (bucket + restore rate x {stats['window_seconds']:.1f} s)"),
        Figure("peak RSS, worker during the Shopify burst", f"{rss.mib('worker'):,.0f} MiB"),
    ]


def record_balance_changes(stack, count: int) -> None:
    """`count` customers each get one balance change (an adjustment), marked for write-back as the ledger
    marks every change (the same rows `ledger.write_entry` writes)."""
    now = datetime.now(timezone.utc)
    shop_id = stack.shop.id
    with stack.ctx.engine.begin() as conn:
        conn.execute(insert(customers), [dict(shop_id=shop_id, shopify_customer_id=800_000 + n,
                                              email=f"s{n}@example.com", created_at=now) for n in range(count)])
        ids = conn.execute(select(customers.c.id).where(customers.c.shop_id == shop_id)).scalars().all()
        conn.execute(insert(ledger_entries), [dict(
            shop_id=shop_id, customer_id=cid, kind="adjust", pending=0, available=100 + cid % 50,
            reason="bench: balance change", idempotency_key=f"bench:{cid}", effective_at=now, created_at=now)
            for cid in ids])
        conn.execute(insert(customer_sync), [dict(customer_id=cid, shop_id=shop_id, changed_at=now) for cid in ids])


def wait_for_sync(stack, timeout: float) -> int:
    """Wait until no balance waits to be written (or the worker is idle with work left); returns how many
    are still waiting."""
    deadline = time.monotonic() + timeout
    while True:
        with reading(stack.ctx.engine) as conn:
            waiting = conn.execute(select(func.count()).select_from(customer_sync)).scalar()
        idle = stack.ctx.queue.count == 0 and not stack.ctx.queue.started_job_registry.count
        if waiting == 0 or time.monotonic() > deadline or (idle and _settled(stack)):
            return waiting
        time.sleep(0.25)


def _settled(stack) -> bool:
    time.sleep(1.0)
    return stack.ctx.queue.count == 0 and not stack.ctx.queue.started_job_registry.count
