"""The history import job: orders placed before the programme, from a bulk operation's JSONL (or a local
file), into the ledger by the webhook rules; streamed in chunks, each committed with the run's progress, so
a crashed import resumes after its last chunk and a repeated one changes nothing.

    import_history("store-a.myshopify.com")                   # bulk operation, then import
    import_history(shop, file="orders.jsonl", dry_run=True)   # what would be credited; nothing written
"""
from __future__ import annotations

import gc
import logging
import os
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial

from sqlalchemy import and_, case, func, select

from db.engine import reading
from db.rows import fewer_checkpoints
from db.tables import customers, ledger_entries as le, refunds, shops
from integrations.shopify.refunds import fetch_refund_line_items
from integrations.shopify import bulk
from integrations.shopify.documents import HISTORY_ORDERS_BULK_QUERY
from loyalty.services import collections, import_runs as runs
from loyalty.services.events import shopify_client
from integrations.shopify.read_ahead import translated_chunks
from integrations.shopify.translate_graphql import refund_merchandise
from loyalty.domain.commands import RecordRefund
from loyalty.services.history import ImportTotals, apply_orders, expire_gaps, plan_fresh
from loyalty.services.shops import ShopRef, get_shop, programme
from loyalty.services.tokens import lacks_scope
from loyalty.services.context import Context, get_context
from loyalty.services.errors import ImportBusy
from loyalty.defaults import IMPORT_GC_THRESHOLD as GC_THRESHOLD, IMPORT_STALE_SECONDS as STALE_SECONDS

log = logging.getLogger(__name__)

CHUNK = int(os.environ.get("LOYALTY_IMPORT_CHUNK", "2000"))
"""Orders per committed chunk (memory grows with it: 5,000 costs ~50 MB more than 2,000 for little speed)."""
CHECKPOINT_PAGES = int(os.environ.get("LOYALTY_IMPORT_CHECKPOINT_PAGES", "20000"))
"""SQLite: write-ahead log pages between two checkpoints while an import writes (SQLite's default is 1,000);
the log may grow to this many pages (4 KiB each) on disk. Commits are synced as always."""


def import_history(shop_domain: str, file: str | None = None, dry_run: bool = False, ctx: Context | None = None,
                   client_factory=shopify_client, chunk: int = CHUNK, now: datetime | None = None,
                   http=None) -> dict:
    """RQ job and `loyalty import history`: import (or with `dry_run`, simulate) the shop's past orders.
    `now` decides which pending periods are over; `http` is the requests session that downloads the JSONL."""
    ctx = ctx or get_context()
    now = now or datetime.now(timezone.utc)
    source = Source(ctx, shop_domain, client_factory, http)
    if dry_run:
        return _dry_run(ctx, source, file, chunk, now)
    run_id, position, origin = _start_or_resume(ctx, source.shop, file, now)
    with runs.failing_with_reason(ctx, run_id, shop_domain), rare_collections():
        if origin is None:
            source.check_scopes()
            origin = source.bulk_export(run_id, now)
        with ctx.engine.connect() as conn, fewer_checkpoints(conn, CHECKPOINT_PAGES):
            for orders, end_line, end_byte, plans in source.chunks(origin, position, chunk, now):
                with conn.begin():  # one committed (and synced) transaction per chunk
                    totals = apply_orders(conn, source.shop, orders, now, plans)
                    runs.progress(conn, run_id, totals, _clock(), lines_done=end_line, bytes_done=end_byte,
                                  last_order_id=orders[-1].facts.order_id if orders else None)
                _pause_between_chunks_for_tests()
        with ctx.engine.begin() as conn:
            expire_gaps(conn, source.shop, now)
            runs.finish(conn, run_id, now)
    return runs.completed(ctx, run_id)


