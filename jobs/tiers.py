"""VIP tier jobs: the shop-wide recalculation new tier settings ask for, and the scheduled pass that ends
retained tiers at their period's end (loyalty.services.tiers does the deciding)."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from sqlalchemy import select

from db.engine import reading
from db.tables import shops
from loyalty.defaults import TIER_BATCH, TIER_JOB_SECONDS
from loyalty.services import tiers
from loyalty.services.context import Context, get_context
from loyalty.services.shops import ShopRef, programme
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
