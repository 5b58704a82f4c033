"""The pipeline's same-run baseline: the machine's raw durable idempotent write rate through the driver.

A plain loop over the driver (`sqlite3`; on PostgreSQL `psycopg`), no SQLAlchemy, no app code: for each
recorded webhook it parses the body, writes an order row, an idempotent ledger entry (INSERT ... ON CONFLICT
DO NOTHING on a unique key) and marks the inbox row processed, 500 per durable transaction (SQLite in WAL
with `synchronous=FULL`, as the app's engine sets it; PostgreSQL as configured, e.g. `synchronous_commit`
on). It runs in throw-away tables of its own (bench_raw_*) in the benchmark's database, on the same bodies
the pipeline applies, so `pipeline / raw` compares machines: what share of the machine's limit the app gets.

Two layouts of the raw inbox: `wide` (the body in the inbox row, as issue 13 measured its 3,423/s: on SQLite
every mark then rewrites the body's overflow pages) and `narrow` (the body in a table of its own, as the app
keeps them since migration 0015: the same loop runs about twice as fast here). The pipeline reports against
both.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal

BATCH = 500
"""Orders per durable transaction."""

INBOX = {
    "wide": ("CREATE TABLE bench_raw_inbox (id {serial} PRIMARY KEY, webhook_id TEXT NOT NULL UNIQUE, "
             "topic TEXT NOT NULL, body TEXT NOT NULL, processed_at TEXT)",),
    "narrow": ("CREATE TABLE bench_raw_inbox (id {serial} PRIMARY KEY, webhook_id TEXT NOT NULL UNIQUE, "
               "topic TEXT NOT NULL, processed_at TEXT)",
               "CREATE TABLE bench_raw_bodies (inbox_id BIGINT PRIMARY KEY REFERENCES bench_raw_inbox (id), "
               "body TEXT NOT NULL)"),
}
"""The raw inbox's tables by layout."""
TABLES = (
    "CREATE TABLE bench_raw_orders (id {serial} PRIMARY KEY, shop TEXT NOT NULL, order_id BIGINT NOT NULL,"
    " email TEXT, customer_id BIGINT, total NUMERIC NOT NULL, processed_at TEXT, UNIQUE (shop, order_id))",
    "CREATE TABLE bench_raw_ledger (id {serial} PRIMARY KEY, shop TEXT NOT NULL, customer TEXT NOT NULL,"
    " points INTEGER NOT NULL, idempotency_key TEXT NOT NULL, UNIQUE (shop, idempotency_key))",
)
WRITE_ORDER = ("INSERT INTO bench_raw_orders (shop, order_id, email, customer_id, total, processed_at)"
               " VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (shop, order_id) DO NOTHING")
WRITE_ENTRY = ("INSERT INTO bench_raw_ledger (shop, customer, points, idempotency_key) VALUES ({p}, {p}, {p}, {p})"
               " ON CONFLICT (shop, idempotency_key) DO NOTHING")
MARK = "UPDATE bench_raw_inbox SET processed_at = {p} WHERE id = {p}"


@dataclass(frozen=True)
class RawRate:
    """Orders per second and the cost of one order, in microseconds of wall time."""

    orders: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds

    @property
    def us_per_order(self) -> float:
        return self.seconds / self.orders * 1e6


def measure(database_url: str, deliveries: list[tuple[str, bytes]], shop: str, layout: str = "wide") -> RawRate:
    """Record `deliveries` in the throw-away inbox (untimed), then time the loop that applies them."""
    connect, p, serial = _driver(database_url)
    conn = connect()
    try:
        _drop(conn)
        for statement in INBOX[layout] + TABLES:
            conn.execute(statement.format(serial=serial))
        heads = [(n + 1, f"raw-{n}", topic) for n, (topic, _) in enumerate(deliveries)]
        bodies = [body.decode() for _, body in deliveries]
        if layout == "wide":
            conn.cursor().executemany(f"INSERT INTO bench_raw_inbox (id, webhook_id, topic, body) VALUES ({p}, {p}, {p}, {p})",
                                      [head + (body,) for head, body in zip(heads, bodies)])
            read = "SELECT id, topic, body FROM bench_raw_inbox ORDER BY id"
        else:
            conn.cursor().executemany(f"INSERT INTO bench_raw_inbox (id, webhook_id, topic) VALUES ({p}, {p}, {p})", heads)
            conn.cursor().executemany(f"INSERT INTO bench_raw_bodies (inbox_id, body) VALUES ({p}, {p})",
                                      [(head[0], body) for head, body in zip(heads, bodies)])
            read = "SELECT id, topic, body FROM bench_raw_inbox JOIN bench_raw_bodies ON inbox_id = id ORDER BY id"
        conn.commit()
        rows = conn.execute(read).fetchall()
        started = time.perf_counter()
        _apply(conn, rows, shop, p)
        seconds = time.perf_counter() - started
        _drop(conn)
        conn.commit()
    finally:
        conn.close()
    return RawRate(len(rows), seconds)


def _apply(conn, rows, shop: str, p: str) -> None:
    """The timed loop: parse, order row, idempotent entry, inbox mark; commit every BATCH."""
    write_order, write_entry, mark = (s.format(p=p) for s in (WRITE_ORDER, WRITE_ENTRY, MARK))
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for start in range(0, len(rows), BATCH):
        for row_id, topic, text in rows[start:start + BATCH]:
            body = json.loads(text)
            order_id = body.get("order_id") or body["id"]
            customer = body.get("customer") or {}
            total = sum((Decimal(str(item.get("price") or item.get("subtotal") or 0)) * int(item.get("quantity") or 1)
                         for item in body.get("line_items") or body.get("refund_line_items") or ()), Decimal(0))
            email = body.get("email")
            conn.execute(write_order, (shop, order_id, email, customer.get("id"), str(total),
                                       body.get("processed_at") or body.get("created_at")))
            conn.execute(write_entry, (shop, str(customer.get("id") or email), int(total),
                                       f"{topic}:{body['id']}"))
            conn.execute(mark, (now, row_id))
        conn.commit()


def _driver(database_url: str):
    """(connect, parameter placeholder, serial column type) for the URL's database."""
    if database_url.startswith("sqlite"):
        import sqlite3

        path = database_url.split("///", 1)[1]

        def connect():
            conn = sqlite3.connect(path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            return conn
        return connect, "?", "INTEGER"
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(drivername="postgresql")
    return (lambda: psycopg.connect(url.render_as_string(hide_password=False))), "%s", "BIGSERIAL"


def _drop(conn) -> None:
    for table in ("bench_raw_bodies", "bench_raw_inbox", "bench_raw_orders", "bench_raw_ledger"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