class Source:
    """Where a run's orders come from: a bulk operation of the shop's Admin API, or a JSONL file; and the
    Admin API calls a record may need (refund line items)."""

    def __init__(self, ctx: Context, shop_domain: str, client_factory, http=None):
        self.ctx, self.client_factory, self.client, self.http = ctx, client_factory, None, http
        with reading(ctx.engine) as conn:
            self.shop: ShopRef = get_shop(conn, shop_domain)
            self.installed_at = conn.execute(select(shops.c.installed_at).where(shops.c.id == self.shop.id)).scalar()

    def admin(self):
        """The shop's Admin API client, made on first need."""
        if self.client is None:
            with reading(self.ctx.engine) as conn:
                self.client = self.client_factory(self.ctx, self.shop, conn)
        return self.client

    def check_scopes(self) -> None:
        """MissingScope when the shop's grant is known to lack read_all_orders: Shopify would then return only
        the last 60 days of orders, and the import would miss the older ones without a word."""
        with reading(self.ctx.engine) as conn:
            if lacks_scope(conn, self.shop.domain, "read_all_orders"):
                raise runs.MissingScope("read_all_orders", f"{self.shop.domain} did not grant read_all_orders: "
                                        "Shopify would return only the last 60 days of orders")

    def bulk_export(self, run_id: int | None, now: datetime) -> str:
        """Run the bulk query of orders created before the install; the URL of its JSONL ("" when none)."""
        installed = self.installed_at if self.installed_at.tzinfo else self.installed_at.replace(tzinfo=timezone.utc)
        search = f"created_at:<'{installed.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}'"
        operation_id = bulk.start_bulk_query(self.admin(), HISTORY_ORDERS_BULK_QUERY.replace("FILTER", search))
        if run_id is not None:
            with self.ctx.engine.begin() as conn:
                runs.set_values(conn, run_id, now, bulk_operation_id=operation_id)
        url = bulk.wait_for(self.admin(), operation_id).url or ""
        if run_id is not None:
            with self.ctx.engine.begin() as conn:
                runs.set_values(conn, run_id, now, source=url)
        return url

    def lines(self, origin: str, skip_bytes: int):
        """The JSONL's lines from byte `skip_bytes` on."""
        if origin.startswith(("http://", "https://")):
            return bulk.url_lines(origin, skip_bytes, session=self.http)
        return bulk.file_lines(origin, skip_bytes) if origin else iter(())

    def chunks(self, origin: str, position: tuple[int, int], size: int, now: datetime):
        """(ImportOrders, end line, end byte, plans by order id) of each chunk of `size` orders after
        `position` (lines, bytes done), read and planned (as of `now`) ahead by a child process, completed
        with the refund lines the app does not know yet."""
        with reading(self.ctx.engine) as conn:
            prog = programme(conn, self.shop.id, self.shop.settings_version)
            members = collections.all_members(conn, self.shop.id, prog)
            plan = partial(plan_fresh, self.shop, prog, now=now, members=members)
        for orders, end_line, end_byte, plans in translated_chunks(partial(self.lines, origin), position, size,
                                                                   self.shop.domain, plan=plan):
            yield self.complete_refunds(orders), end_line, end_byte, plans

    def complete_refunds(self, orders: list) -> list:
        """The orders with the line items of their refunds that the app does not know yet (asked of Shopify)."""
        wanted = {rid for o in orders for rid, _ in o.refunds_to_fetch}
        if not wanted:
            return orders
        with reading(self.ctx.engine) as conn:
            known = set(conn.execute(select(refunds.c.shopify_refund_id).where(
                refunds.c.shop_id == self.shop.id, refunds.c.shopify_refund_id.in_(wanted))).scalars())
        completed = []
        for order in orders:
            fetched = tuple(RecordRefund(rid, order.facts.order_id,
                                         refund_merchandise(fetch_refund_line_items(self.admin(), rid)), created)
                            for rid, created in order.refunds_to_fetch if rid not in known)
            completed.append(replace(order, refunds=order.refunds + fetched, refunds_to_fetch=()))
        return completed


