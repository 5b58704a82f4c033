"""Scale-out on PostgreSQL: the same real-shaped backlog drained by 1, 2 and 4 `rq worker` processes.

For each worker count a fresh database on one PostgreSQL cluster (its own, durable: fsync and synchronous
commits as in production, unless DATABASE_URL names a PostgreSQL server) is given the same recorded
webhooks (tools.bench.payloads, `--scale-orders` of them), then the workers (the Procfile's worker line) are
started, waited for, woken once and timed until the inbox is empty. Reported per count:

- orders/s and the speed-up against 1 worker;
- the same run's raw baseline (tools.bench.raw_writes through psycopg, measured before each drain) and the
  ratio of the pipeline to it;
- the checks: no double credit (every order's ledger entries, their count and points, equal those of the
  1-worker run, and there are as many orders as the mix holds), no webhook failed or retried, no deadlock or
  serialization failure in the worker logs or PostgreSQL's log; and that the wake-ups reached every worker
  (rq's count of jobs done per worker);
- where the time went: CPU seconds per role (workers with their work horses, PostgreSQL, the Admin API
  emulator, the rest of the machine) divided by the drain's wall time, i.e. cores busy.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import psutil
from sqlalchemy import func, select

from db.tables import ledger_entries as entries, orders, webhook_inbox as inbox
from db.engine import make_engine, reading
from loyalty.services.context import INBOX_QUEUE_NAME
from loyalty.services.wakeups import wake_worker
from tools.bench import raw_writes
from tools.bench.payloads import deliveries
from tools.bench.pipeline import PLUS_MAXIMUM, PLUS_RESTORE_RATE, backlog, record_now, seed_emulator
from tools.bench.report import Figure
from tools.bench.stack import SHOP, CpuSplit, Emulator, Stack, postgres_databases

WORKER_COUNTS = (1, 2, 4)
TROUBLE = re.compile(r"deadlock|could not serialize|SerializationFailure|DeadlockDetected|LockNotAvailable",
                     re.IGNORECASE)
"""What a worker or PostgreSQL logs when concurrent batches collide."""


def run(options) -> list[Figure]:
    """Drain the backlog with each worker count; return the figures."""
    count = getattr(options, "scale_orders", None) or 6_000
    print(f"   building {count:,} real-shaped payloads", flush=True)
    mix = deliveries("real", count, 80_000_000, SHOP)
    results = []
    emulator = Emulator(PLUS_RESTORE_RATE, PLUS_MAXIMUM)  # as the pipeline bench: a shop this busy is on Plus
    with postgres_databases() as (new_database, pg_log), emulator as base:
        seed_emulator(base, (mix,))
        roles = {"postgresql": postgres_roots(pg_log), "emulator": [emulator.process.pid]}
        for workers in WORKER_COUNTS:
            print(f"   draining {count:,} webhooks with {workers} rq worker(s)", flush=True)
            results.append(drain(new_database(), workers, mix, base, roles, pg_log))
    return figures(mix, results)




def drain(database_url: str, workers: int, mix, emulator: str, roles: dict, pg_log: Path | None) -> dict:
    """One worker count on a fresh database: raw baseline, then the timed drain; what it measured."""
    with Stack(database_url, SHOPIFY_ADMIN_URL=f"{emulator}/{{shop}}") as stack:
        raw = raw_writes.measure(database_url, mix.deliveries, SHOP)
        feeder = make_engine(database_url, timeout_seconds=30)
        record_now(feeder, mix.deliveries)
        feeder.dispose()
        stack.start_workers(workers)
        wait_for_workers(stack.redis_url, workers + 1)  # and the background worker
        pg_log_start = pg_log.stat().st_size if pg_log else 0
        with CpuSplit({"workers": stack.root_pids("worker"), "background": stack.root_pids("background"), **roles,
                       "redis": [stack.redis_process.pid]}) as cpu:
            started, in_flight = time.monotonic(), []
            wake_worker(stack.ctx)
            while backlog(stack):
                if time.monotonic() - started > 900:
                    raise RuntimeError(f"the workers did not drain the inbox in time; see {stack.work}/worker.log")
                in_flight.append(batches_in_flight(stack))
                time.sleep(0.05)
            seconds = time.monotonic() - started
        wait_until_idle(stack.ctx.queue)  # the write-back jobs the drain queued run too before the logs are read
        trouble = trouble_lines((stack.work / "worker.log").read_text(errors="replace"))
        if pg_log:
            with pg_log.open(errors="replace") as log:
                log.seek(pg_log_start)
                trouble += trouble_lines(log.read())
        return {"workers": workers, "seconds": seconds, "rate": len(mix.deliveries) / seconds,
                "orders_in": len(mix.deliveries),
                "raw": raw.per_second, "cpu": cpu.cores_busy(seconds), "jobs": jobs_per_worker(stack.redis_url),
                "ledger": ledger_by_order(stack), "orders": order_count(stack), "retried": retried(stack),
                "trouble": trouble, "in_flight": in_flight}


def trouble_lines(log: str) -> list[str]:
    """The lines of a log that tell of a deadlock or a serialization failure, each with the statement
    PostgreSQL names after it (its STATEMENT line), if any."""
    lines, found = log.splitlines(), []
    for n, line in enumerate(lines):
        if TROUBLE.search(line) and "STATEMENT" not in line and not line.startswith("sqlalchemy.exc"):
            where = next((s.split(marker, 1)[1].strip()[:120] for s in lines[n + 1:n + 8]
                          for marker in ("STATEMENT:", "CONTEXT:") if marker in s), "")
            found.append(f"{line.strip()[-40:]}{f' ({where})' if where else ''}")
    return found


def wait_for_workers(redis_url: str, count: int, timeout: float = 60) -> None:
    """Block until `count` rq workers have registered (so the timing starts with every worker ready)."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while Worker.count(connection=connection) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} rq workers did not start")
        time.sleep(0.1)
    connection.close()


