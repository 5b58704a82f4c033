"""Customers the balance write-back set aside: Shopify refused their write (the customer was deleted there,
or never was a Shopify customer), so the pass writes everyone else and tries them again later.

Rules: the first retry is FIRST_RETRY after the refusal, each next one waits twice as long up to MAX_RETRY,
then every MAX_RETRY for as long as it takes; a balance change after the refusal makes the customer due at
once (the merchant may have fixed the customer in Shopify meanwhile). The customer's `customer_sync` row is
kept throughout, so the latest balance is what gets written when Shopify accepts it; a successful write
removes the set-aside.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Connection

from db.rows import upsert_rows
from db.tables import customer_sync, sync_failures
from loyalty.defaults import SYNC_FIRST_RETRY as FIRST_RETRY, SYNC_MAX_RETRY as MAX_RETRY


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th refusal a customer is tried again: 1 min, 2, 4... up to 6 h."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 30), MAX_RETRY)


def due(now: datetime):
    """A condition on customer_sync (outer-joined to sync_failures): not set aside, or due again (its backoff
    is over, or its balance changed since it was refused)."""
    return or_(sync_failures.c.customer_id.is_(None), sync_failures.c.next_attempt_at <= now,
               customer_sync.c.changed_at > sync_failures.c.failed_at)


def join_set_asides(query):
    """`query` over customer_sync, outer-joined to the set-asides (for `due`)."""
    return query.outerjoin(sync_failures, sync_failures.c.customer_id == customer_sync.c.customer_id)


def set_aside(conn: Connection, shop_id: int, refused: dict[int, str], now: datetime) -> None:
    """Record each refused customer (id -> Shopify's reason): one more attempt, the next after the backoff."""
    if not refused:
        return
    before = {row.customer_id: row for row in conn.execute(
        select(sync_failures.c.customer_id, sync_failures.c.attempts, sync_failures.c.first_failed_at)
        .where(sync_failures.c.customer_id.in_(list(refused))))}
    rows = []
    for customer_id, reason in sorted(refused.items()):
        earlier = before.get(customer_id)
        attempts = (earlier.attempts if earlier else 0) + 1
        rows.append((customer_id, shop_id, reason[:2000], attempts, earlier.first_failed_at if earlier else now,
                     now, now + retry_delay(attempts)))
    upsert_rows(conn, sync_failures, ("customer_id", "shop_id", "reason", "attempts", "first_failed_at",
                                      "failed_at", "next_attempt_at"), rows, key="customer_id",
                update=("reason", "attempts", "failed_at", "next_attempt_at"))


def clear(conn: Connection, customer_ids) -> None:
    """The customers' writes went through: they are no longer set aside."""
    ids = list(customer_ids)
    if ids:
        conn.execute(delete(sync_failures).where(sync_failures.c.customer_id.in_(ids)))


def forget_shop(conn: Connection, shop_id: int) -> None:
    """The shop is gone (uninstalled): nothing of it will be written, so nothing of it is set aside."""
    conn.execute(delete(sync_failures).where(sync_failures.c.shop_id == shop_id))
