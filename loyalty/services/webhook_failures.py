"""Webhooks that failed for good (attempts exhausted, or a payload that can never be read): listing them
and giving them another round of attempts. Used by `loyalty inbox failed|retry` and the merchant admin,
which passes its shop so a merchant only ever sees and retries their own."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import update
from sqlalchemy.engine import Connection

from db.tables import webhook_inbox as inbox
from loyalty.services.failures import kind_rows

_FAILED = inbox.c.failed_at.is_not(None)


def failed_webhooks(conn: Connection, shop_domain: str | None = None, limit: int = 500) -> list:
    """Failed webhooks, newest first: id, webhook id, shop, topic, attempts, reason, times (the read model's
    `webhook_failed` rows: loyalty.services.failures)."""
    return kind_rows(conn, "webhook_failed", shop_domain, limit=limit)


def retrying_webhooks(conn: Connection, shop_domain: str | None = None, limit: int = 500) -> list:
    """Webhooks not failed yet but waiting for another attempt after one failed (Shopify unreachable,
    a token it refused...): with the reason and when the next attempt may run (`lease_until`)."""
    return kind_rows(conn, "webhook_retrying", shop_domain, limit=limit)


def retry_per_shop(conn: Connection, inbox_id: int | None = None, shop_domain: str | None = None) -> dict[str, int]:
    """Give one failed webhook (or, with no id, every failed one) a fresh round of attempts; returns how
    many of each shop (by domain: each shop's audit log says what was retried). A row already processed is
    left alone. The worker's sweeper picks them up."""
    where = [inbox.c.processed_at.is_(None), _FAILED]
    if inbox_id is not None:
        where.append(inbox.c.id == inbox_id)
    if shop_domain is not None:
        where.append(inbox.c.shop_domain == shop_domain)
    retried = conn.execute(update(inbox).where(*where).values(
        failed_at=None, attempts=0, lease_until=None, lease_owner=None).returning(inbox.c.shop_domain)).scalars()
    return dict(Counter(retried))
