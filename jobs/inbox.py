"""The inbox processor: recorded webhooks are claimed in batches and applied, one transaction per batch.

The inbox table is the durable queue; Redis only carries the wake-up. A batch is one transaction, so a
worker killed mid-batch leaves nothing half-done: its lease expires and the rows are claimed again.

A batch is first applied without savepoints (two statements fewer per event); only when one of its events
fails is the batch rolled back and applied again with one savepoint per event, so that event fails alone.
Batches are sized by time, not only by count: on SQLite a batch holds the single write lock while it runs,
and the web process gives up on the lock after LOYALTY_DB_TIMEOUT (answering 503, so Shopify redelivers
later), so a batch's write transaction is kept to about BATCH_SECONDS whatever the machine's speed (the
parsing and payment look-ups before it hold no lock and are not counted).
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import DataError

from db.engine import lease_transaction
from db.tables import webhook_bodies as bodies, webhook_inbox as inbox
from loyalty.services import events, ledger, uninstalls
from integrations.shopify import json_body
from integrations.shopify.translate import BadPayload, to_command
from loyalty.services.context import Context, get_context
from loyalty.services.wakeups import INBOX_WAKE_KEY as WAKE_KEY, wake_sync, wake_worker
from loyalty.defaults import (INBOX_BATCH_SECONDS as BATCH_SECONDS, INBOX_JOB_SECONDS as JOB_SECONDS,
                              INBOX_LEASE as LEASE, INBOX_MAX_ATTEMPTS as MAX_ATTEMPTS,
                              INBOX_MAX_BATCHES_PER_JOB as MAX_BATCHES_PER_JOB, INBOX_MIN_BATCH as MIN_BATCH)

log = logging.getLogger(__name__)


def process_inbox(max_batches: int = MAX_BATCHES_PER_JOB, ctx: Context | None = None) -> int:
    """RQ job: apply recorded webhooks until none is waiting (or `max_batches`, or JOB_SECONDS); returns
    how many."""
    ctx = ctx or get_context()
    try:
        ctx.redis.delete(WAKE_KEY)  # arrivals from now on wake a new job; this one drains what is there
    except Exception:  # noqa: BLE001 - Redis trouble must not stop the database work
        log.warning("could not clear the inbox wake flag", exc_info=True)
    done, more = _apply_waiting(ctx, max_batches, deadline=time.monotonic() + JOB_SECONDS)
    if more:  # stopped with rows perhaps waiting: queue the next job (unless one is queued already)
        wake_worker(ctx)
    if done:
        wake_sync(ctx)
    return done


def apply_every_waiting(ctx: Context | None = None) -> int:
    """`loyalty inbox process`: apply recorded webhooks until none can be applied now, with no time slice
    (the job's slice makes room for other queued jobs; the operator asked for all of them). Rows waiting for
    another attempt after a failure keep their time, failed ones stay failed. Returns how many."""
    ctx = ctx or get_context()
    done, _ = _apply_waiting(ctx, max_batches=None, deadline=None)
    if done:
        wake_sync(ctx)
    return done


def _apply_waiting(ctx: Context, max_batches: int | None, deadline: float | None) -> tuple[int, bool]:
    """Claim and apply batches until none is free, `max_batches` were applied or `deadline` (monotonic)
    has passed; returns how many were applied and whether rows may still be waiting.

    Pipelined: while a batch is written, the next one is already claimed and prepared on a second thread
    (parsed, its payments asked of Shopify), so the wait for Shopify's answers and for the disk overlap
    instead of adding up. Preparing reads nothing the write needs fresh (a payment recorded meanwhile
    only costs a look-up that was not needed)."""
    done, size, batches = 0, min(ctx.config.batch_size, 50), 0
    spread = ctx.engine.dialect.name == "postgresql"  # SQLite has one writer: more workers would only queue

    def claim_next() -> list:
        rows = claim(ctx, owner=uuid.uuid4().hex, now=_now(), size=size)
        if spread and len(rows) == size:  # more waits than a batch: a job for another worker (coalesced)
            wake_worker(ctx)
        return rows

    def budget_left() -> bool:
        return (max_batches is None or batches < max_batches) and (deadline is None or time.monotonic() <= deadline)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-prepare") as ahead:
        batch, prepared = [], None
        while True:
            if not batch:  # nothing claimed ahead: claim now
                if not budget_left():
                    return done, True
                batch = claim_next()
                if not batch:
                    return done, False
                prepared = ahead.submit(prepare, ctx, batch)
            batches += 1
            following, following_prepared = [], None
            try:
                commands, failures = prepared.result()
                if budget_left():
                    following = claim_next()
                    following_prepared = ahead.submit(prepare, ctx, following) if following else None
                started = time.monotonic()  # sized on the write transaction alone: what holds SQLite's lock
                done += write(ctx, batch, commands, failures, now=_now())
            except BaseException:
                release(ctx, batch)
                if following:
                    wait([following_prepared])
                    release(ctx, following)
                raise
            # Sized on time on SQLite only, whose one write lock the web waits for; PostgreSQL takes full batches.
            size = ctx.config.batch_size if spread else next_batch_size(len(batch), time.monotonic() - started,
                                                                         ctx.config.batch_size)
            batch, prepared = following, following_prepared


_CLAIMED = (inbox.c.id, inbox.c.webhook_id, inbox.c.shop_domain, inbox.c.topic,
            select(bodies.c.body).where(bodies.c.inbox_id == inbox.c.id).scalar_subquery().label("body"),
            inbox.c.attempts, inbox.c.lease_owner)
"""What a batch reads of its rows (not their times or last error), their bodies included: read in the
claim's RETURNING, by primary key, so the lease stays one statement (SQLite's UPDATE ... FROM cannot return
the columns of a joined table, a subquery it can)."""


def claim(ctx: Context, owner: str, now: datetime, size: int) -> list:
    """Reserve up to `size` waiting rows for `owner` (oldest first) and return them with their bodies, in one
    statement.
    On PostgreSQL rows another worker is claiming at this moment are skipped, not waited for (SKIP LOCKED),
    so several workers claim side by side. The lease is committed without waiting for the disk
    (db.engine.lease_transaction): lost in a crash, it only frees the rows."""
    free = and_(inbox.c.processed_at.is_(None), inbox.c.failed_at.is_(None),
                or_(inbox.c.lease_until.is_(None), inbox.c.lease_until < now))
    # A CTE joined by UPDATE ... FROM, read once: PostgreSQL may run an `IN (... LIMIT)` subquery again and
    # lease more than `size` rows.
    oldest_free = (select(inbox.c.id).where(free).order_by(inbox.c.id).limit(size)
                   .with_for_update(skip_locked=True).cte("oldest_free"))
    with lease_transaction(ctx.engine) as conn:
        rows = conn.execute(update(inbox).where(inbox.c.id == oldest_free.c.id, free)
                            .values(lease_owner=owner, lease_until=now + LEASE).returning(*_CLAIMED)).all()
    return sorted(rows, key=lambda row: row.id)


def next_batch_size(rows: int, seconds: float, largest: int) -> int:
    """Rows for the next batch so that it takes about BATCH_SECONDS at the speed the last one ran."""
    if rows < MIN_BATCH or seconds <= 0:
        return max(MIN_BATCH, min(largest, 50))
    return max(MIN_BATCH, min(largest, int(rows * BATCH_SECONDS / seconds)))


def release(ctx: Context, rows: list) -> None:
    """Give claimed rows back at once after a batch could not be applied at all (the database refused the
    transaction): the next job takes them instead of waiting for the lease to run out."""
    try:
        with ctx.engine.begin() as conn:
            conn.execute(update(inbox).where(inbox.c.id.in_([row.id for row in rows]),
                                             inbox.c.lease_owner == rows[0].lease_owner,
                                             inbox.c.processed_at.is_(None))
                         .values(lease_owner=None, lease_until=None))
    except Exception:  # noqa: BLE001 - the lease still runs out; the rows are not lost
        log.warning("could not release %s claimed webhooks; they wait for their lease", len(rows), exc_info=True)


def prepare(ctx: Context, rows: list) -> tuple[dict, dict]:
    """The batch's commands by row id (parsed, with the payments looked up where needed, the uninstalls
    confirmed by Shopify) and the rows that failed already, with their reasons: the work done before the
    write transaction, outside its lock."""
    commands, failures = {}, {}
    for row in rows:
        try:
            commands[row.id] = to_command(row.topic, json_body.loads(row.body))
        except (BadPayload, ValueError, RecursionError) as exc:
            failures[row.id] = (f"bad payload: {exc}", True)
        except Exception as exc:  # noqa: BLE001 - parsing is deterministic: a retry would fail the same way
            log.exception("webhook %s (%s) could not be parsed", row.webhook_id, row.topic)
            failures[row.id] = (f"bad payload: {type(exc).__name__}: {exc}", True)
    commands, lookup_failures = events.prefetch(ctx, rows, commands)
    failures.update(lookup_failures)
    commands, uninstall_failures = uninstalls.confirm_uninstalls(ctx, rows, commands)  # Shopify says if it is real
    failures.update(uninstall_failures)
    return commands, failures


def write(ctx: Context, rows: list, commands: dict, failures: dict, now: datetime) -> int:
    """Apply the prepared batch in one transaction; a failing row rolls back alone and records why."""
    try:
        return _apply_together(ctx, rows, commands, failures, now)
    except _EventFailed:
        return _apply_one_by_one(ctx, rows, commands, failures, now)


class _EventFailed(Exception):
    """An event of a batch applied without savepoints failed: the batch is applied again, event by event."""


def _apply_together(ctx: Context, rows: list, commands: dict, failures: dict, now: datetime) -> int:
    """The common case: every event applies; no savepoint is paid for, and the order events are written
    together, a few statements for all of them: the payments of orders new to the app
    (loyalty.services.new_orders), then the others (loyalty.services.known_orders). Privacy commands and
    profile updates follow one by one."""
    with ctx.engine.begin() as conn:
        shops = events.ShopCache(conn)
        with ledger.perks_decided_once(conn):  # for the batch's customers together, not after each entry
            try:  # the payments of new orders, then the other order events, set-based; the rest one by one
                applied = events.record_new_orders_paid(shops, rows, commands, now)
                applied |= events.record_known_orders(shops, rows, commands, applied, now)
            except Exception as exc:  # noqa: BLE001 - rolled back whole; redone with savepoints below
                raise _EventFailed from exc
            processed = [row.id for row in rows if row.id in applied]
            # Hints for the order events left (a privacy command's shop), read now: usually none is left.
            hints = events.batch_hints(shops, [row for row in rows if row.id not in applied], commands)
            for row in rows:
                if row.id not in commands or row.id in applied:
                    continue
                try:
                    events.handle_row(conn, shops, row.shop_domain, commands[row.id], now, hints)
                except Exception as exc:  # noqa: BLE001 - rolled back whole; redone with savepoints below
                    raise _EventFailed from exc
                processed.append(row.id)
            try:  # what the batch's payments tell the referral rules (nothing while a shop's are off)
                done = set(processed)
                events.record_referral_orders(shops, [row for row in rows if row.id in done], commands, now)
            except Exception as exc:  # noqa: BLE001 - rolled back whole; redone with savepoints below
                raise _EventFailed from exc
        _finish(conn, rows, processed, failures, now)
    return len(processed)


def _apply_one_by_one(ctx: Context, rows: list, commands: dict, failures: dict, now: datetime) -> int:
    """One savepoint per event, so a failing event (or an uninstalled shop's) rolls back alone."""
    processed = []
    with ctx.engine.begin() as conn:
        shops = events.ShopCache(conn)
        hints = events.batch_hints(shops, rows, commands)
        # Perks once for the batch (a customer of an event rolled back is decided on what stands: no change).
        with ledger.perks_decided_once(conn):
            for row in rows:
                if row.id not in commands:
                    continue
                savepoint = conn.begin_nested()
                try:
                    events.handle_row(conn, shops, row.shop_domain, commands[row.id], now, hints)
                    events.record_referral_orders(shops, [row], commands, now)
                    savepoint.commit()
                    processed.append(row.id)
                except events.ShopGone:
                    savepoint.rollback()
                    processed.append(row.id)  # nothing to do for an uninstalled shop; not an error
                except (ValueError, DataError) as exc:  # the same event would be refused the same way again
                    savepoint.rollback()
                    log.warning("webhook %s (%s) refused: %s", row.webhook_id, row.topic, exc)
                    failures[row.id] = (f"refused: {type(exc).__name__}: {exc}", True)
                except Exception as exc:  # noqa: BLE001 - one bad event must fail alone, with its reason
                    savepoint.rollback()
                    log.exception("webhook %s (%s) failed", row.webhook_id, row.topic)
                    failures[row.id] = (f"{type(exc).__name__}: {exc}", False)
        _finish(conn, rows, processed, failures, now)
    return len(processed)


def _finish(conn, rows: list, processed: list, failures: dict, now: datetime) -> None:
    """Mark the batch's applied rows done and record the failures, in the batch's transaction."""
    if processed:
        conn.execute(update(inbox).where(inbox.c.id.in_(processed))
                     .values(processed_at=now, lease_owner=None, lease_until=None))
    for row in rows:
        if row.id in failures:
            _record_failure(conn, row, *failures[row.id], now=now)
    _pause_inside_transaction_for_tests()


def _record_failure(conn, row, reason: str, permanent: bool, now: datetime) -> None:
    attempts = row.attempts + 1
    give_up = permanent or attempts >= MAX_ATTEMPTS
    conn.execute(update(inbox).where(inbox.c.id == row.id).values(
        attempts=attempts, last_error=reason[:2000], lease_owner=None,
        lease_until=None if give_up else now + timedelta(seconds=min(2 ** attempts, 600)),
        failed_at=now if give_up else None,
    ))


def _pause_inside_transaction_for_tests() -> None:
    """Lets the crash test SIGKILL a worker while a batch is applied but not committed
    (LOYALTY_TEST_PAUSE_IN_BATCH=seconds); unset in every real deployment."""
    pause = os.environ.get("LOYALTY_TEST_PAUSE_IN_BATCH")
    if pause:
        time.sleep(float(pause))


def _now() -> datetime:
    return datetime.now(timezone.utc)
