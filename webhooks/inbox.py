"""Recording a delivery in the inbox, deduplicated by X-Shopify-Webhook-Id, and waking a worker."""
from __future__ import annotations

import logging
import threading
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
"""Installed shops are re-read this often, so an uninstall or reinstall takes effect within seconds."""
UNKNOWN_SHOP_SECONDS = 0.5
"""A shop not in the cache is looked for again after this long at most: a shop installed a moment ago
(possibly by another process) has its first webhooks accepted, while webhooks naming shops that do not
exist cost at most two reads a second."""


class ShopDirectory:
    """Which shop domains are installed, and Shopify's numeric id of each when known, cached briefly so the
    hot path does not ask each time."""

    def __init__(self) -> None:
        self._shops: dict[str, tuple[bool, int | None]] = {}
        self._loaded_at = 0.0

    def lookup(self, ctx: Context, domain: str) -> tuple[str, int | None]:
        """('installed', 'uninstalled' or 'unknown'; the shop's Shopify id, None when not known)."""
        age = time.monotonic() - self._loaded_at
        if age > SHOP_CACHE_SECONDS or (domain not in self._shops and age > UNKNOWN_SHOP_SECONDS):
            with reading(ctx.engine) as conn:
                rows = conn.execute(select(shops.c.domain, shops.c.uninstalled_at, shops.c.shopify_shop_id)).all()
            self._shops = {r.domain: (r.uninstalled_at is None, r.shopify_shop_id) for r in rows}
            self._loaded_at = time.monotonic()
        found = self._shops.get(domain)
        if found is None:
            return "unknown", None
        return ("installed" if found[0] else "uninstalled"), found[1]

    def status(self, ctx: Context, domain: str) -> str:
        """'installed', 'uninstalled' or 'unknown'."""
        return self.lookup(ctx, domain)[0]

    def forget(self) -> None:
        """Re-read the shops on the next request (after an install or uninstall in this process)."""
        self._loaded_at = 0.0


def record(ctx: Context, row: dict) -> float | None:
    """Insert the delivery's inbox row and return once it is committed, sharing the transaction with the
    webhooks arriving at the same moment (webhooks.group_commit). Returns the monotonic time of that
    commit, or None when this webhook id was already recorded (a redelivery). Raises SQLAlchemyError
    when it could not be committed."""
    return committer_for(ctx.engine).record(row)


WAKE_INTERVAL_SECONDS = 0.02
"""A web process asks Redis for a wake-up at most this often; the webhooks committed in between are
covered by one wake-up sent at the end of the interval (so points wait at most this much longer)."""


class _Waker:
    """The wake-ups of one process for one Redis: one round trip per interval, whatever the traffic.

    A wake-up asked for after a row's commit is enough: if the flag was set then, its job had not started
    (a job clears the flag before it claims rows), so it will claim the row. So a webhook answers at once
    when a wake-up started after its commit, or when one is already scheduled (it will start later still);
    otherwise it sends one, or schedules one for the end of the interval."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = 0.0
        self._scheduled = False

    def wake(self, ctx: Context, committed_by: float | None, background: bool = False) -> bool:
        if committed_by is not None and (self._started > committed_by or self._scheduled):
            return True  # the common case, read without the lock: both only ever move past our commit
        with self._lock:
            if committed_by is not None and (self._started > committed_by or self._scheduled):
                return True
            now = time.monotonic()
            delay = self._started + WAKE_INTERVAL_SECONDS - now
            if committed_by is not None and (delay > 0 or background):
                self._scheduled = True
                timer = threading.Timer(max(delay, 0.0), self._scheduled_wake, (ctx,))
                timer.daemon = True
                timer.start()
                return True
            self._started = now
        return _ask_redis(ctx)

    def _scheduled_wake(self, ctx: Context) -> None:
        with self._lock:
            self._scheduled, self._started = False, time.monotonic()
        _ask_redis(ctx)


_WAKERS: "weakref.WeakKeyDictionary[object, _Waker]" = weakref.WeakKeyDictionary()
_WAKERS_LOCK = threading.Lock()


def wake_worker(ctx: Context, committed_by: float | None = None, background: bool = False) -> bool:
    """Make sure a processing job will see a row committed at `committed_by` (monotonic time), within
    WAKE_INTERVAL_SECONDS; without `committed_by`, ask Redis now. `background`: never ask on the caller's
    thread (the inbox writer's loop must not wait on Redis). Losing this is harmless: the sweeper finds
    the row. False when Redis could not be asked."""
    waker = _WAKERS.get(ctx.redis)
    if waker is None:
        with _WAKERS_LOCK:
            waker = _WAKERS.get(ctx.redis) or _WAKERS.setdefault(ctx.redis, _Waker())
    return waker.wake(ctx, committed_by, background)


def _ask_redis(ctx: Context) -> bool:
    from jobs.inbox import WAKE_KEY

    try:
        if ctx.redis.set(WAKE_KEY, b"1", nx=True, ex=30):
            ctx.queue.enqueue("jobs.inbox.process_inbox", result_ttl=0, failure_ttl=86400, job_timeout=600)
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
