"""The merchant's home page and the points-liability report, server time in a shop of 1,000,000 customers and
10,000,000 ledger entries, on SQLite and PostgreSQL.

    python -m tools.bench --only admin_home [--storefront-entries N --storefront-customers N --home-requests N]

The shop is the storefront benchmark's (tools/bench/storefront_data.py: three years of orders, redemptions
and bonuses), in Europe/Paris. The ledger roll-up (loyalty/services/ledger_rollup.py) runs once over the
whole ledger (its time is reported), then a live tail is written above the watermark (`TAIL` entries, more
than a minute of a busy shop), so every read sums the totals and the tail as in production. The orders' and vouchers'
roll-ups (loyalty/services/order_rollup.py) likewise run once over their whole logs of changes, then a tail of
`ORDER_TAIL` new orders (members' and guests') and `ORDER_TAIL // 10` cancellations of rolled-up orders and
vouchers is written above their watermarks. Requests go
through the production Flask app in this process (its test client: server time), with an admin session
token as App Bridge sends it; each is asked `--home-requests` times after a warm-up, interleaved with the
same run's baseline GET /healthz (tools/bench/storefront.py's way); p50, p95, p99 against p99 < 200 ms.
"""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta

from tools.bench.report import Figure
from tools.bench.stack import Stack
from tools.bench.storefront import (BASELINE, WARM_UP, admin_session_token, latency_figures, on_both_databases,
                                    timed_get)
from tools.bench.storefront_data import Shape, populate

TARGET_MS = 200.0
TAIL = 2_000
"""Entries written after the roll-up: the live tail every read adds to the totals."""
ORDER_TAIL = 500
"""Orders paid after the orders' roll-up (and a tenth as many cancellations): the tail of order changes."""

ENDPOINTS = (BASELINE, "GET /admin/api/home", "GET /admin/api/home?group=month (365 days)",
             "GET /admin/api/reports/liability", "GET /admin/api/reports/liability.csv")


def run(options) -> list[Figure]:
    """Both databases; the figures."""
    shape = Shape(customers=getattr(options, "storefront_customers", None) or Shape.customers,
                  entries=getattr(options, "storefront_entries", None) or Shape.entries)
    requests = getattr(options, "home_requests", None) or 200
    return on_both_databases("home", lambda name, url: measure_database(name, url, shape, requests))


def measure_database(name: str, url: str, shape: Shape, requests: int) -> list[Figure]:
    """Populate one database, roll the ledger up, write a tail, measure."""
    from sqlalchemy import update

    from db.tables import shops
    from loyalty.services.ledger_rollup import roll_up
    from loyalty.services.order_rollup import roll_up_orders, roll_up_vouchers
    from runtime.web import create_app

    with Stack(url) as stack:
        stack.ctx.engine.dispose()
        print(f"   {name}: making {shape.customers:,} customers and {shape.entries:,} ledger entries", flush=True)
        began = time.perf_counter()
        made = populate(url, stack.shop.id, shape)
        loaded = time.perf_counter() - began
        with stack.ctx.engine.begin() as conn:
            conn.execute(update(shops).where(shops.c.id == stack.shop.id).values(iana_timezone="Europe/Paris",
                                                                                  currency_code="EUR"))
        began = time.perf_counter()
        mark = roll_up(stack.ctx.engine, stack.shop.id)
        if stack.ctx.engine.dialect.name == "postgresql":  # the horizon: a second run rolls up to it
            mark = roll_up(stack.ctx.engine, stack.shop.id)
        rolled = time.perf_counter() - began
        began = time.perf_counter()
        for _ in range(2 if stack.ctx.engine.dialect.name == "postgresql" else 1):
            roll_up_vouchers(stack.ctx.engine, stack.shop.id)
            order_mark = roll_up_orders(stack.ctx.engine, stack.shop.id)
        orders_rolled = time.perf_counter() - began
        write_order_tail(stack, made.now)
        write_tail(stack, made.now)
        began = time.perf_counter()
        roll_up(stack.ctx.engine, stack.shop.id)
        incremental = time.perf_counter() - began
        write_tail(stack, made.now, offset=TAIL)
        app = create_app(replace(stack.ctx, config=replace(stack.ctx.config, rate_limit_pages="1000000 per minute")))
        print(f"   {name}: {requests} requests per endpoint", flush=True)
        figures = [Figure(f"admin home data set, {name}", f"{shape.customers:,} customers, {shape.entries:,} entries",
                          note=f"made in {loaded:.0f} s; first roll-up of the whole ledger {rolled:.1f} s "
                               f"(watermark {mark:,}); a roll-up of {TAIL:,} new entries {incremental:.2f} s; "
                               f"reads add a live tail of {TAIL:,} entries; first roll-up of the order and voucher changes "
                               f"{orders_rolled:.1f} s (watermark {order_mark:,}), reads add a tail of "
                               f"{ORDER_TAIL:,} orders and {ORDER_TAIL // 10:,} cancellations")]
        return figures + judged(name, timed(app, made.now, requests))


