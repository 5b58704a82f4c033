"""Webhooks that failed for good (attempts exhausted, or a payload that can never be read): listing them
and giving them another round of attempts. Used by `loyalty inbox failed|retry` and the merchant admin,
which passes its shop so a merchant only ever sees and retries their own."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from db.tables import webhook_inbox as inbox

_FAILED = inbox.c.failed_at.is_not(None)


def failed_webhooks(conn: Connection, shop_domain: str | None = None, limit: int = 500) -> list:
    """Failed webhooks, newest failure first: id, webhook id, shop, topic, attempts, reason, times."""
    query = (select(inbox.c.id, inbox.c.webhook_id, inbox.c.shop_domain, inbox.c.topic, inbox.c.attempts,
                    inbox.c.last_error, inbox.c.received_at, inbox.c.failed_at)
             .where(_FAILED).order_by(inbox.c.failed_at.desc(), inbox.c.id.desc()).limit(limit))
    if shop_domain is not None:
        query = query.where(inbox.c.shop_domain == shop_domain)
    return conn.execute(query).all()


def retry(conn: Connection, inbox_id: int | None = None, shop_domain: str | None = None) -> int:
    """Give one failed webhook (or, with no id, every failed one) a fresh round of attempts; returns how
    many. A row already processed is left alone. The worker's sweeper picks them up."""
    where = [inbox.c.processed_at.is_(None), _FAILED]
    if inbox_id is not None:
        where.append(inbox.c.id == inbox_id)
    if shop_domain is not None:
        where.append(inbox.c.shop_domain == shop_domain)
    return conn.execute(update(inbox).where(*where).values(
        failed_at=None, attempts=0, lease_until=None, lease_owner=None)).rowcount
