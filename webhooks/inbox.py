"""Recording a delivery in the inbox, deduplicated by X-Shopify-Webhook-Id, and waking a worker."""
from __future__ import annotations

import logging
import time
import weakref
from datetime import datetime

from sqlalchemy import select

from db.engine import reading
from db.tables import shops
from runtime.context import Context
from webhooks.group_commit import committer_for

log = logging.getLogger(__name__)

SHOP_CACHE_SECONDS = 5.0
"""Installed shops are re-read this often, so an install or uninstall takes effect within seconds."""


class ShopDirectory:
    """Which shop domains are installed, cached briefly so the hot path does not ask each time."""

    def __init__(self) -> None:
        self._installed: dict[str, bool] = {}
        self._loaded_at = 0.0

    def status(self, ctx: Context, domain: str) -> str:
        """'installed', 'uninstalled' or 'unknown'."""
        if time.monotonic() - self._loaded_at > SHOP_CACHE_SECONDS:
            with reading(ctx.engine) as conn:
                rows = conn.execute(select(shops.c.domain, shops.c.uninstalled_at)).all()
            self._installed = {r.domain: r.uninstalled_at is None for r in rows}
            self._loaded_at = time.monotonic()
        if domain not in self._installed:
            return "unknown"
        return "installed" if self._installed[domain] else "uninstalled"

    def forget(self) -> None:
        """Re-read the shops on the next request (after an install or uninstall in this process)."""
        self._loaded_at = 0.0


def record(ctx: Context, *, webhook_id: str, shop_domain: str, topic: str, body: bytes,
           now: datetime) -> float | None:
    """Insert the delivery and return once it is committed (sharing the transaction with the webhooks
    arriving at the same moment: see webhooks.group_commit). Returns the monotonic time of that commit,
    or None when this webhook id was already recorded (a redelivery). Raises SQLAlchemyError
    when it could not be committed."""
    return committer_for(ctx.engine).record(dict(
        webhook_id=webhook_id, shop_domain=shop_domain, topic=topic, body=body, received_at=now))


_WAKES_ISSUED: "weakref.WeakKeyDictionary[object, float]" = weakref.WeakKeyDictionary()
"""Per Redis client: when this process last asked Redis for a wake-up (monotonic)."""


def wake_worker(ctx: Context, committed_by: float | None = None) -> bool:
    """Make sure a processing job will see a row committed by `committed_by`. Losing this is harmless:
    the sweeper finds the row.

    A wake-up asked for after the row's commit is enough: if the flag was set then, its job had not
    started (a job clears the flag before it claims rows), so it will claim the row. So of the webhooks
    committed together, usually only the first to answer pays the round trip to Redis."""
    from jobs.inbox import WAKE_KEY

    if committed_by is not None and _WAKES_ISSUED.get(ctx.redis, 0.0) > committed_by:
        return True
    try:
        issued = time.monotonic()
        if ctx.redis.set(WAKE_KEY, b"1", nx=True, ex=30):
            ctx.queue.enqueue("jobs.inbox.process_inbox", result_ttl=0, failure_ttl=86400, job_timeout=600)
        _WAKES_ISSUED[ctx.redis] = max(issued, _WAKES_ISSUED.get(ctx.redis, 0.0))
        return True
    except Exception as exc:  # noqa: BLE001 - Redis down: the row is safe in the database
        log.warning("could not wake a worker (%s); the sweeper will pick the webhook up", exc)
        return False


def stop_shop(ctx: Context, directory: ShopDirectory, shop_domain: str, now: datetime) -> None:
    """app/uninstalled: mark the shop uninstalled and drop its tokens in the request itself."""
    from loyalty.privacy import uninstall_shop

    with ctx.engine.begin() as conn:
        uninstall_shop(conn, shop_domain, now)
    directory.forget()
