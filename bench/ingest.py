"""Ingest through the production web server: gunicorn as the Procfile runs it (2 gthread workers x 4 threads).

- throughput: signed orders/paid webhooks answered 200 per second (verify, group-committed INSERT, wake),
  against `GET /bare` (an endpoint that does nothing) served by the same server to the same load generator,
  both at saturation (closed loop);
- latency: p99 at 1,000 webhooks per second offered on a fixed timetable (open loop);
- peak RSS of the web processes (master and workers) during all of it.
"""
from __future__ import annotations

from sqlalchemy import func, select

from bench.load import Traffic, closed_loop, open_loop, order_bodies
from bench.report import Figure
from bench.stack import SECRET, SHOP, PeakRss, Stack
from db.engine import reading
from db.tables import webhook_inbox

RATE = 1000
"""Webhooks per second offered for the latency figure."""


def run(options) -> list[Figure]:
    """Measure, and return the figures with their targets."""
    seconds = options.seconds or 10
    bare = Traffic("/bare")
    webhooks = Traffic("/webhooks", order_bodies(), SHOP, SECRET)
    with Stack() as stack:
        port = stack.start_web()
        with PeakRss({"web": stack.root_pids("web")}) as rss:
            closed_loop(port, bare, 2)  # warm-up: imports, connections, the shop cache
            closed_loop(port, webhooks, 2)
            before = _rows(stack)
            bare_result = closed_loop(port, bare, seconds)
            ingest_result = closed_loop(port, webhooks, seconds)
            timed = open_loop(port, webhooks, RATE, seconds)
            bare_timed = open_loop(port, bare, RATE, seconds)
        stored = _rows(stack) - before
    answered = ingest_result.ok + timed.ok
    ratio = ingest_result.ok_per_second / bare_result.ok_per_second
    p99 = timed.percentile(99)
    return [
        Figure("ingest: bare endpoint, same server and generator", f"{bare_result.ok_per_second:,.0f} req/s",
               note=bare_result.tool),
        Figure("ingest: signed webhooks recorded (200)", f"{ingest_result.ok_per_second:,.0f} req/s",
               note=f"{ingest_result.sent - ingest_result.ok} not 200"),
        Figure("ingest / bare", f"{ratio:.2f}", "≥ 0.80", ratio >= 0.8),
        Figure(f"ingest p99 at {RATE:,} webhooks/s offered (open loop)", f"{p99:.1f} ms", "< 20 ms",
               p99 < 20 and timed.ok == timed.sent,
               note=f"p50 {timed.percentile(50):.1f} ms, {timed.ok:,}/{timed.sent:,} answered 200"
                    f"{f' (others: {timed.refused()})' if timed.refused() else ''}; "
                    f"bare at the same rate: p99 {bare_timed.percentile(99):.1f} ms; {timed.tool}"),
        Figure("ingest: rows stored / webhooks answered 200", f"{stored:,} / {answered:,}",
               "no 200 without its row", stored >= answered,
               note="rows beyond the answers: requests in flight when a generator stopped reading"),
        Figure("peak RSS, web (gunicorn master + 2 workers) under ingest load", f"{rss.mib('web'):,.0f} MiB"),
    ]


def _rows(stack) -> int:
    with reading(stack.ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(webhook_inbox)).scalar()
