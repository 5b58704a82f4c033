"""Writing balances back after a big history import, both ways: by metafieldsSet calls (25 metafields each,
inside the shop's GraphQL budget) and by bulk mutation (jobs.bulk_sync), against the Admin API emulator at a
standard plan's rate (the emulator's bucket: 2,000 points, restore 100 points/s).

Real code throughout: the sync job (jobs.sync.sync_balances) on a migrated SQLite database with Redis, the
app's AdminClient and RedisThrottle, and the emulator's executor and bucket, in one process over an
in-process WSGI transport. Time on Shopify's side is virtual: the client's and the throttle's sleeps advance
the clock the emulator's bucket reads, so hours of rate limit take seconds; the figures are that simulated
time plus the real CPU the app and the emulator spent.

`--writeback-customers N` customers are written each way (default 5,000), then the figures are scaled to
1,000,000 where the cost is exactly linear: points spent and calls made (5 metafields per customer, 25 per
call, 10 points per mutation; one bulk mutation per MAX_BYTES of JSONL, each costing the same requests), and
the rate-limited time (each call beyond the first full bucket waits for its 10 points at the restore rate).
CPU time is scaled per customer, which is linear up to the database's B-tree depth (stated as such).
The time Shopify takes to run a bulk mutation is not published and not modelled (the emulator runs it at
its own CPU speed); it is reported as the emulator's CPU time.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import func, insert, select

from tools.bench.report import Figure
from tools.bench.shopify_budget import record_balance_changes
from tools.bench.stack import SHOP, Stack
from db.tables import customer_sync, customers
from integrations.shopify.client import AdminClient
from tools.shopify_emulator import Emulator
from integrations.shopify.throttle import RedisThrottle
from jobs import bulk_sync
from jobs.sync import sync_balances

TARGET = 1_000_000
"""Balances the figures are stated for."""
METAFIELDS_PER_CUSTOMER = 5
PER_CALL = 25
MUTATION_COST = 10


class VirtualClock:
    """Epoch seconds that move only when something sleeps."""

    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += max(0.0, seconds)


def run(options) -> list[Figure]:
    """Measure both ways on the sample, scale, and return the figures."""
    count = options.writeback_customers
    with Stack() as stack:
        record_balance_changes(stack, count)
        calls = measure(stack, count, bulk=False)
        mark_all_waiting(stack)
        bulk = measure(stack, count, bulk=True)
    return figures(count, calls, bulk)


def measure(stack, count: int, bulk: bool) -> dict:
    """Write every waiting balance with the sync job against a fresh emulator; what it took."""
    clock = VirtualClock()
    emulator = Emulator(clock=clock)
    token = emulator.add_shop(SHOP, "bench-token")
    for n in range(count):
        emulator.add_customer(SHOP, 800_000 + n)
    _ = emulator.schema  # built once (Shopify's schema takes ~2 s), not part of the figure
    from tools.wsgi_adapter import wsgi_session

    session = wsgi_session(emulator.app)
    throttle = RedisThrottle(stack.ctx.redis, sleep=clock.sleep, clock=clock)
    stack.ctx.redis.delete(f"loyalty:gqlbudget:{SHOP}")

    def factory(ctx, shop, conn):
        return AdminClient(shop.domain, token, admin_url_template="http://shopify.test/{shop}", session=session,
                           sleep=clock.sleep, throttle=throttle)

    with threshold(1 if bulk else 10**12):
        started_clock, started_cpu, started_wall = clock(), time.process_time(), time.monotonic()
        while waiting(stack):
            sync_balances(stack.ctx, client_factory=factory)
        cpu, wall = time.process_time() - started_cpu, time.monotonic() - started_wall
    stats = emulator.stats(SHOP)
    sample_id = 800_000 + count - 1
    assert emulator.metafields(SHOP, sample_id)["loyalty.available"]["value"], "balances were not written"
    return {"shopify_seconds": clock() - started_clock, "cpu": cpu, "wall": wall, "requests": stats["served"],
            "throttled": stats["throttled"], "points": stats["actual_cost"],
            "operations": len(emulator.bulk_operations(SHOP, "MUTATION")),
            "bytes": _jsonl_bytes(stack) if bulk else 0, "restore": stats["throttle_status"]["restoreRate"],
            "maximum": stats["throttle_status"]["maximumAvailable"]}


@contextmanager
def threshold(value: int):
    """Bulk writes from `value` waiting customers on, for this measurement only."""
    before = bulk_sync.THRESHOLD
    bulk_sync.THRESHOLD = value
    try:
        yield
    finally:
        bulk_sync.THRESHOLD = before


def waiting(stack) -> int:
    with stack.ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(customer_sync)).scalar()


def mark_all_waiting(stack) -> None:
    """Every customer waits to be written again (as after the import)."""
    now = datetime.now(timezone.utc)
    with stack.ctx.engine.begin() as conn:
        ids = conn.execute(select(customers.c.id).where(customers.c.shop_id == stack.shop.id)).scalars().all()
        conn.execute(insert(customer_sync), [dict(customer_id=cid, shop_id=stack.shop.id, changed_at=now)
                                             for cid in ids])


def _jsonl_bytes(stack) -> int:
    """Bytes of JSONL the bulk writes staged."""
    from db.tables import bulk_writes

    with stack.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.sum(bulk_writes.c.bytes))).scalar() or 0)


def figures(count: int, calls: dict, bulk: dict) -> list[Figure]:
    """Both ways for `count` customers, and stated for TARGET."""
    scale = TARGET / count
    calls_needed = math.ceil(TARGET * METAFIELDS_PER_CUSTOMER / PER_CALL)
    sample_calls = math.ceil(count * METAFIELDS_PER_CUSTOMER / PER_CALL)
    burst = calls["maximum"] / MUTATION_COST  # calls the full bucket pays for at once
    # Rate-limited time is linear in the calls beyond the first bucket: each waits 10 points / restore rate.
    shopify_calls = max(0.0, calls_needed - burst) * MUTATION_COST / calls["restore"]
    operations = max(1, math.ceil(TARGET * (bulk["bytes"] / count) / bulk_sync.MAX_BYTES))
    bulk_points = bulk["points"] / bulk["operations"] * operations
    sample = f"measured on {count:,} customers" + ("" if count == TARGET else f", scaled x{scale:,.0f}")
    return [
        Figure(f"write-back of {TARGET:,} balances by metafieldsSet calls: Shopify-side time",
               f"{_hours(shopify_calls)} ({calls_needed:,} calls, {calls_needed * MUTATION_COST:,} points)", "",
               None, note=f"rate limit: bucket {calls['maximum']:,.0f}, restore {calls['restore']:,.0f} points/s "
                          f"(standard plan); sample: {sample_calls:,} calls took {_hours(calls['shopify_seconds'])} "
                          f"simulated ({calls['throttled']:,} THROTTLED); at 50 points/s: "
                          f"{_hours(shopify_calls * calls['restore'] / 50)}"),
        Figure(f"write-back of {TARGET:,} balances by metafieldsSet calls: CPU (app + emulator)",
               f"{calls['cpu'] * scale:,.0f} s", "", None,
               note=f"{sample}; {calls['cpu'] / count * 1e6:,.0f} µs per customer; wall {calls['wall']:.1f} s"),
        Figure(f"write-back of {TARGET:,} balances by bulk mutation: Shopify-side cost",
               f"{operations:,} operations, {bulk_points:,.0f} points", "", None,
               note=f"{bulk['bytes'] / count:,.0f} bytes of JSONL per customer, "
                    f"{bulk_sync.MAX_BYTES / 2**20:,.0f} MiB per operation; sample: {bulk['operations']} operation(s), "
                    f"{bulk['requests']} requests, {bulk['points']:,} points, "
                    f"{bulk['shopify_seconds']:.1f} s rate-limit wait"),
        Figure(f"write-back of {TARGET:,} balances by bulk mutation: CPU (app + emulator running the lines)",
               f"{bulk['cpu'] * scale:,.0f} s", "", None,
               note=f"{sample}; {bulk['cpu'] / count * 1e6:,.0f} µs per customer; wall {bulk['wall']:.1f} s; "
                    "Shopify's own run time of a bulk mutation is not published, not modelled"),
    ]


def _hours(seconds: float) -> str:
    """`2 h 47 min` or `12.3 s`."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
