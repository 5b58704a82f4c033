"""History import benchmark: N orders of bulk-operation JSONL into the ledger, on SQLite and PostgreSQL.

    python -m tools.bench.history_import                  # 1,000,000 orders (BENCH_HISTORY_ORDERS), writes results
    BENCH_HISTORY_ORDERS=50000 python -m tools.bench.history_import

The file is generated in Shopify's bulk shape (an order line, then its line items with `__parentId`): 200,000
customers, 1-3 lines per order, 5% paid partly by gift card, 5% refunded (refund lines inline, as a reconcile
page carries them: the bulk file's per-refund look-up is an Admin API call, not measured here), 1% cancelled,
2% guests. Each import runs in its own process (`loyalty import history SHOP --file`'s code path), so its
peak memory (PSS summed with its reading process's) is its own. PostgreSQL runs when DATABASE_URL names one,
else on a throw-away cluster when the server binaries are installed.
"""
from __future__ import annotations

import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ORDERS = int(os.environ.get("BENCH_HISTORY_ORDERS", "1000000"))
SHOP = "bench.myshopify.com"


def generate(path: Path, count: int, seed: int = 5) -> int:
    """Write `count` orders of bulk JSONL to `path` (streamed); returns its size in bytes."""
    rng = random.Random(seed)
    start = datetime(2021, 1, 1, tzinfo=timezone.utc)
    with open(path, "w") as out:
        for n in range(count):
            order_id = 10**12 + n
            when = (start + timedelta(minutes=n * 2)).strftime("%Y-%m-%dT%H:%M:%SZ")
            person = rng.randrange(200_000)
            guest = rng.random() < 0.02
            lines = [(rng.choice(("9.90", "19.90", "45.00", "89.00")), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
            total = sum(float(p) * q for p, q in lines)
            gift = round(min(total, 20.0), 2) if rng.random() < 0.05 else 0
            payments = [{"gateway": "shopify_payments", "kind": "SALE", "status": "SUCCESS",
                         "amountSet": {"shopMoney": {"amount": f"{total - gift:.2f}"}}}]
            if gift:
                payments.append({"gateway": "gift_card", "kind": "SALE", "status": "SUCCESS",
                                 "amountSet": {"shopMoney": {"amount": f"{gift:.2f}"}}})
            refunds = []
            if rng.random() < 0.05:
                refunds.append({"id": f"gid://shopify/Refund/{order_id}", "createdAt": when,
                                "refundLineItems": {"nodes": [{"subtotalSet": {"shopMoney": {"amount": lines[0][0]}}}]}})
            node = {
                "id": f"gid://shopify/Order/{order_id}", "name": f"#{n + 1000}", "email": f"shopper{person}@example.com",
                "createdAt": when, "processedAt": when, "updatedAt": when,
                "cancelledAt": when if rng.random() < 0.01 else None, "test": False, "sourceName": "web",
                "currencyCode": "EUR", "displayFinancialStatus": "PAID",
                "paymentGatewayNames": [p["gateway"] for p in payments], "discountCodes": [],
                "customer": None if guest else {"id": f"gid://shopify/Customer/{10**9 + person}",
                                                "email": f"shopper{person}@example.com", "tags": []},
                "purchasingEntity": None, "transactions": payments, "refunds": refunds,
            }
            out.write(json.dumps(node, separators=(",", ":")) + "\n")
            for i, (price, quantity) in enumerate(lines):
                out.write(json.dumps({"__typename": "LineItem", "id": f"gid://shopify/LineItem/{order_id * 10 + i}",
                                      "quantity": quantity, "originalUnitPriceSet": {"shopMoney": {"amount": price}},
                                      "discountAllocations": [], "__parentId": node["id"]},
                                     separators=(",", ":")) + "\n")
    return path.stat().st_size


def measure(database_url: str, jsonl: Path, work: Path) -> dict:
    """Migrate a database, install the shop, import the file in a child process; seconds and peak RSS."""
    from cryptography.fernet import Fernet
    from sqlalchemy import create_engine, func, select, text

    from db.migrate import upgrade
    from db.tables import ledger_entries

    upgrade(database_url)
    key = Fernet.generate_key().decode()
    env = dict(os.environ, DATABASE_URL=database_url, LOYALTY_ENCRYPTION_KEYS=key, SHOPIFY_API_SECRET="bench",
               REDIS_URL="redis://127.0.0.1:1/0", LOYALTY_VAR_DIR=str(work), LOYALTY_REDIS_TIMEOUT="0.05")
    subprocess.run([sys.executable, "-m", "cli", "shops", "add", SHOP, "--token", "t", "--no-import-history"],
                   env=env, check=True, capture_output=True)
    engine = create_engine(database_url)
    with engine.begin() as conn:  # the programme started after these orders: install date after the last one
        conn.execute(text("UPDATE shops SET installed_at = :at"), {"at": datetime(2030, 1, 1, tzinfo=timezone.utc)})
    out, err = open(work / "import.out", "w+"), open(work / "import.err", "w+")
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "cli", "import", "history", SHOP, "--file", str(jsonl), "--json"],
                             env=env, stdout=out, stderr=err)
    tree = TreeMemory(child.pid)
    _, status, usage = os.wait4(child.pid, 0)  # CPU time of the import and of its reader (waited for by it)
    seconds = time.perf_counter() - started
    tree.stop()
    child.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0), err.seek(0)
    if child.returncode != 0:
        raise RuntimeError(err.read()[-2000:])
    result = json.loads(out.read())
    cpu, peak_kib = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
    with engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(ledger_entries)).scalar()
    engine.dispose()
    return {"seconds": seconds, "cpu_seconds": cpu, "orders": result["orders_done"],
            "orders_per_second": result["orders_done"] / seconds,
            "points": result["points_credited"], "entries": entries,
            "peak_rss_mb": max(peak_kib / 1024, tree.peak_mb), "largest_process_mb": peak_kib / 1024,
            "status": result["status"]}


