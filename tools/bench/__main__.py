"""`python -m tools.bench [--only ingest,pipeline] [--seconds N]`: run the registered benchmarks, print the
figures and append them to tools/bench/results.md with the date, the machine and the command."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from datetime import datetime, timezone

from tools.bench import BENCHMARKS
from tools.bench.report import Figure, machine, write


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options (each benchmark reads the ones it knows)."""
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated, from: {', '.join(BENCHMARKS)}")
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of each ingest load phase (default 10)")
    parser.add_argument("--inbox-writer", choices=("default", "on", "off"), default="default",
                        help="ingest: the inbox writer beside the same web command (default: as `make run`, "
                             "on SQLite only)")
    parser.add_argument("--ingest-rate", type=int, default=None,
                        help="ingest: webhooks/s offered for the open-loop latency (default 1,000, the target's)")
    parser.add_argument("--pipeline-seconds", type=float, default=60.0,
                        help="how long the pipeline is fed at its target rate (default 60)")
    parser.add_argument("--payload", choices=("real", "trimmed"), default="real",
                        help="pipeline: webhooks of Shopify's real shape, size and mix, built from "
                             "../shared/shopify/samples (default), or the earlier figures' 235-byte guest orders")
    parser.add_argument("--scale-orders", type=int, default=6_000,
                        help="scale: real-shaped webhooks drained by 1, 2 and 4 workers on PostgreSQL (default 6,000)")
    parser.add_argument("--syncs", type=int, default=10_000, help="balance changes in the Shopify burst")
    parser.add_argument("--import-orders", type=int, default=100_000,
                        help="orders in the history import (default 100,000; the target is judged at 1,000,000)")
    parser.add_argument("--writeback-customers", type=int, default=5_000,
                        help="customers written back each way (default 5,000; figures stated for 1,000,000)")
    parser.add_argument("--simulate-orders", type=int, default=None,
                        help="simulate: recorded orders replayed (default 1,000,000, the target's)")
    parser.add_argument("--storefront-entries", type=int, default=None,
                        help="storefront: ledger entries in the shop (default 10,000,000, the target's)")
    parser.add_argument("--storefront-customers", type=int, default=None,
                        help="storefront: customers in the shop (default 1,000,000, the target's)")
    parser.add_argument("--storefront-requests", type=int, default=300,
                        help="storefront: measured requests per endpoint and programme (default 300)")
    parser.add_argument("--storefront-programmes", default="store-b,vip-tiers",
                        help="storefront: ready programmes measured in turn on the same data")
    parser.add_argument("--support-requests", type=int, default=200, help="support: measured requests per kind")
    parser.add_argument("--home-requests", type=int, default=200, help="admin_home: measured requests per endpoint")
    parser.add_argument("--no-write", action="store_true", help="print only; leave tools/bench/results.md alone")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run what was asked and report."""
    options = parse_args(argv)
    names = [n.strip() for n in options.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    started, machine_line = datetime.now(timezone.utc), machine()
    figures: list[Figure] = []
    for name in names:
        began = time.monotonic()
        print(f"-- {name}", flush=True)
        found = importlib.import_module(BENCHMARKS[name]).run(options)
        for figure in found:
            print("  " + figure.row(), flush=True)
        print(f"   ({time.monotonic() - began:.0f} s)", flush=True)
        figures += found
    command = "make bench" if argv is None and sys.argv[1:] == [] else "python -m tools.bench " + " ".join(sys.argv[1:])
    database = (os.environ.get("DATABASE_URL") or "sqlite").split(":", 1)[0]
    if not options.no_write:
        write(figures, command, database, started, machine_line)
    failed = [f.name for f in figures if f.passed is False]
    print(f"{len(figures)} figures, {sum(f.passed is True for f in figures)} targets met, {len(failed)} missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