def wait_until_idle(queue, timeout: float = 60) -> None:
    """Block until no job of `queue` waits or runs (or `timeout`: a slow write-back is not the drain's
    business)."""
    deadline = time.monotonic() + timeout
    while (queue.count or queue.started_job_registry.count) and time.monotonic() < deadline:
        time.sleep(0.2)


def jobs_per_worker(redis_url: str) -> list[int]:
    """Jobs each inbox worker finished, most first: more than one non-zero means the wake-ups were shared."""
    from redis import Redis
    from rq import Queue, Worker

    connection = Redis.from_url(redis_url)
    inbox = Queue(INBOX_QUEUE_NAME, connection=connection)
    counts = sorted((w.successful_job_count + w.failed_job_count for w in Worker.all(queue=inbox)), reverse=True)
    connection.close()
    return counts


def ledger_by_order(stack) -> dict[int, tuple[int, int, int]]:
    """Shopify order id -> (ledger entries, pending points, available points) of that order."""
    query = (select(orders.c.shopify_order_id, func.count(entries.c.id), func.coalesce(func.sum(entries.c.pending), 0),
                    func.coalesce(func.sum(entries.c.available), 0))
             .select_from(orders.outerjoin(entries, entries.c.order_id == orders.c.id))
             .group_by(orders.c.shopify_order_id))
    with reading(stack.ctx.engine) as conn:
        return {row[0]: tuple(row[1:]) for row in conn.execute(query)}


def batches_in_flight(stack) -> int:
    """Batches claimed and not yet applied right now (distinct leases on waiting rows): how many workers
    are applying the inbox at once."""
    with reading(stack.ctx.engine) as conn:
        return conn.execute(select(func.count(func.distinct(inbox.c.lease_owner))).where(
            inbox.c.processed_at.is_(None), inbox.c.lease_owner.isnot(None))).scalar()


def order_count(stack) -> int:
    """Orders the app holds."""
    with reading(stack.ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(orders)).scalar()


def retried(stack) -> int:
    """Webhooks that failed or needed another attempt (the mix should have none)."""
    with reading(stack.ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(inbox).where(
            (inbox.c.attempts > 0) | inbox.c.failed_at.isnot(None) | inbox.c.processed_at.is_(None))).scalar()


def postgres_roots(pg_log: Path | None) -> list[int]:
    """The postmaster of the bench's cluster (its backends are its children), or on a given server every
    local postgres process whose parent is not one."""
    if pg_log:
        return [int((pg_log.parent / "data" / "postmaster.pid").read_text().split()[0])]
    roots = []
    for proc in psutil.process_iter(["name", "ppid"]):
        try:
            if proc.info["name"] in ("postgres", "postmaster") and \
                    psutil.Process(proc.info["ppid"]).name() not in ("postgres", "postmaster"):
                roots.append(proc.pid)
        except psutil.Error:
            continue
    return roots