@contextmanager
def rare_collections(threshold: int = GC_THRESHOLD):
    """Python's cycle collector, run far less often while an import allocates millions of short-lived
    objects (rows, tuples) that reference counting frees anyway: at its default pace it took a quarter of
    the import's time. The reading process, forked inside, inherits it. Restored after."""
    before = gc.get_threshold()
    gc.set_threshold(threshold, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _start_or_resume(ctx: Context, shop: ShopRef, file: str | None, now: datetime):
    """(run id, (lines, bytes) done, source or None when the bulk export is still to run)."""
    with ctx.engine.begin() as conn:
        run = runs.resumable(conn, shop.id, "history")
        if run is not None and file is not None and run.source != str(file):
            raise ImportBusy(f"an import of {shop.domain} from {run.source} did not finish: resume it first")
        if run is not None:
            updated = run.updated_at if run.updated_at.tzinfo else run.updated_at.replace(tzinfo=timezone.utc)
            if run.status == "running" and (_clock() - updated).total_seconds() < STALE_SECONDS:
                raise ImportBusy(f"an import of {shop.domain} is running (run {run.id}, last progress {updated})")
            runs.reopen(conn, run.id, now)
            log.info("resuming history import %s of %s after line %s", run.id, shop.domain, run.lines_done)
            return run.id, (run.lines_done, run.bytes_done), run.source
        run_id = runs.start(conn, shop.id, "history", now, source=str(file) if file else None)
        return run_id, (0, 0), str(file) if file else None


@rare_collections()
def _dry_run(ctx: Context, source: Source, file: str | None, chunk: int, now: datetime) -> dict:
    """Apply each chunk inside a transaction that is rolled back, reading back what it would have written."""
    origin = str(file) if file else source.bulk_export(None, now)
    totals, people = ImportTotals(), {}
    for orders, _, _, plans in source.chunks(origin, (0, 0), chunk, now):
        with ctx.engine.connect() as conn:
            transaction = conn.begin()
            try:
                before = conn.execute(select(func.coalesce(func.max(le.c.id), 0))).scalar()
                totals.add(apply_orders(conn, source.shop, orders, now, plans))
                earned = func.sum(case((le.c.kind == "earn", le.c.pending), else_=0))
                for row in conn.execute(
                        select(customers.c.email, customers.c.shopify_customer_id, earned.label("earned"),
                               func.sum(le.c.pending).label("pending"), func.sum(le.c.available).label("available"))
                        .join(customers, customers.c.id == le.c.customer_id)
                        .where(and_(le.c.id > before, le.c.shop_id == source.shop.id, le.c.created_at == now))
                        .group_by(customers.c.email, customers.c.shopify_customer_id)):
                    who = row.email or f"gid://shopify/Customer/{row.shopify_customer_id}"
                    mine = people.setdefault(who, {"points": 0, "pending": 0, "available": 0})
                    mine["points"] += int(row.earned)
                    mine["pending"] += int(row.pending)
                    mine["available"] += int(row.available)
            finally:
                transaction.rollback()
    return {"dry_run": True, "shop": source.shop.domain, "orders": totals.orders,
            "orders_credited": totals.credited, "points_credited": totals.points,
            "customers": dict(sorted(people.items())),
            "note": "expiry of points older than the shop's window is applied by the real import, not shown"}


def _clock() -> datetime:
    """Wall-clock time for the run's own bookkeeping (progress, staleness); `now` is business time."""
    return datetime.now(timezone.utc)


def _pause_between_chunks_for_tests() -> None:
    """Lets the crash test kill an import between two committed chunks (LOYALTY_TEST_PAUSE_IN_IMPORT=seconds);
    unset in every real deployment."""
    pause = os.environ.get("LOYALTY_TEST_PAUSE_IN_IMPORT")
    if pause:
        import time
        time.sleep(float(pause))