def write_tail(stack, now: datetime, offset: int = 0) -> None:
    """`TAIL` bonus entries above the watermark, today, spread over the shop's customers."""
    from sqlalchemy import insert

    from db.tables import ledger_entries

    rows = [dict(shop_id=stack.shop.id, customer_id=1 + (n * 7919) % 1000, kind="bonus", pending=0, available=5,
                 reason="bench tail", idempotency_key=f"bench-tail-{offset + n}",
                 effective_at=now - timedelta(seconds=n), created_at=now) for n in range(TAIL)]
    with stack.ctx.engine.begin() as conn:
        conn.execute(insert(ledger_entries), rows)


def write_order_tail(stack, now: datetime) -> None:
    """`ORDER_TAIL` orders paid today (one in five a guest's), and a cancellation of a tenth as many orders and
    vouchers already rolled up: the triggers log them above the watermarks."""
    from sqlalchemy import insert, select, update

    from db.tables import orders, vouchers

    rows = [dict(shop_id=stack.shop.id, shopify_order_id=9_000_000_000 + n, name=f"#T{n}", currency="EUR",
                 customer_id=None if n % 5 == 0 else 1 + (n * 7919) % 1000, merchandise=20 + n % 50,
                 paid_at=now - timedelta(seconds=10 * n),
                 excluded_reason="no customer and no email" if n % 5 == 0 else None) for n in range(ORDER_TAIL)]
    with stack.ctx.engine.begin() as conn:
        conn.execute(insert(orders), rows)
        newest = select(orders.c.id).where(orders.c.shop_id == stack.shop.id, orders.c.paid_at < now - timedelta(days=2),
                                           orders.c.cancelled_at.is_(None)).order_by(orders.c.id.desc())
        ids = conn.execute(newest.limit(ORDER_TAIL // 10)).scalars().all()
        conn.execute(update(orders).where(orders.c.id.in_(ids)).values(cancelled_at=now))
        issued = conn.execute(select(vouchers.c.id).where(vouchers.c.shop_id == stack.shop.id,
                                                          vouchers.c.status != "cancelled")
                              .order_by(vouchers.c.id.desc()).limit(ORDER_TAIL // 10)).scalars().all()
        conn.execute(update(vouchers).where(vouchers.c.id.in_(issued)).values(status="cancelled"))


def paths(today) -> dict[str, str]:
    """Endpoint -> path (the defaults: the 30 days up to the shop's today)."""
    year = (today - timedelta(days=364)).isoformat()
    return {BASELINE: "/healthz", "GET /admin/api/home": "/admin/api/home",
            "GET /admin/api/home?group=month (365 days)": f"/admin/api/home?group=month&from={year}&to={today}",
            "GET /admin/api/reports/liability": "/admin/api/reports/liability",
            "GET /admin/api/reports/liability.csv": "/admin/api/reports/liability.csv"}


def timed(app, now: datetime, requests: int) -> dict[str, dict]:
    """Each endpoint `requests` times after the warm-up, interleaved: latencies (ms) and statuses."""
    targets = paths(now.date())
    results = {name: {"ms": [], "statuses": {}} for name in ENDPOINTS}
    client = app.test_client()
    for n in range(WARM_UP + requests):
        headers = {"Authorization": f"Bearer {admin_session_token()}"}  # fresh each round: tokens live a minute
        for name in ENDPOINTS:
            timed_get(client, targets[name], {} if name == BASELINE else headers,
                      results[name] if n >= WARM_UP else None)
    return results


def judged(database: str, results: dict[str, dict]) -> list[Figure]:
    """A figure per endpoint: p50/p95/p99 against the target, beside the same run's baseline."""
    return latency_figures(f"admin home {database}", results, TARGET_MS)
