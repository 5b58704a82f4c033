"""VIP tier jobs: the shop-wide recalculation new tier settings ask for, the scheduled pass that ends
retained tiers at their period's end (loyalty.services.tiers does the deciding), and the pass giving the
tiers' free shipping codes (loyalty.services.tier_gifts, every ten minutes)."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from sqlalchemy import select

from db.engine import reading
from db.tables import shops
from loyalty.defaults import TIER_BATCH, TIER_JOB_SECONDS
from loyalty.services import tier_gifts, tiers
from loyalty.services.context import Context, get_context
from loyalty.services.events import shopify_client
from loyalty.services.shops import ShopRef, programme
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.vouchers import issue_gift
from loyalty.services.wakeups import queue_tier_recalculation, wake_sync

log = logging.getLogger(__name__)


def recalculate_tiers(shop_id: int, ctx: Context | None = None, now: datetime | None = None,
                      slice_seconds: float | None = TIER_JOB_SECONDS, batch: int = TIER_BATCH) -> bool:
    """RQ job: carry the shop's tier recalculation on, a batch of customers per transaction, until it is
    finished (True) or `slice_seconds` have passed (then it queues its continuation and returns False)."""
    ctx = ctx or get_context()
    deadline = time.monotonic() + slice_seconds if slice_seconds else None
    done = False
    while not done:
        with ctx.engine.begin() as conn:
            done = tiers.recalculation_step(conn, shop_id, now or datetime.now(timezone.utc), limit=batch)
        if not done and deadline and time.monotonic() > deadline:
            queue_tier_recalculation(ctx, shop_id)
            break
    wake_sync(ctx)  # tier tags to write
    return done


def tiers_at_period_end(as_of: datetime | None = None, ctx: Context | None = None) -> int:
    """Scheduled (hourly, idempotent): decide again every customer whose retained tier reached its end
    (renewed, or moved to the tier their figure reaches), and finish recalculations a lost job left
    unfinished. Returns how many customers were looked at."""
    ctx = ctx or get_context()
    now = as_of or datetime.now(timezone.utc)
    with reading(ctx.engine) as conn:
        rows = conn.execute(select(shops.c.id, shops.c.domain, shops.c.settings_version)
                            .where(shops.c.uninstalled_at.is_(None)).order_by(shops.c.id)).all()
        unfinished = tiers.unfinished_recalculations(conn)
    looked = 0
    for shop_id in unfinished:
        recalculate_tiers(shop_id, ctx, now=now, slice_seconds=None)
    for row in rows:
        shop = ShopRef(row.id, row.domain, row.settings_version)
        while True:
            with ctx.engine.begin() as conn:
                prog = programme(conn, shop.id, shop.settings_version)
                if not prog.tiers.enabled:
                    break
                count = tiers.retention_ended(conn, shop, prog, now, limit=TIER_BATCH)
            looked += count
            if count < TIER_BATCH:
                break
    if looked:
        wake_sync(ctx)
    return looked


def give_tier_gifts(as_of: datetime | None = None, ctx: Context | None = None, client_factory=shopify_client) -> int:
    """Scheduled (every 10 minutes, idempotent): reserve the tiers' free shipping codes due as of `as_of`
    (default now), a batch per transaction, then make them in Shopify outside any transaction (a code that
    fails waits for the next run, its reason recorded). Returns how many codes were reserved."""
    ctx = ctx or get_context()
    now = as_of or datetime.now(timezone.utc)
    with reading(ctx.engine) as conn:
        rows = conn.execute(select(shops.c.id, shops.c.domain, shops.c.settings_version)
                            .where(shops.c.uninstalled_at.is_(None)).order_by(shops.c.id)).all()
    reserved = 0
    for row in rows:
        shop = ShopRef(row.id, row.domain, row.settings_version)
        while True:
            with ctx.engine.begin() as conn:
                prog = programme(conn, shop.id, shop.settings_version)
                count = tier_gifts.reserve_due(conn, shop, prog, now, limit=TIER_BATCH)  # 0: no tier gives one
                waiting = tier_gifts.waiting(conn, shop.id)
            reserved += count
            if count < TIER_BATCH:
                break
        for voucher_id in waiting:
            try:
                issue_gift(voucher_id, UnitOfWork(ctx, lambda: now), client_factory)
            except Exception as exc:  # noqa: BLE001 - recorded on the voucher (note_waiting), tried again next run
                log.warning("tier free shipping code %s: %s", voucher_id, exc)
    return reserved
