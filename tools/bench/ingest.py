"""Ingest through the production web set-up, as `make run` starts it (gunicorn, and on SQLite the inbox
writer beside it; `--inbox-writer on|off` adds or removes the writer, the web command unchanged), then the
Procfile's on a durable PostgreSQL (started here; skipped when DATABASE_URL is PostgreSQL already, which is
then the one measured).

- throughput: signed orders/paid webhooks answered 200 per second (verify, durable group-committed INSERT,
  wake), against `/bare`: the very same signed requests sent to an endpoint that answers 200 and does
  nothing, at the same layer of the same server (in front of webhooks.views.FastPath: tools/bench/wsgi.py, which
  the production app does not include), from the same load generator,
  both at saturation (closed loop), alternating in rounds so both meet the same load;
- latency: p99 at 1,000 webhooks per second offered on a fixed timetable (open loop);
- peak RSS of the web processes (master and workers) during all of it.
"""
from __future__ import annotations

import os
from functools import partial

from sqlalchemy import func, select

from tools.bench.load import Traffic, alternating, closed_loop, open_loop, order_bodies
from tools.bench.report import Figure
from tools.bench.stack import SECRET, SHOP, PeakRss, Stack, cpu_seconds, postgres_databases
from db.engine import reading
from db.tables import webhook_bodies, webhook_inbox

RATE = 1000
"""Webhooks per second offered for the latency figure, where the target is set (`--ingest-rate` changes it,
e.g. to compare set-ups below their saturation on a slow machine)."""
CONNECTIONS = 64
"""Closed-loop connections: enough requests in flight to saturate a server whose answers wait for a disk
flush (a webhook is answered after its commit; Shopify delivers many at once). The bare endpoint gets the
same number."""


def run(options) -> list[Figure]:
    """Measure `make run`'s set-up (DATABASE_URL, SQLite by default) and, unless that is PostgreSQL
    already, the Procfile's on a durable PostgreSQL started for it; return the figures with their targets."""
    figures = measure(options)
    if not (os.environ.get("DATABASE_URL") or "").startswith("postgres"):
        with postgres_databases() as (new_database, _):
            figures += measure(options, new_database(), " (PostgreSQL)")
    return figures


def measure(options, database_url: str | None = None, label: str = "") -> list[Figure]:
    """The figures of one set-up (`label` added to their names)."""
    seconds = options.seconds or 10
    rate = getattr(options, "ingest_rate", None) or RATE
    bodies = order_bodies()
    bare = Traffic("/bare", bodies, SHOP, SECRET)
    flask_bare = Traffic("/bare/flask", bodies, SHOP, SECRET)
    webhooks = Traffic("/webhooks", bodies, SHOP, SECRET)
    writer = getattr(options, "inbox_writer", "default")
    with Stack(database_url, **({} if writer == "default" else {"LOYALTY_INBOX_WRITER": writer})) as stack:
        port = stack.start_web()
        setup = _setup(stack)
        with PeakRss({"web": stack.root_pids("web")}) as rss:
            for traffic in (bare, flask_bare, webhooks):  # warm-up: imports, connections, the shop cache
                closed_loop(port, traffic, 2, CONNECTIONS)
            before = _rows(stack)
            cpu = partial(cpu_seconds, stack.root_pids("web"))
            bare_result, flask_result, ingest_result = alternating(
                port, [bare, flask_bare, webhooks], seconds, connections=CONNECTIONS, cpu=cpu)
            timed = open_loop(port, webhooks, rate, seconds)
            bare_timed = open_loop(port, bare, rate, seconds)
        stored = _rows(stack) - before
    answered = ingest_result.ok + timed.ok
    ratio = ingest_result.ok_per_second / bare_result.ok_per_second
    p99 = timed.percentile(99)
    return [
        Figure(f"ingest{label}: web set-up", setup),
        Figure(f"ingest{label}: bare endpoint (the same signed requests, answered 200 at the same layer, nothing done)",
               f"{bare_result.ok_per_second:,.0f} req/s",
               note=f"{bare_result.tool}; web CPU {bare_result.cpu_us_per_ok:.0f} µs per request"),
        Figure(f"ingest{label}: the same requests to an empty Flask route (context, no target)",
               f"{flask_result.ok_per_second:,.0f} req/s",
               note=f"web CPU {flask_result.cpu_us_per_ok:.0f} µs per request"),
        Figure(f"ingest{label}: signed webhooks recorded (200)", f"{ingest_result.ok_per_second:,.0f} req/s",
               note=f"{ingest_result.sent - ingest_result.ok} not 200; web CPU (gunicorn, and the inbox writer if any) "
                    f"{ingest_result.cpu_us_per_ok:.0f} µs per webhook"),
        Figure(f"ingest{label} / bare", f"{ratio:.2f}", "≥ 0.80", ratio >= 0.8,
               note=f"webhooks / empty Flask route: {ingest_result.ok_per_second / flask_result.ok_per_second:.2f}"),
        Figure(f"ingest{label} p99 at {rate:,} webhooks/s offered (open loop)", f"{p99:.1f} ms",
               *(("< 20 ms", p99 < 20 and timed.ok == timed.sent) if rate >= RATE else ("", None)),
               note=f"p50 {timed.percentile(50):.1f} ms, {timed.ok:,}/{timed.sent:,} answered 200"
                    f"{f' (others: {timed.refused()})' if timed.refused() else ''}; "
                    f"bare at the same rate: p99 {bare_timed.percentile(99):.1f} ms; {timed.tool}"),
        Figure(f"ingest{label}: rows stored / webhooks answered 200", f"{stored:,} / {answered:,}",
               "no 200 without its row", stored >= answered,
               note="rows beyond the answers: requests in flight when a generator stopped reading"),
        Figure(f"peak RSS, web (gunicorn master and workers, and the inbox writer if any) under ingest load{label}",
               f"{rss.mib('web'):,.0f} MiB"),
    ]


def _setup(stack) -> str:
    """The web processes measured, e.g. 'gunicorn 1 × gevent + inbox writer'."""
    web = stack.commands["web"]
    workers, worker_class = web[web.index("--workers") + 1], web[web.index("--worker-class") + 1]
    return f"gunicorn {workers} × {worker_class}" + (" + inbox writer" if "inbox" in stack.commands else "")


def _rows(stack) -> int:
    """Inbox rows stored with their body (a row without one would not count as recorded)."""
    with reading(stack.ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(webhook_inbox.join(webhook_bodies))).scalar()