class TreeMemory:
    """Peak memory of a process and its children (the import and its reading process), sampled four times a
    second: their summed PSS (the pages the fork shares counted once, split between the two), where the
    system gives it, else their summed RSS (shared pages counted twice)."""

    def __init__(self, pid: int):
        import threading

        self.peak_mb, self._pid, self._done = 0.0, pid, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil
        while not self._done.wait(0.25):
            try:
                root = psutil.Process(self._pid)
                processes = [root] + root.children(recursive=True)
                total = 0
                for process in processes:
                    try:
                        total += getattr(process.memory_full_info(), "pss", None) or process.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                return
            self.peak_mb = max(self.peak_mb, total / 2**20)

    def stop(self) -> None:
        """Stop sampling."""
        self._done.set()
        self._thread.join()


def run(options) -> list:
    """For `python -m tools.bench --only import [--import-orders N]`: the figures, the target judged at 1,000,000
    orders (a smaller run is reported, not judged)."""
    from tools.bench.report import Figure

    orders = options.import_orders
    found = measure_all(orders)
    judged = orders >= 1_000_000
    figures = []
    for backend in ("sqlite", "postgresql"):
        f = found[backend]
        if isinstance(f, str):
            figures.append(Figure(f"history import {orders:,} orders, {backend}", f))
            continue
        target = backend == "sqlite" and judged
        figures.append(Figure(
            f"history import {orders:,} orders ({found['file_mb']:,.0f} MB JSONL), {backend}",
            f"{f['seconds']:,.1f} s wall, {f['cpu_seconds']:,.1f} s CPU, {f['orders_per_second']:,.0f} orders/s",
            "< 100 s for 1,000,000" if backend == "sqlite" else "", f["seconds"] < 100 if target else None,
            "" if judged else "not judged below 1,000,000 orders: `python -m tools.bench --only import "
                              "--import-orders 1000000`"))
        figures.append(Figure(f"history import peak memory (PSS of import + reader), {backend}",
                              f"{f['peak_rss_mb']:,.0f} MB (largest process {f['largest_process_mb']:,.0f} MB)",
                              "< 200 MB" if backend == "sqlite" else "",
                              f["peak_rss_mb"] < 200 if backend == "sqlite" else None))
    return figures


def measure_all(orders: int = ORDERS) -> dict:
    """Generate the file and import it on SQLite and (when available) PostgreSQL; the figures by backend."""
    work = Path(tempfile.mkdtemp(prefix="loyalty-bench-history-"))
    figures = {"orders": orders}
    try:
        jsonl = work / "orders.jsonl"
        figures["file_mb"] = generate(jsonl, orders) / 1e6
        figures["sqlite"] = measure(f"sqlite:///{work / 'bench.db'}", jsonl, work)
        figures["postgresql"] = _postgres(jsonl, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return figures


def _postgres(jsonl: Path, work: Path):
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return measure(url.replace("postgresql://", "postgresql+psycopg://", 1), jsonl, work)
    try:
        from sqlalchemy import create_engine, text

        from tools.local_services import PostgresCluster
        cluster = PostgresCluster(durable=True).start()  # fsync and synchronous commits, as in production
    except (ImportError, RuntimeError, OSError) as exc:
        return f"not run: {exc}"
    try:
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        return measure(cluster.url("bench"), jsonl, work)
    finally:
        cluster.stop()


def write(figures: dict) -> str:
    """Append this run's section to tools/bench/results.md; returns it."""
    from jobs.history import CHUNK
    cpu = os.cpu_count()
    rows = [f"## History import, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {cpu} cores, "
            f"Python {platform.python_version()}; command: `python -m tools.bench.history_import`",
            "",
            f"{figures['orders']:,} orders of bulk-operation JSONL ({figures['file_mb']:,.0f} MB), one process, "
            f"chunks of {CHUNK:,} orders, read ahead by a second process. Target: under 100 s and 200 MB peak RSS "
            f"on SQLite. Load average during the run: {os.getloadavg()[0]:.1f} (the CPU time, of the import "
            "and its reading process, is the figure other processes do not inflate; PostgreSQL's own server time "
            "is not in it). Peak memory: the PSS of the import and its reading process summed (pages shared by the "
            "fork counted once); in brackets the peak RSS of the largest process.",
            "",
            "| backend | wall time | CPU time of the import processes | orders/s (wall) | peak memory (largest RSS) "
            "| ledger entries |",
            "|---|---|---|---|---|---|"]
    for backend in ("sqlite", "postgresql"):
        f = figures[backend]
        if isinstance(f, str):
            rows.append(f"| {backend} | {f} | | | | |")
        else:
            rows.append(f"| {backend} | {f['seconds']:,.1f} s | {f['cpu_seconds']:,.1f} s | "
                        f"{f['orders_per_second']:,.0f} | {f['peak_rss_mb']:,.0f} MB "
                        f"({f['largest_process_mb']:,.0f} MB) | {f['entries']:,} |")
    section = "\n".join(rows) + "\n"
    path = Path(__file__).resolve().parent / "results.md"
    path.write_text(path.read_text() + "\n" + section if path.exists() else "# Benchmark results\n\n" + section)
    return section


if __name__ == "__main__":
    print(write(measure_all()))
