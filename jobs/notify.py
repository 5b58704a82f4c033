"""The email sender: drains the `notifications` outbox over SMTP (or into var/mail/ without SMTP_URL).

Rows are claimed with a lease in a short transaction (like the webhook inbox), sent outside any
transaction, then marked sent by the lease holder only: two workers never send the same row. A failure
is retried with backoff; after MAX_ATTEMPTS (or a permanent refusal, 5xx) the row is `failed` and shown
by `loyalty notifications failed`, until `loyalty notifications retry`. The one window for a duplicate is
a worker dying after the server accepted a message and before its commit; the copy then carries the
same Message-ID.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from db.tables import customers, notifications as nt, shops
from integrations import unsubscribe_links
from integrations.mail import PermanentFailure, build_message, transport_for
from jobs import outbox
from loyalty.services.context import Context, get_context
from loyalty.defaults import (EMAIL_BATCH as BATCH, EMAIL_LEASE as LEASE, EMAIL_MAX_ATTEMPTS as MAX_ATTEMPTS,
                              EMAIL_MAX_BATCHES as MAX_BATCHES)

log = logging.getLogger(__name__)


def send_notifications(ctx: Context | None = None, transport=None, now=None, max_batches: int = MAX_BATCHES) -> int:
    """RQ job (on the scheduler): send every due email; returns how many were sent."""
    ctx = ctx or get_context()
    sent = 0
    for _ in range(max_batches):
        owner = uuid.uuid4().hex
        rows = claim(ctx, owner, now or _now())
        if not rows:
            break
        done = _send_batch(ctx, rows, owner, transport or transport_for(ctx.config), now)
        if done is None:
            break  # the server is unreachable: the next run tries again
        sent += done
    return sent


def claim(ctx: Context, owner: str, now: datetime, size: int = BATCH) -> list:
    """Reserve up to `size` due rows for `owner`, oldest first, and return them with their shop domain."""
    with ctx.engine.begin() as conn:
        if not outbox.claim(conn, nt, owner, now, size, LEASE):
            return []
        return conn.execute(
            select(nt, shops.c.domain, shops.c.uninstalled_at, customers.c.accepts_loyalty_emails)
            .join(shops, shops.c.id == nt.c.shop_id).join(customers, customers.c.id == nt.c.customer_id)
            .where(nt.c.lease_owner == owner, nt.c.status == "pending").order_by(nt.c.id)).all()


def _send_batch(ctx: Context, rows: list, owner: str, transport, now) -> int | None:
    """Send claimed rows over one connection; None when the server could not be reached at all."""
    sent = 0
    try:
        with transport:
            for row in rows:
                reason = _no_longer_wanted(row)
                if reason:
                    _finish(ctx, row, owner, status="skipped", last_error=reason)
                    continue
                try:
                    message = build_message(row, ctx.config.smtp_from, _unsubscribe_url(ctx, row))
                    if transport.name == "capture":
                        transport.send(message, shop=row.domain, name=f"{row.id}-{row.kind}")
                    else:
                        transport.send(message)
                except PermanentFailure as exc:
                    _failed(ctx, row, owner, str(exc), now, permanent=True)
                    continue
                except Exception as exc:  # noqa: BLE001 - the row waits and is tried again later
                    log.warning("email %s to %s: %s", row.id, row.to_address, exc)
                    _failed(ctx, row, owner, f"{type(exc).__name__}: {exc}", now, permanent=False)
                    continue
                sent += _mark_sent(ctx, row, owner, transport.name, now)
    except Exception as exc:  # noqa: BLE001 - could not connect (or log in): every unsent row of the batch waits
        log.warning("SMTP unavailable: %s", exc)
        for row in rows:
            _failed(ctx, row, owner, f"{type(exc).__name__}: {exc}", now, permanent=False)
        return None if sent == 0 else sent
    return sent


def _unsubscribe_url(ctx: Context, row) -> str | None:
    """The customer's signed one-click unsubscribe link (None without an API secret to sign it with)."""
    secrets = ctx.config.api_secrets
    if not secrets:
        return None
    return unsubscribe_links.link(ctx.config.app_url, secrets[0], row.domain, row.customer_id)


def _no_longer_wanted(row) -> str | None:
    """Why an email recorded earlier must not go out now: the shop left, or the customer opted out since."""
    if row.uninstalled_at is not None:
        return "the shop uninstalled the app"
    if not row.accepts_loyalty_emails:
        return "the customer opted out of loyalty emails"
    return None


def _mark_sent(ctx: Context, row, owner: str, transport: str, now) -> int:
    done = _finish(ctx, row, owner, status="sent", sent_at=now or _now(), transport=transport,
                   attempts=row.attempts + 1)
    if not done:
        log.error("email %s was sent but its lease had passed to another worker", row.id)
    return done


def _finish(ctx: Context, row, owner: str, **values) -> int:
    """Update the row while this worker still holds it; returns 1, or 0 when the lease was lost."""
    return outbox.finish(ctx, nt, row, owner, **values)


def _failed(ctx: Context, row, owner: str, reason: str, now, permanent: bool) -> None:
    """Record a failed attempt (only while still holding the row): retry later, or give up."""
    outbox.failed(ctx, nt, row, owner, reason, now or _now(), permanent, MAX_ATTEMPTS)


def retry(ctx: Context, notification_id: int | None = None, now=None) -> int:
    """Give failed emails (one, or all) a new round of attempts; returns how many."""
    return outbox.retry(ctx, nt, notification_id, now)


def _now() -> datetime:
    return datetime.now(timezone.utc)
