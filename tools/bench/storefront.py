"""The shopper's side: the loyalty page (app proxy) and the customer-account extension's API, server time for a
customer with 1,000 ledger entries in a shop of 1,000,000 customers and 10,000,000 entries, on SQLite and
PostgreSQL.

    python -m tools.bench --only storefront [--storefront-entries N --storefront-customers N
                                             --storefront-requests N --storefront-programmes store-b,vip-tiers]

The shop is made set-based (tools/bench/storefront_data.py) in a migrated database with the embedded Redis
(tools.bench.stack.Stack: the app's /healthz asks both); PostgreSQL is the bench's own durable cluster, or
DATABASE_URL's server (tools.bench.stack.postgres_databases). Requests go through the production Flask app
in this process (its test client: server time, no network), as Shopify sends them: GET /proxy with a query
signed with the app secret (JSON, and the Liquid page), GET /extensions/customer with a customer-account
session token (HS256 with the app secret, aud the API key, dest the shop, sub the customer's GID). The same
run's baseline is GET /healthz (one SELECT 1, a count of failures and a Redis ping), interleaved with the
others so every figure meets the same machine load. Each endpoint is asked `--storefront-requests` times,
rotating over the measured customers (eight, so one customer's rows warm in a cache do not flatter), after a
warm-up that is not counted; p50, p95 and p99 are reported. Each programme (store B's conversion and
expiry, the VIP tiers' 12-month window) is measured in turn on the same data.
"""
from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

from tools.bench.report import Figure
from tools.bench.stack import SECRET, SHOP, Stack, postgres_databases
from tools.bench.storefront_data import Shape, populate

TARGET_MS = 50.0
WARM_UP = 20
BASELINE = "baseline GET /healthz"
"""The same run's baseline every latency benchmark asks, interleaved with its endpoints."""
"""Requests per endpoint before the measured ones (imports, caches, first reads from disk)."""
EXTENSION_PATH = "/extensions/customer"
API_KEY = "bench"
"""The Stack's SHOPIFY_API_KEY: a session token's audience."""


def run(options) -> list[Figure]:
    """Both databases, each programme; the figures."""
    shape = Shape(customers=getattr(options, "storefront_customers", None) or Shape.customers,
                  entries=getattr(options, "storefront_entries", None) or Shape.entries)
    requests = getattr(options, "storefront_requests", None) or 300
    programmes = (getattr(options, "storefront_programmes", None) or "store-b,vip-tiers").split(",")
    return on_both_databases("storefront", lambda name, url: measure_database(name, url, shape, requests,
                                                                              programmes))


def on_both_databases(label: str, measure) -> list[Figure]:
    """`measure(database name, url)` on a new SQLite file, then on a new PostgreSQL database; the figures."""
    figures = []
    with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as work:
        figures += measure("sqlite", f"sqlite:///{Path(work) / label}.db")
    try:
        with postgres_databases() as (new_database, _log):
            figures += measure("postgresql", new_database())
    except RuntimeError as exc:  # no PostgreSQL binaries on this machine
        figures.append(Figure(f"{label} on postgresql", "not measured", note=str(exc)))
    return figures


def measure_database(name: str, url: str, shape: Shape, requests: int, programmes: list[str]) -> list[Figure]:
    """Populate one database, then measure each programme on it."""
    from runtime.web import create_app

    with Stack(url) as stack:
        stack.ctx.engine.dispose()  # the load has the database to itself
        print(f"   {name}: making {shape.customers:,} customers and {shape.entries:,} ledger entries", flush=True)
        began = time.perf_counter()
        made = populate(url, stack.shop.id, shape)
        seconds = time.perf_counter() - began
        counts = census(stack, made.measured)
        # The baseline is asked as often as the pages: past /healthz's per-client limit it would answer 429.
        app = create_app(replace(stack.ctx, config=replace(stack.ctx.config, rate_limit_pages="1000000 per minute")))
        figures = [Figure(f"storefront data set, {name}", f"{counts['customers']:,} customers, "
                          f"{counts['entries']:,} ledger entries, {counts['orders']:,} orders, "
                          f"{counts['vouchers']:,} vouchers",
                          note=f"made set-based in {seconds:.0f} s; measured customers' entries: "
                               f"{', '.join(f'{n:,}' for n in sorted(set(counts['measured'])))} each "
                               f"({len(made.measured)} customers)")]
        for programme in programmes:
            apply_programme(stack, programme)
            print(f"   {name}, {programme}: {requests} requests per endpoint", flush=True)
            figures += judged(name, programme, timed(app, made.measured, requests))
    return figures


def census(stack, measured: tuple[int, ...]) -> dict:
    """Rows in the shop, and the ledger entries of each measured customer (the data set says what it is)."""
    from sqlalchemy import func, select

    from db.engine import reading
    from db.tables import customers, ledger_entries, orders, vouchers

    with reading(stack.ctx.engine) as conn:
        count = lambda table: conn.execute(select(func.count()).select_from(table)).scalar()  # noqa: E731
        per = conn.execute(select(func.count()).select_from(ledger_entries.join(
            customers, customers.c.id == ledger_entries.c.customer_id)).where(
            customers.c.shopify_customer_id.in_(measured)).group_by(customers.c.id)).scalars().all()
        return {"customers": count(customers), "entries": count(ledger_entries), "orders": count(orders),
                "vouchers": count(vouchers), "measured": per}


