"""Balance write-back at big-shop scale: when many customers of a shop wait in `customer_sync` (a history
import gives a million), their metafields are written by one bulk mutation instead of thousands of
`metafieldsSet` calls inside the rate limit (jobs.sync calls `write_in_bulk` first for each shop).

A write goes through the states of its `bulk_writes` row, each committed, so a job that dies anywhere is
resumed by the next one, never doubled:
- preparing: waiting customers (oldest change first) get their perk tags written by calls as a sync pass
  does, and one JSONL line each (their five metafields) in `bulk_write_lines`, with the `changed_at` seen;
  until the file would pass MAX_BYTES or nobody else waits;
- starting: the JSONL is staged and `bulkOperationRunMutation` sent. A crash may leave Shopify running an
  operation whose id was never recorded: the app's current bulk mutation is asked first, and adopted when it
  is ours (same mutation, created since, not recorded by another write), so no second one is started;
- running: polled (`node(id:)`) until finished, then each result line's customer is no longer waiting if its
  `changed_at` is still the one seen (a balance that changed meanwhile is written again later, by calls or by
  the next bulk write); a line Shopify rejected leaves its customer waiting, logged with the reason.
While a shop's write is active its customers are written by nothing else (a call racing the operation could
be overwritten by an older value), so the shop's other changes wait for it.
"""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta, timezone

import orjson
from sqlalchemy import and_, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from db.engine import reading
from db.tables import bulk_write_lines as lines_t, bulk_writes, customer_sync, customers, shops
from integrations.shopify import bulk, bulk_mutation
from integrations.shopify.documents import METAFIELDS_SET
from jobs import write_back
from loyalty.services.events import ShopGone
from loyalty.services import perks, sync_failures
from loyalty.services.shops import ShopRef, UnknownShop, get_shop
from loyalty.services.context import Context
from loyalty.defaults import (BULK_LEASE_SECONDS as LEASE_SECONDS, BULK_PREPARE_CHUNK as PREPARE_CHUNK,
                              BULK_RESULT_CHUNK as RESULT_CHUNK, BULK_START_SKEW as START_SKEW)

log = logging.getLogger(__name__)

THRESHOLD = int(os.environ.get("LOYALTY_BULK_WRITE_THRESHOLD", "2000"))
"""Waiting customers of one shop from which their balances go by bulk mutation rather than by calls. 2,000
customers are 400 metafieldsSet calls (4,000 points): 20 s of a standard plan's budget (100 points/s) beyond
its full bucket, taken from every other call of the app to that shop; a bulk mutation costs ~30 points
whatever its size but takes Shopify a while to schedule and run, so small batches stay with calls."""
MAX_BYTES = int(os.environ.get("LOYALTY_BULK_WRITE_MAX_BYTES", str(20 * 1024 * 1024)))
"""Largest JSONL of one bulk mutation (Shopify's stated limit for the variables file is 20 MB): about
35,000 customers; more waiting customers go in the next operation."""
WAIT_SECONDS = float(os.environ.get("LOYALTY_BULK_WRITE_WAIT", "300"))
"""How long a job without a time slice (the CLI) polls a running operation before leaving it to the next."""


def write_in_bulk(ctx: Context, shop_id: int, client_factory, deadline: float | None = None,
                  sleep=time.sleep) -> tuple[int, bool]:
    """Advance the shop's bulk write, starting one when THRESHOLD customers wait: (customers written, whether
    a bulk write still holds the shop's customers, so that calls must not write them now)."""
    with reading(ctx.engine) as conn:
        active = conn.execute(select(bulk_writes.c.id).where(bulk_writes.c.shop_id == shop_id,
                                                             bulk_writes.c.status != "done")).scalar()
        if active is None and not enough_waiting(conn, shop_id):
            return 0, False
        domain = conn.execute(select(shops.c.domain).where(shops.c.id == shop_id)).scalar()
        try:
            shop = get_shop(conn, domain)
        except UnknownShop:
            shop = None
        try:
            client = shop and client_factory(ctx, shop, conn)
        except ShopGone:  # installed, its token not usable: jobs.sync keeps what waits and says why
            return 0, False
    if client is None:
        if active is not None:
            _finish(ctx, active, error="the shop is uninstalled")
        return 0, False  # jobs.sync drops what waits for a shop that is gone
    write_id = _create(ctx, shop_id) if active is None else active if _claim(ctx, active) else None
    if write_id is None:
        return 0, True  # another worker is on this shop's write
    deadline = deadline if deadline is not None else time.monotonic() + WAIT_SECONDS
    try:
        return _advance(ctx, shop, client, write_id, deadline, sleep)
    finally:
        with ctx.engine.begin() as conn:
            conn.execute(update(bulk_writes).where(bulk_writes.c.id == write_id).values(lease_until=None))


