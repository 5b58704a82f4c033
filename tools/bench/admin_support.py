"""Support's side of the admin: customer search (`GET /admin/api/customers?q=`) by name, email, Shopify id and
order number, and a customer's page (`GET /admin/api/customers/{id}`) for customers with 1,000 ledger entries,
in the storefront benchmark's shop (1,000,000 customers, 10,000,000 entries; tools/bench/storefront_data.py),
on SQLite and PostgreSQL.

    python -m tools.bench --only support [--storefront-customers N --storefront-entries N --support-requests N]

Requests go through the production Flask app in this process (its test client: server time, no network)
with an App Bridge-shaped session token (HS256 with the app secret, aud the API key, dest the shop), as in
tools/bench/storefront.py, whose timing and judging this reuses: the same run's baseline is GET /healthz,
interleaved with the others; p50, p95 and p99 after a warm-up. The queries rotate over the measured
customers (eight): a first-name prefix (3 letters, matching one customer in 55), "first last" (one in
4,345), a last name, an email prefix, the Shopify id, an order number (`#N`) of theirs. Target p99 < 200 ms.
"""
from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import quote

from tools.bench.report import Figure
from tools.bench.stack import Stack
from tools.bench.storefront import (BASELINE, WARM_UP, admin_session_token, apply_programme, census, latency_figures,
                                    on_both_databases, timed_get)
from tools.bench.storefront_data import Shape, populate

TARGET_MS = 200.0
PROGRAMME = "store-b"


def run(options) -> list[Figure]:
    """Both databases; the figures."""
    shape = Shape(customers=getattr(options, "storefront_customers", None) or Shape.customers,
                  entries=getattr(options, "storefront_entries", None) or Shape.entries)
    requests = getattr(options, "support_requests", None) or 200
    return on_both_databases("support", lambda name, url: measure_database(name, url, shape, requests))


def measure_database(name: str, url: str, shape: Shape, requests: int) -> list[Figure]:
    """Populate one database, then time each kind of request on it."""
    from runtime.web import create_app

    with Stack(url) as stack:
        stack.ctx.engine.dispose()  # the load has the database to itself
        print(f"   {name}: making {shape.customers:,} customers and {shape.entries:,} ledger entries", flush=True)
        began = time.perf_counter()
        made = populate(url, stack.shop.id, shape)
        seconds = time.perf_counter() - began
        counts = census(stack, made.measured)
        apply_programme(stack, PROGRAMME)
        config = replace(stack.ctx.config, rate_limit_pages="1000000 per minute",
                         rate_limit_refused="1000000 per minute")
        app = create_app(replace(stack.ctx, config=config))
        paths = requests_of(stack, made.measured)
        print(f"   {name}: {requests} requests per kind", flush=True)
        figures = [Figure(f"support data set, {name}", f"{counts['customers']:,} customers, "
                          f"{counts['entries']:,} ledger entries, {counts['orders']:,} orders",
                          note=f"made set-based in {seconds:.0f} s; measured customers' entries: "
                               f"{', '.join(f'{n:,}' for n in sorted(set(counts['measured'])))} each")]
        return figures + judged(name, timed(app, paths, requests))


def requests_of(stack, measured: tuple[int, ...]) -> dict[str, list[str]]:
    """Kind of request -> its paths, one per measured customer (asked in rotation)."""
    from sqlalchemy import func, select

    from db.engine import reading
    from db.tables import customers, orders

    with reading(stack.ctx.engine) as conn:
        rows = conn.execute(select(customers.c.id, customers.c.shopify_customer_id, customers.c.email,
                                   customers.c.first_name, customers.c.last_name)
                            .where(customers.c.shopify_customer_id.in_(measured)).order_by(customers.c.id)).all()
        order_of = dict(conn.execute(select(orders.c.customer_id, func.max(orders.c.name))
                                     .where(orders.c.customer_id.in_([r.id for r in rows]))
                                     .group_by(orders.c.customer_id)).all())
    search = lambda q: "/admin/api/customers?q=" + quote(q)  # noqa: E731
    return {
        BASELINE: ["/healthz"] * len(rows),
        "search: first-name prefix": [search(r.first_name[:3].lower()) for r in rows],
        "search: \"first last\"": [search(f"{r.first_name} {r.last_name}") for r in rows],
        "search: last name": [search(r.last_name) for r in rows],
        "search: email prefix": [search(r.email.split("@")[0][:9]) for r in rows],
        "search: Shopify id": [search(str(r.shopify_customer_id)) for r in rows],
        "search: order number": [search(order_of[r.id]) for r in rows],
        "GET /admin/api/customers/{id} (1,000 entries)": [f"/admin/api/customers/{r.id}" for r in rows],
    }


def timed(app, paths: dict[str, list[str]], requests: int) -> dict[str, dict]:
    """Each kind asked `requests` times after the warm-up, interleaved; per kind the latencies in ms and the
    statuses answered."""
    results = {name: {"ms": [], "statuses": {}} for name in paths}
    client = app.test_client()
    for n in range(WARM_UP + requests):
        headers = {"Authorization": f"Bearer {admin_session_token()}"}  # fresh each round: tokens live a minute
        for name, rotation in paths.items():
            timed_get(client, rotation[n % len(rotation)], headers, results[name] if n >= WARM_UP else None)
    return results


def judged(database: str, results: dict[str, dict]) -> list[Figure]:
    """A figure per kind: p50/p95/p99 against the target, beside the same run's baseline."""
    return latency_figures(f"support {database}", results, TARGET_MS)
