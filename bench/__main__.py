"""`make bench`: first in-process figures, written to bench/results.md.

- ingest: signed webhooks recorded per second through the Flask app (WSGI test client, no network), as a
  ratio of a bare endpoint answered by the same app in the same run;
- pipeline: orders per second from recorded webhook to ledger entries (process_inbox, batches of 500).

Run on SQLite (default) or DATABASE_URL. The production-server figures (gunicorn under load, a real worker
pool, history import) are the proof issue's work.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

N_INGEST = int(os.environ.get("BENCH_INGEST", "3000"))
N_ORDERS = int(os.environ.get("BENCH_ORDERS", "20000"))


def main() -> None:
    """Run both measurements and write the results file."""
    from cryptography.fernet import Fernet

    from db.migrate import upgrade
    from jobs.inbox import process_inbox
    from loyalty.shops import install_shop
    from runtime.config import Config
    from runtime.context import build_context
    from runtime.crypto import encrypt_token
    from runtime.embedded_redis import start_redis
    from runtime.web import create_app
    from webhooks.signature import sign

    work = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    redis_process, redis_url = start_redis(work / "redis", persistent=False)
    try:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{work / 'bench.db'}"
        upgrade(url)
        key = Fernet.generate_key().decode()
        ctx = build_context(Config(database_url=url, redis_url=redis_url, var_dir=work, api_key="bench",
                                   api_secrets=("bench-secret",), encryption_keys=(key,)))
        with ctx.engine.begin() as conn:
            install_shop(conn, "bench.myshopify.com", encrypt_token((key,), "t"), datetime.now(timezone.utc))
        client = create_app(ctx).test_client()

        def body(i):
            return json.dumps({"id": 10_000_000 + i, "email": f"c{i % 5000}@example.com", "currency": "EUR",
                               "processed_at": "2025-01-01T00:00:00Z", "payment_gateway_names": ["shopify_payments"],
                               "line_items": [{"price": "19.90", "quantity": 2, "discount_allocations": []}]}).encode()

        def post(i):
            raw = body(i)
            return client.post("/webhooks", data=raw, headers={
                "X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": "bench.myshopify.com",
                "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Hmac-Sha256": sign("bench-secret", raw)})

        started = time.perf_counter()
        for _ in range(N_INGEST):
            client.get("/bare")
        bare = N_INGEST / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(N_INGEST):
            assert post(i).status_code == 200
        ingest = N_INGEST / (time.perf_counter() - started)
        process_inbox(ctx=ctx)
        for i in range(N_INGEST, N_INGEST + N_ORDERS):
            post(i)
        ctx.redis.flushall()
        started = time.perf_counter()
        done = process_inbox(ctx=ctx)
        pipeline = done / (time.perf_counter() - started)
    finally:
        redis_process.terminate()
        shutil.rmtree(work, ignore_errors=True)
    write(bare, ingest, pipeline, done, url.split(":", 1)[0])


def write(bare: float, ingest: float, pipeline: float, orders: int, backend: str) -> None:
    """Append this run's figures to bench/results.md."""
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {cpu} cores, "
        f"Python {platform.python_version()}, {backend}; command: `make bench`",
        "",
        "| measure | figure |",
        "|---|---|",
        f"| bare endpoint, in-process WSGI | {bare:,.0f} req/s |",
        f"| signed webhook ingest (verify + INSERT + wake), in-process | {ingest:,.0f} req/s |",
        f"| ingest / bare | {ingest / bare:.2f} |",
        f"| pipeline: recorded orders/paid -> ledger, one process | {pipeline:,.0f} orders/s ({orders:,} orders) |",
        "",
    ]
    path = Path(__file__).resolve().parent / "results.md"
    header = "" if path.exists() else "# Benchmark results\n\nEach section is one run of `make bench`.\n\n"
    path.write_text((path.read_text() if path.exists() else header) + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