def enough_waiting(conn, shop_id: int) -> bool:
    """Whether THRESHOLD customers of the shop wait (counting no further than that)."""
    waiting = sync_failures.join_set_asides(select(customer_sync.c.customer_id)).where(
        customer_sync.c.shop_id == shop_id, sync_failures.due(datetime.now(timezone.utc))).limit(THRESHOLD)
    return conn.execute(select(func.count()).select_from(waiting.subquery())).scalar() >= THRESHOLD


def _advance(ctx: Context, shop: ShopRef, client, write_id: int, deadline: float, sleep) -> tuple[int, bool]:
    """Take the write through its states until it is done or time is up."""
    while True:
        with reading(ctx.engine) as conn:
            row = conn.execute(select(bulk_writes).where(bulk_writes.c.id == write_id)).one()
        if row.status == "preparing":
            if not _prepare(ctx, shop, client, row, deadline):
                return 0, True  # the next job goes on preparing
        elif row.status == "starting":
            try:
                _start(ctx, client, row)
            except bulk_mutation.BulkMutationBusy:
                log.warning("bulk write %s of %s waits: Shopify runs another bulk mutation", write_id, shop.domain)
                return 0, True
        elif row.status == "running":
            operation = bulk.bulk_status(client, row.bulk_operation_id)
            if operation.status in bulk.FINISHED:
                written = _apply_results(ctx, shop, client, row, operation)
                with reading(ctx.engine) as conn:
                    return written, enough_waiting(conn, shop.id)
            if time.monotonic() + bulk.POLL_SECONDS > deadline:
                return 0, True  # still running: a later job polls again
            sleep(bulk.POLL_SECONDS)
        else:
            return 0, False


def _prepare(ctx: Context, shop: ShopRef, client, row, deadline: float) -> bool:
    """Add waiting customers' lines until the JSONL is full or nobody else waits (then: `starting`, or
    `done` when no line was needed); False when time ran out first."""
    count, size = row.lines, row.bytes
    while True:
        with reading(ctx.engine) as conn:
            last = conn.execute(select(lines_t.c.changed_at, lines_t.c.customer_id).where(
                lines_t.c.write_id == row.id).order_by(lines_t.c.line.desc()).limit(1)).first()
        now = datetime.now(timezone.utc)
        query = (sync_failures.join_set_asides(
                     select(customer_sync.c.customer_id, customer_sync.c.changed_at, customers.c.shopify_customer_id)
                     .join(customers, customers.c.id == customer_sync.c.customer_id))
                 .where(customer_sync.c.shop_id == shop.id, sync_failures.due(now))
                 .order_by(customer_sync.c.changed_at, customer_sync.c.customer_id).limit(PREPARE_CHUNK))
        if last is not None:  # after the last line added: a customer changed since sorts later, and is checked
            query = query.where(tuple_(customer_sync.c.changed_at, customer_sync.c.customer_id) > tuple(last))
        with ctx.engine.begin() as conn:
            rows = conn.execute(query).all()
            taken = set(conn.execute(select(lines_t.c.customer_id).where(
                lines_t.c.write_id == row.id, lines_t.c.customer_id.in_([r.customer_id for r in rows]))).scalars())
            rows = [r for r in rows if r.customer_id not in taken]
            new_lines, guests, full = _lines_for(conn, shop, row.id, rows, count, size)
            shopify_ids = {line["customer_id"]: line.pop("shopify_customer_id") for line in new_lines}
            tag_changes = perks.unsynced_tags(conn, list(shopify_ids))
        refused, tags_written = write_back.write_tags(client, shopify_ids, tag_changes)
        new_lines = [line for line in new_lines if line["customer_id"] not in refused]
        with ctx.engine.begin() as conn:
            # Lines are committed with their tags marked written: a crash before leaves them to be made again.
            perks.mark_tags_synced(conn, tags_written)
            sync_failures.set_aside(conn, shop.id, refused, now)  # Shopify refused their tags: no line for them
            if new_lines:
                conn.execute(insert(lines_t), new_lines)
            if guests:  # nothing to write to Shopify for an email without an account
                conn.execute(write_back.DELETE_UNCHANGED, [{"cid": r.customer_id, "seen": r.changed_at}
                                                           for r in sorted(guests, key=lambda r: r.customer_id)])
            count += len(new_lines)
            size += sum(len(line["variables"]) + 1 for line in new_lines)
            done = full or len(rows) + len(taken) < PREPARE_CHUNK
            status = ("starting" if count else "done") if done else "preparing"
            conn.execute(update(bulk_writes).where(bulk_writes.c.id == row.id).values(
                lines=count, bytes=size, status=status, updated_at=now, lease_until=_lease(now),
                finished_at=None if count or not done else now))
        if done:
            return True
        if time.monotonic() > deadline:
            return False