def figures(mix, results: list[dict]) -> list[Figure]:
    """The figures: a row per worker count, then the checks."""
    base = results[0]
    expected = sum(n for kind, n in mix.counts.items() if kind not in ("refund", "cancellation", "duplicate delivery"))
    rows = [Figure("scale-out payloads (real-shaped, PostgreSQL durable)", mix.describe(),
                   note=f"{len(mix.deliveries):,} webhooks recorded, then drained; fresh database per worker count")]
    for r in results:
        speedup, ratio = r["rate"] / base["rate"], r["rate"] / r["raw"]
        cpu = ", ".join(f"{role} {busy:.2f}" for role, busy in r["cpu"].items())
        per_order = ", ".join(f"{role} {ms:.1f}" for role, ms in cpu_ms_per_order(r).items())
        rows.append(Figure(f"scale-out: {r['workers']} rq worker(s) drain the backlog",
                           f"{r['rate']:,.0f} orders/s, x{speedup:.2f} vs 1 worker",
                           note=f"raw psycopg baseline same run {r['raw']:,.0f} orders/s, ratio {ratio:.2f}; "
                                f"cores busy ({os.cpu_count()} on this machine): {cpu}; CPU ms per order: "
                                f"{per_order}; batches in flight "
                                f"{spread(r['in_flight'])}; jobs done per worker {r['jobs']}"))
    rows.append(next_limit(results))
    for r in results:
        points = lambda ledger, order: ledger.get(order, (0, None, None))[1:]  # noqa: E731 - (pending, available)
        mismatched = sum(1 for order in r["ledger"] if points(base["ledger"], order) != points(r["ledger"], order))
        missing = len(set(base["ledger"]) - set(r["ledger"]))
        other_path = sum(1 for order, got in r["ledger"].items()
                         if points(base["ledger"], order) == got[1:] and base["ledger"][order][0] != got[0])
        rows.append(Figure(f"scale-out {r['workers']} worker(s): no double credit",
                           f"{mismatched + missing} orders' points differ from the 1-worker run; {r['orders']:,} "
                           f"orders of {expected:,}", "0; every order once", mismatched + missing == 0 and r["orders"] == expected,
                           note=f"per order: pending and available points; {sum(v[0] for v in r['ledger'].values()):,} "
                                f"ledger entries; {other_path} orders reached the same points by another number of "
                                "entries (a refund and a cancellation of one order applied in the other order: a "
                                "claw-back then a smaller void, or the void alone)"))
        shared = sum(1 for jobs in r["jobs"] if jobs) == r["workers"] and max(r["in_flight"], default=0) >= min(
            r["workers"], 2)
        rows.append(Figure(f"scale-out {r['workers']} worker(s): no failure, retry or deadlock; work shared",
                           f"{r['retried']} webhooks failed/retried/left, {len(r['trouble'])} deadlock or "
                           f"serialization lines, {sum(1 for j in r['jobs'] if j)} of {r['workers']} workers ran jobs, "
                           f"at most {max(r['in_flight'], default=0)} batches at once",
                           "0, 0, every worker, batches overlap", r["retried"] == 0 and not r["trouble"] and shared,
                           note="; ".join(sorted(set(r["trouble"]))[:3])))
    return rows


def spread(samples: list[int]) -> str:
    """Mean and peak of the in-flight samples, and the share of samples with two or more."""
    if not samples:
        return "not sampled"
    overlap = sum(1 for n in samples if n >= 2) / len(samples)
    return f"mean {sum(samples) / len(samples):.1f}, peak {max(samples)}, >= 2 in {overlap:.0%} of samples"


ROLES_OF_THE_PIPELINE = ("workers", "background", "postgresql", "emulator", "redis")


def cpu_ms_per_order(r: dict) -> dict[str, float]:
    """CPU milliseconds each role of the pipeline spent per webhook (other load on the machine slows the
    wall clock, not these)."""
    return {role: r["cpu"][role] * r["seconds"] / r["orders_in"] * 1e3 for role in ROLES_OF_THE_PIPELINE}


def next_limit(results: list[dict]) -> Figure:
    """Where the next limit is: the CPU each role needs per order at the highest worker count, what one
    core of each gives, and what this machine's cores would give if nothing else ran on them."""
    r = results[-1]
    ms = cpu_ms_per_order(r)
    total = sum(ms.values())
    cores = os.cpu_count() or 1
    per_core = ", ".join(f"{role} {1e3 / v:,.0f}" for role, v in ms.items() if v > 0)
    busiest = max(ms, key=ms.get)
    return Figure(f"scale-out: where the next limit is ({r['workers']} workers)",
                  f"{busiest} {ms[busiest]:.1f} of {total:.1f} CPU ms per order",
                  note=f"orders/s one core of each role gives: {per_core}; all {cores} cores of this machine "
                       f"and nothing else: about {cores * 1e3 / total:,.0f} orders/s; measured with "
                       f"{r['cpu']['other']:.2f} cores busy elsewhere (other benchmarks)")