def apply_programme(stack, name: str) -> None:
    """Run the shop on a ready programme, as `loyalty programme apply` does."""
    from loyalty.domain.programme import template
    from loyalty.services.shops import get_shop, save_programme

    with stack.ctx.engine.begin() as conn:
        save_programme(conn, get_shop(conn, SHOP), template(name), datetime.now(timezone.utc))


def proxy_url(customer: int, fmt: str | None) -> str:
    """GET /proxy as Shopify forwards it, signed now with the app secret."""
    from integrations.shopify.app_proxy import sign

    pairs = [("shop", SHOP), ("logged_in_customer_id", str(customer)), ("path_prefix", "/apps/loyalty"),
             ("timestamp", str(int(time.time()))), *((("format", fmt),) if fmt else ())]
    return "/proxy?" + urlencode(pairs + [("signature", sign(SECRET, pairs))])


def session_token(customer: int) -> str:
    """A customer-account extension's session token (contract B): HS256 with the app secret."""
    import jwt

    now = datetime.now(timezone.utc)
    return jwt.encode({"aud": API_KEY, "dest": SHOP, "sub": f"gid://shopify/Customer/{customer}",
                       "exp": now + timedelta(minutes=5), "nbf": now - timedelta(seconds=5), "iat": now,
                       "jti": uuid.uuid4().hex}, SECRET, algorithm="HS256")


ENDPOINTS = {
    BASELINE: lambda c: ("/healthz", {}),
    "GET /proxy?format=json": lambda c: (proxy_url(c, "json"), {}),
    "GET /proxy (Liquid page)": lambda c: (proxy_url(c, None), {}),
    f"GET {EXTENSION_PATH}": lambda c: (EXTENSION_PATH, {"Authorization": f"Bearer {session_token(c)}"}),
}
"""Endpoint -> (customer's Shopify id -> path and headers); made before the clock starts."""


def timed(app, customers: tuple[int, ...], requests: int) -> dict[str, dict]:
    """Each endpoint asked `requests` times after the warm-up, interleaved; per endpoint the latencies in
    ms and the statuses answered (None: the route is not in this app)."""
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    present = {name for name in ENDPOINTS if name != f"GET {EXTENSION_PATH}" or EXTENSION_PATH in rules}
    results = {name: {"ms": [], "statuses": {}} if name in present else None for name in ENDPOINTS}
    client = app.test_client()
    for n in range(WARM_UP + requests):
        customer = customers[n % len(customers)]
        for name in present:
            timed_get(client, *ENDPOINTS[name](customer), results[name] if n >= WARM_UP else None)
    return results


def timed_get(client, path: str, headers: dict, result: dict | None) -> None:
    """GET `path` through the app; its time in ms and status added to `result` (None: a warm-up request)."""
    began = time.perf_counter()
    response = client.get(path, headers=headers)
    response.close()
    elapsed = (time.perf_counter() - began) * 1e3
    if result is not None:
        result["ms"].append(elapsed)
        result["statuses"][response.status_code] = result["statuses"].get(response.status_code, 0) + 1


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile `p` (0-100) of `values` (as tools.bench.load.Result.percentile)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")


def judged(database: str, programme: str, results: dict[str, dict]) -> list[Figure]:
    """A figure per endpoint: p50/p95/p99 against the target, beside the same run's baseline."""
    return latency_figures(f"storefront {database}, {programme}", results, TARGET_MS,
                           missing=f"no route {EXTENSION_PATH} in this tree")


def latency_figures(label: str, results: dict[str, dict | None], target_ms: float,
                    missing: str = "") -> list[Figure]:
    """The baseline's figure, then one per endpoint: p50/p95/p99 against `target_ms` (every answer a 200),
    with its p99 as a multiple of the baseline's; an endpoint whose result is None is `not present`
    (`missing` says why). Shared by the storefront and admin benchmarks."""
    base = results[BASELINE]
    base_p99 = percentile(base["ms"], 99)
    figures = [Figure(f"{label}: {BASELINE}", spread(base["ms"]), note=f"same run, interleaved; {statuses(base)}")]
    for name, result in results.items():
        if name == BASELINE:
            continue
        if result is None:
            figures.append(Figure(f"{label}: {name}", "not present", f"p99 < {target_ms:.0f} ms", note=missing))
            continue
        p99 = percentile(result["ms"], 99)
        ok = set(result["statuses"]) == {200}
        figures.append(Figure(f"{label}: {name}", spread(result["ms"]), f"p99 < {target_ms:.0f} ms",
                              ok and p99 < target_ms,
                              note=f"{statuses(result)}; p99 / baseline p99: {p99 / base_p99:.1f}x"))
    return figures


def admin_session_token() -> str:
    """An App Bridge session token for the bench shop's staff (admin.session.mint_dev_token's shape)."""
    from admin.session import mint_dev_token

    return mint_dev_token(API_KEY, SECRET, SHOP, datetime.now(timezone.utc), staff="bench-staff")


def spread(ms: list[float]) -> str:
    """p50 / p95 / p99 of latencies in ms."""
    return (f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
            f"**p99 {percentile(ms, 99):.1f} ms** ({len(ms):,} requests)")


def statuses(result: dict) -> str:
    """'200 x300' (and any other status answered)."""
    return ", ".join(f"{status} x{count}" for status, count in sorted(result["statuses"].items()))