def _lines_for(conn, shop: ShopRef, write_id: int, rows, count: int, size: int):
    """(new lines, guests, whether the file is full): each customer's metafields made as a sync pass makes
    them (write_back.customer_metafields), as one line of variables. A customer whose line does not fit
    waits for the next file."""
    new_lines, guests = [], []
    for r, fields in write_back.customer_metafields(conn, shop, rows):
        if fields is None:
            guests.append(r)
            continue
        variables = orjson.dumps({"metafields": fields}).decode()
        if size + len(variables) + 1 > MAX_BYTES:
            return new_lines, guests, True
        new_lines.append({"write_id": write_id, "line": count, "customer_id": r.customer_id, "changed_at": r.changed_at,
                          "variables": variables, "shopify_customer_id": r.shopify_customer_id})
        count, size = count + 1, size + len(variables) + 1
    return new_lines, guests, False


def _start(ctx: Context, client, row) -> None:
    """Stage the JSONL and start the bulk mutation, or adopt the one a crashed attempt started; `running`."""
    now = datetime.now(timezone.utc)
    if row.starting_at is not None:
        adopted = _ours(ctx, row.starting_at, bulk_mutation.current(client))
        if adopted is not None:
            log.info("bulk write %s resumes bulk mutation %s started before a crash", row.id, adopted)
            return _running(ctx, row.id, adopted)
    else:
        with ctx.engine.begin() as conn:  # from now on a crash may leave an operation we did not record
            conn.execute(update(bulk_writes).where(bulk_writes.c.id == row.id).values(
                starting_at=now, updated_at=now, lease_until=_lease(now)))
    with reading(ctx.engine) as conn:
        jsonl = "\n".join(conn.execute(select(lines_t.c.variables).where(lines_t.c.write_id == row.id)
                                       .order_by(lines_t.c.line)).scalars()).encode() + b"\n"
    path = bulk_mutation.stage_upload(client, jsonl)
    try:
        operation_id = bulk_mutation.start(client, METAFIELDS_SET, path).id
    except bulk_mutation.BulkMutationBusy:
        # The start may have reached Shopify on an attempt whose answer was lost (the client retries).
        operation_id = _ours(ctx, row.starting_at or now, bulk_mutation.current(client))
        if operation_id is None:
            raise
    _running(ctx, row.id, operation_id)


def _ours(ctx: Context, starting_at: datetime, current) -> str | None:
    """The id of `current` (the app's latest bulk mutation in the shop) when this write started it: the same
    mutation, created since the write's first attempt, and recorded by no other write."""
    if current is None or (current.query or "").strip() != METAFIELDS_SET.strip() or not current.created_at:
        return None
    created = datetime.fromisoformat(current.created_at.replace("Z", "+00:00"))
    starting_at = starting_at if starting_at.tzinfo else starting_at.replace(tzinfo=timezone.utc)
    if created < starting_at - START_SKEW:
        return None
    with reading(ctx.engine) as conn:
        known = conn.execute(select(bulk_writes.c.id).where(bulk_writes.c.bulk_operation_id == current.id)).first()
    return None if known else current.id


def _running(ctx: Context, write_id: int, operation_id: str) -> None:
    """Record the operation Shopify runs for the write."""
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        conn.execute(update(bulk_writes).where(bulk_writes.c.id == write_id).values(
            status="running", bulk_operation_id=operation_id, updated_at=now, lease_until=_lease(now)))


