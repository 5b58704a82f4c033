"""Waking the workers: a processing job for recorded webhooks (on the inbox queue), a sync job for changed
balances and the history import of a newly installed shop (on the background queue).

The first two are coalesced through a Redis flag (set while a job waits in the queue; the job clears it as it
starts), and queued by name, so nothing here imports the jobs themselves. Losing a wake-up is harmless:
the scheduler's sweeper and periodic sync pick the work up."""
from __future__ import annotations

import logging
import threading
import time
import weakref

from loyalty.services.context import Context
from loyalty.defaults import SYNC_SLICE_SECONDS, WAKE_INTERVAL_SECONDS

log = logging.getLogger(__name__)

INBOX_WAKE_KEY = "loyalty:inbox:wake"
SYNC_WAKE_KEY = "loyalty:sync:wake"


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
    """Queue a processing job unless one is queued already (the wake flag); False when Redis is down."""
    try:
        if ctx.redis.set(INBOX_WAKE_KEY, b"1", nx=True, ex=30):
            queue_processing(ctx)
        return True
    except Exception as exc:  # noqa: BLE001 - Redis down: the row is safe in the database
        log.warning("could not wake a worker (%s); the sweeper will pick the webhook up", exc)
        return False


def queue_processing(ctx: Context) -> None:
    """Queue a processing job on the inbox queue, which only the `worker` processes serve: webhooks
    waiting for their points never queue behind a write-back slice, an import or an email run."""
    ctx.inbox_queue.enqueue("jobs.inbox.process_inbox", result_ttl=0, failure_ttl=86400, job_timeout=600)


def wake_sync(ctx: Context) -> None:
    """Queue a sync job unless one is already waiting (the flag coalesces a burst of balance changes)."""
    try:
        if ctx.redis.set(SYNC_WAKE_KEY, b"1", nx=True, ex=120):
            ctx.queue.enqueue("jobs.sync.sync_balances", kwargs={"slice_seconds": SYNC_SLICE_SECONDS}, result_ttl=0,
                              failure_ttl=86400, job_timeout=600)
    except Exception:  # noqa: BLE001 - the scheduler's periodic sync catches up
        log.warning("could not queue the balance sync", exc_info=True)


def queue_collection_refresh(ctx: Context, shop_domain: str) -> None:
    """Queue the refresh of the products of the shop's campaign collections (a programme naming one was
    saved); Redis trouble is logged, and the daily refresh catches up."""
    try:
        ctx.queue.enqueue("jobs.collections.refresh_collections", shop_domain, job_timeout=3600, result_ttl=86400,
                          failure_ttl=7 * 86400)
    except Exception:  # noqa: BLE001 - saving the programme must not fail because the queue is down
        log.warning("could not queue the collection refresh of %s", shop_domain, exc_info=True)


def queue_history_import(ctx: Context, shop_domain: str) -> None:
    """Queue the import of a newly installed shop's history (install, re-install); Redis trouble is logged,
    and `loyalty import history SHOP` does the same by hand."""
    try:
        ctx.queue.enqueue("jobs.history.import_history", shop_domain, job_timeout=24 * 3600, result_ttl=86400,
                          failure_ttl=7 * 86400)
    except Exception:  # noqa: BLE001 - installing must not fail because the queue is down
        log.warning("could not queue the history import of %s", shop_domain, exc_info=True)


def queue_tier_recalculation(ctx: Context, shop_id: int) -> None:
    """Queue the recalculation of every customer's tier in the shop (new tier settings). Losing it is
    harmless: the request is a database row, and the scheduled tier job finishes unfinished ones."""
    try:
        ctx.queue.enqueue("jobs.tiers.recalculate_tiers", shop_id, job_timeout=3600, result_ttl=3600,
                          failure_ttl=86400)
    except Exception:  # noqa: BLE001 - saving the programme must not fail because the queue is down
        log.warning("could not queue the tier recalculation of shop %s", shop_id, exc_info=True)


def queue_programme_summary(ctx: Context, shop_domain: str) -> None:
    """Queue the write of the theme block's programme summary (a programme changing what the block says was
    saved); Redis trouble is logged, and the daily write catches up."""
    try:
        ctx.queue.enqueue("jobs.theme.write_programme_summary", shop_domain, job_timeout=600, result_ttl=3600,
                          failure_ttl=86400)
    except Exception:  # noqa: BLE001 - saving the programme must not fail because the queue is down
        log.warning("could not queue the theme summary of %s", shop_domain, exc_info=True)
