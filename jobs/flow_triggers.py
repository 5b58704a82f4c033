"""The Flow trigger sender: drains the `flow_triggers` outbox with flowTriggerReceive.

Rows are claimed with a lease in a short transaction (as emails are), sent outside any transaction with the
client of the row's own shop (a row is only ever sent to the shop that recorded it), then marked by the
lease holder only. Shopify refusing a trigger (userErrors: unknown handle, payload too large) fails it at
once; Shopify unreachable, throttled or refusing the token retries it with backoff, and after
FLOW_MAX_ATTEMPTS it is failed. Failed rows show among the failures (`loyalty failures`, the admin's failed
jobs) until `loyalty flow retry`. A shop that uninstalled the app has its rows skipped.
"""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone
from itertools import groupby

from sqlalchemy import select

from db.tables import flow_triggers as ft, shops
from integrations.shopify.errors import ShopifyUserErrors, user_errors_reason
from integrations.shopify.flow import send_trigger
from jobs import outbox
from loyalty.defaults import FLOW_BATCH, FLOW_LEASE, FLOW_MAX_ATTEMPTS, FLOW_MAX_BATCHES
from loyalty.services.context import Context, get_context
from loyalty.services.events import shopify_client
from loyalty.services.shops import ShopRef

log = logging.getLogger(__name__)


def send_flow_triggers(ctx: Context | None = None, client_factory=shopify_client, now: datetime | None = None,
                       max_batches: int = FLOW_MAX_BATCHES) -> int:
    """RQ job (on the scheduler): send every due trigger; returns how many Shopify accepted."""
    ctx = ctx or get_context()
    sent = 0
    for _ in range(max_batches):
        owner, moment = uuid.uuid4().hex, now or datetime.now(timezone.utc)
        rows = claim(ctx, owner, moment)
        if not rows:
            break
        for _shop, of_shop in groupby(rows, key=lambda r: r.shop_id):
            sent += _send_shop(ctx, list(of_shop), owner, client_factory, moment)
    return sent


def claim(ctx: Context, owner: str, now: datetime, size: int = FLOW_BATCH) -> list:
    """Reserve up to `size` due rows for `owner`, oldest first, and return them (by shop) with their shop."""
    with ctx.engine.begin() as conn:
        if not outbox.claim(conn, ft, owner, now, size, FLOW_LEASE):
            return []
        return conn.execute(
            select(ft, shops.c.domain, shops.c.settings_version, shops.c.uninstalled_at)
            .join(shops, shops.c.id == ft.c.shop_id)
            .where(ft.c.lease_owner == owner, ft.c.status == "pending").order_by(ft.c.shop_id, ft.c.id)).all()


def _send_shop(ctx: Context, rows: list, owner: str, client_factory, now: datetime) -> int:
    """Send one shop's claimed rows with that shop's client; returns how many were accepted."""
    first = rows[0]
    if first.uninstalled_at is not None:
        for row in rows:
            _finish(ctx, row, owner, status="skipped", last_error="the shop uninstalled the app")
        return 0
    try:
        with ctx.engine.connect() as conn:
            client = client_factory(ctx, ShopRef(first.shop_id, first.domain, first.settings_version), conn)
    except Exception as exc:  # noqa: BLE001 - its token is not usable now: the shop's rows wait
        return _wait(ctx, rows, owner, exc, now)
    sent = 0
    for position, row in enumerate(rows):
        try:
            send_trigger(client, row.handle, json.loads(row.payload))
        except ShopifyUserErrors as exc:  # Flow refuses it: it would refuse it again
            _failed(ctx, row, owner, user_errors_reason(exc), now, permanent=True)
            continue
        except Exception as exc:  # noqa: BLE001 - unreachable, throttled, token refused: the rest waits too
            return sent + _wait(ctx, rows[position:], owner, exc, now)
        sent += _finish(ctx, row, owner, status="sent", sent_at=now, attempts=row.attempts + 1, last_error=None)
    return sent


def _wait(ctx: Context, rows: list, owner: str, exc: Exception, now: datetime) -> int:
    """Shopify could not be asked: each row gets a failed attempt and its next one later; returns 0 sent."""
    log.warning("Flow triggers of %s: %s", rows[0].domain, exc)
    for row in rows:
        _failed(ctx, row, owner, f"{type(exc).__name__}: {exc}", now, permanent=False)
    return 0


def _finish(ctx: Context, row, owner: str, **values) -> int:
    """Update the row while this worker still holds it; returns 1, or 0 when the lease was lost."""
    return outbox.finish(ctx, ft, row, owner, **values)


def _failed(ctx: Context, row, owner: str, reason: str, now: datetime, permanent: bool) -> None:
    """Record a failed attempt (only while still holding the row): retry later with backoff, or give up."""
    outbox.failed(ctx, ft, row, owner, reason, now, permanent, FLOW_MAX_ATTEMPTS)


def retry(ctx: Context, trigger_id: int | None = None, now: datetime | None = None) -> int:
    """Give failed triggers (one, or all) a new round of attempts; returns how many."""
    return outbox.retry(ctx, ft, trigger_id, now)