def _apply_results(ctx: Context, shop: ShopRef, client, row, operation) -> int:
    """Customers whose line applied wait no more (unless changed since); the others stay waiting, logged.
    Idempotent, so a crash here only means reading the results again. Returns customers written."""
    url = operation.url if operation.status == "COMPLETED" else operation.partial_url
    written = rejected = 0
    batch: list[tuple[int, str | None]] = []

    def apply(batch):
        nonlocal written, rejected
        problems = dict(batch)
        now = datetime.now(timezone.utc)
        with ctx.engine.begin() as conn:
            found = conn.execute(select(lines_t.c.line, lines_t.c.customer_id, lines_t.c.changed_at,
                                        customers.c.shopify_customer_id)
                                 .join(customers, customers.c.id == lines_t.c.customer_id)
                                 .where(lines_t.c.write_id == row.id, lines_t.c.line.in_(list(problems)))).all()
            done = [{"cid": f.customer_id, "seen": f.changed_at} for f in found if problems[f.line] is None]
            if done:
                # counted before: a customer changed since its line was made still waits (written later)
                unchanged = conn.execute(select(func.count()).select_from(customer_sync).join(lines_t, and_(
                    lines_t.c.customer_id == customer_sync.c.customer_id,
                    lines_t.c.changed_at == customer_sync.c.changed_at)).where(
                    lines_t.c.write_id == row.id, lines_t.c.line.in_(
                        [f.line for f in found if problems[f.line] is None]))).scalar()
                conn.execute(write_back.DELETE_UNCHANGED, sorted(done, key=lambda d: d["cid"]))  # customer order
                sync_failures.clear(conn, [d["cid"] for d in done])
            refused = [(f.customer_id, f.shopify_customer_id, problems[f.line]) for f in found if problems[f.line]]
            rejected_by_shopify(conn, shop, refused, now)
            conn.execute(update(bulk_writes).where(bulk_writes.c.id == row.id).values(
                updated_at=now, lease_until=_lease(now)))
        written, rejected = written + (unchanged if done else 0), rejected + len(refused)

    for item in bulk_mutation.result_lines(url, session=client.session):
        batch.append(item)
        if len(batch) >= RESULT_CHUNK:
            apply(batch)
            batch = []
    if batch:
        apply(batch)
    error = None if operation.status == "COMPLETED" else f"{operation.status} ({operation.error_code})"
    _finish(ctx, row.id, written=written, rejected=rejected, error=error)
    log.info("bulk write %s of %s: %s of %s customers written, %s rejected%s", row.id, shop.domain, written,
             row.lines, rejected, f"; operation {error}" if error else "")
    return written


def rejected_by_shopify(conn, shop: ShopRef, refused: list[tuple[int, int, str]], now: datetime) -> None:
    """Customers whose line Shopify refused (customer id, Shopify id, reason): set aside with the reason, as a
    refused call sets them aside (loyalty.services.sync_failures); they stay waiting in customer_sync."""
    for customer_id, shopify_id, reason in refused:
        log.warning("balance of customer %s (Shopify customer %s) of %s not written by bulk mutation: %s",
                    customer_id, shopify_id, shop.domain, reason)
    sync_failures.set_aside(conn, shop.id, {customer_id: reason for customer_id, _, reason in refused}, now)


def _create(ctx: Context, shop_id: int) -> int | None:
    """A new write of the shop, owned by this worker; None when another worker just made one."""
    now = datetime.now(timezone.utc)
    try:
        with ctx.engine.begin() as conn:
            return conn.execute(insert(bulk_writes).values(
                shop_id=shop_id, status="preparing", created_at=now, updated_at=now, lease_until=_lease(now))
                .returning(bulk_writes.c.id)).scalar()
    except IntegrityError:  # one active write per shop (uq_bulk_writes_one_active)
        return None


def _claim(ctx: Context, write_id: int) -> bool:
    """Own the write unless another worker's lease on it runs."""
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        taken = conn.execute(update(bulk_writes).where(
            bulk_writes.c.id == write_id, bulk_writes.c.status != "done",
            (bulk_writes.c.lease_until.is_(None)) | (bulk_writes.c.lease_until < now)).values(lease_until=_lease(now)))
        return taken.rowcount == 1


def _finish(ctx: Context, write_id: int, *, written: int = 0, rejected: int = 0, error: str | None = None) -> None:
    """The write is done: its totals kept, its lines dropped."""
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        conn.execute(delete(lines_t).where(lines_t.c.write_id == write_id))
        conn.execute(update(bulk_writes).where(bulk_writes.c.id == write_id).values(
            status="done", written=written, rejected=rejected, error=error, updated_at=now, finished_at=now,
            lease_until=None))


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=LEASE_SECONDS)
