"""The scheduled store credit job: finish credits whose attempt died, and read back what customers spent of
their store credit (loyalty.services.use_cases.store_credit.check_store_credit)."""
from __future__ import annotations

import logging
from datetime import datetime

from loyalty.services.context import Context, get_context
from loyalty.services.events import shopify_client
from loyalty.services.unit_of_work import UnitOfWork, utc_now
from loyalty.services.use_cases.store_credit import check_store_credit as check

log = logging.getLogger(__name__)


def check_store_credit(ctx: Context | None = None, now: datetime | None = None, client_factory=shopify_client) -> dict:
    """One pass over every shop's open store credit; returns its counts (finished, checked, changed, failed)."""
    ctx = ctx or get_context()
    counts = check(UnitOfWork(ctx, clock=(lambda: now) if now else utc_now), client_factory)
    if any(counts.values()):
        log.info("store credit: %s", counts)
    return counts
