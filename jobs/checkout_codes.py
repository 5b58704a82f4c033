"""Codes made at checkout and never used are given back (run by `rq cron jobs/cron.py`, hourly).

A code redeemed from the checkout UI extension lasts CHECKOUT_CODE_LIFETIME; once it has ended and
CHECKOUT_GIVE_BACK_GRACE has passed with no order using it, it is deactivated in Shopify and its points are
re-credited, once (loyalty.services.use_cases.vouchers.give_back_checkout_code)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from db.engine import reading
from loyalty.services.context import Context, get_context
from loyalty.services.events import shopify_client
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.vouchers import give_back_checkout_code
from loyalty.services.vouchers import checkout_codes_due

log = logging.getLogger(__name__)
BATCH = 200
"""Codes read per query; the run goes on until none is due."""


def give_back_checkout_codes(as_of: datetime | None = None, ctx: Context | None = None,
                             client_factory=shopify_client) -> int:
    """Give back every checkout code due at `as_of` (default: now); returns how many were given back. A code
    Shopify cannot be asked about now stays active and is tried again at the next run."""
    ctx = ctx or get_context()
    moment = as_of or datetime.now(timezone.utc)
    given, failed = 0, set()
    while True:
        with reading(ctx.engine) as conn:
            due = [i for i in checkout_codes_due(conn, moment, BATCH + len(failed)) if i not in failed]
        if not due:
            return given
        for voucher_id in due:
            try:
                voucher = give_back_checkout_code(voucher_id, UnitOfWork(ctx, clock=lambda: moment), client_factory)
            except Exception as exc:  # noqa: BLE001 - one shop's Shopify failing must not stop the others
                log.warning("checkout code %s not given back yet: %s", voucher_id, exc)
                failed.add(voucher_id)
                continue
            given += voucher is not None and voucher.status == "expired"
