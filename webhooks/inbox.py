"""Recording a delivery in the inbox, deduplicated by X-Shopify-Webhook-Id, and waking a worker."""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select

from db.engine import reading
from db.tables import shops
from loyalty.services.context import Context
from webhooks.group_commit import committer_for
from loyalty.defaults import SHOP_CACHE_SECONDS, UNKNOWN_SHOP_SECONDS

log = logging.getLogger(__name__)


class ShopDirectory:
    """Which shop domains are installed, and Shopify's numeric id of each when known, cached briefly so the
    hot path does not ask each time.

    One request at a time re-reads the shops: when the cache expires under load, the requests arriving
    meanwhile answer from the cache as it stands (a few milliseconds older) instead of each opening a
    connection for the same read, which would exhaust the pool and answer 503. A request with nothing
    cached to go by (a domain not in the cache, or after `forget`) waits for that read instead."""

    def __init__(self) -> None:
        self._shops: dict[str, tuple[bool, int | None]] = {}
        self._loaded_at = 0.0
        self._generation = 0
        """Counts `forget` calls: a read that started before one does not count as fresh."""
        self._reading = threading.Lock()

    def lookup(self, ctx: Context, domain: str) -> tuple[str, int | None]:
        """('installed', 'uninstalled' or 'unknown'; the shop's Shopify id, None when not known)."""
        loaded_at = self._loaded_at
        age = time.monotonic() - loaded_at
        if age > SHOP_CACHE_SECONDS or (domain not in self._shops and age > UNKNOWN_SHOP_SECONDS):
            self._refresh(ctx, loaded_at, wait=not loaded_at or domain not in self._shops)
        found = self._shops.get(domain)
        if found is None:
            return "unknown", None
        return ("installed" if found[0] else "uninstalled"), found[1]

    def _refresh(self, ctx: Context, seen: float, wait: bool) -> None:
        """Re-read the shops, unless another request is at it: then answer from the cache meanwhile, or
        with `wait`, wait for its read (and re-read only if it failed). `seen`: the load time this request
        found expired."""
        if not self._reading.acquire(blocking=wait):
            return
        try:
            if self._loaded_at != seen:  # read by another request while this one waited
                return
            generation = self._generation
            with reading(ctx.engine) as conn:
                rows = conn.execute(select(shops.c.domain, shops.c.uninstalled_at, shops.c.shopify_shop_id)).all()
            self._shops = {r.domain: (r.uninstalled_at is None, r.shopify_shop_id) for r in rows}
            # forgotten meanwhile: this read may predate the change, so the next request reads again
            self._loaded_at = time.monotonic() if generation == self._generation else 0.0
        finally:
            self._reading.release()

    def status(self, ctx: Context, domain: str) -> str:
        """'installed', 'uninstalled' or 'unknown'."""
        return self.lookup(ctx, domain)[0]

    def forget(self) -> None:
        """Re-read the shops on the next request (after an install or uninstall in this process)."""
        self._generation += 1
        self._loaded_at = 0.0


def record(ctx: Context, row: dict) -> float | None:
    """Insert the delivery's inbox row and return once it is committed, sharing the transaction with the
    webhooks arriving at the same moment (webhooks.group_commit). Returns the monotonic time of that
    commit, or None when this webhook id was already recorded (a redelivery). Raises SQLAlchemyError
    when it could not be committed."""
    return committer_for(ctx.engine).record(row)
