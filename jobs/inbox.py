"""The inbox processor: recorded webhooks are claimed in batches and applied, each in its own savepoint.

The inbox table is the durable queue; Redis only carries the wake-up. A batch is one transaction, so a
worker killed mid-batch leaves nothing half-done: its lease expires and the rows are claimed again.
"""
from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import DataError

from db.tables import webhook_inbox as inbox
from jobs import handlers
from jobs.translate import BadPayload, to_command
from runtime.context import Context, get_context

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
"""How long a claimed row is reserved for one worker; longer than any batch takes."""
MAX_ATTEMPTS = 8
"""After this many failures a row is marked failed (visible with `loyalty inbox failed`) and left alone."""
WAKE_KEY = "loyalty:inbox:wake"
MAX_BATCHES_PER_JOB = 200


def process_inbox(max_batches: int = MAX_BATCHES_PER_JOB, ctx: Context | None = None) -> int:
    """RQ job: apply recorded webhooks until none is waiting (or `max_batches`); returns how many."""
    ctx = ctx or get_context()
    try:
        ctx.redis.delete(WAKE_KEY)  # arrivals from now on wake a new job; this one drains what is there
    except Exception:  # noqa: BLE001 - Redis trouble must not stop the database work
        log.warning("could not clear the inbox wake flag", exc_info=True)
    done = 0
    for _ in range(max_batches):
        batch = claim(ctx, owner=uuid.uuid4().hex, now=_now(), size=ctx.config.batch_size)
        if not batch:
            break
        done += apply_batch(ctx, batch, now=_now())
    if done:
        from jobs.sync import wake_sync
        wake_sync(ctx)
    return done


def claim(ctx: Context, owner: str, now: datetime, size: int) -> list:
    """Reserve up to `size` waiting rows for `owner` (oldest first) and return them."""
    free = and_(inbox.c.processed_at.is_(None), inbox.c.failed_at.is_(None),
                or_(inbox.c.lease_until.is_(None), inbox.c.lease_until < now))
    with ctx.engine.begin() as conn:
        ids = conn.execute(select(inbox.c.id).where(free).order_by(inbox.c.id).limit(size)).scalars().all()
        if not ids:
            return []
        conn.execute(update(inbox).where(inbox.c.id.in_(ids), free)
                     .values(lease_owner=owner, lease_until=now + LEASE))
        return conn.execute(select(inbox).where(inbox.c.lease_owner == owner, inbox.c.processed_at.is_(None))
                            .order_by(inbox.c.id)).all()


def apply_batch(ctx: Context, rows: list, now: datetime) -> int:
    """Apply claimed rows in one transaction; a failing row rolls back alone and records why."""
    commands, failures = {}, {}
    for row in rows:
        try:
            commands[row.id] = to_command(row.topic, json.loads(row.body))
        except (BadPayload, ValueError, RecursionError) as exc:
            failures[row.id] = (f"bad payload: {exc}", True)
        except Exception as exc:  # noqa: BLE001 - parsing is deterministic: a retry would fail the same way
            log.exception("webhook %s (%s) could not be parsed", row.webhook_id, row.topic)
            failures[row.id] = (f"bad payload: {type(exc).__name__}: {exc}", True)
    commands, lookup_failures = handlers.prefetch(ctx, rows, commands)
    failures.update(lookup_failures)
    processed = []
    with ctx.engine.begin() as conn:
        shops = handlers.ShopCache(conn)
        for row in rows:
            if row.id not in commands:
                continue
            savepoint = conn.begin_nested()
            try:
                handlers.handle_row(conn, shops, row.shop_domain, commands[row.id], now)
                savepoint.commit()
                processed.append(row.id)
            except handlers.ShopGone:
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
        if processed:
            conn.execute(update(inbox).where(inbox.c.id.in_(processed))
                         .values(processed_at=now, lease_owner=None, lease_until=None))
        for row in rows:
            if row.id in failures:
                _record_failure(conn, row, *failures[row.id], now=now)
        _pause_inside_transaction_for_tests()
    return len(processed)


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
        import time
        time.sleep(float(pause))


def _now() -> datetime:
    return datetime.now(timezone.utc)
