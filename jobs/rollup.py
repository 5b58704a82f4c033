"""The roll-up job: every shop's ledger totals (loyalty/services/ledger_rollup.py) and order and voucher
totals (loyalty/services/order_rollup.py) brought up to date each minute, so the home page and the liability
report read a few hundred rows plus a minute of tail."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from db.engine import reading
from db.tables import shops
from loyalty.services.context import Context, get_context
from loyalty.services.ledger_rollup import roll_up
from loyalty.services.order_rollup import roll_up_orders, roll_up_vouchers

log = logging.getLogger(__name__)


def roll_up_ledgers(ctx: Context | None = None, now: datetime | None = None) -> dict:
    """Roll up every shop's ledger and orders (installed or not: an uninstalled shop's report still reads); the
    new ledger watermark per shop, or "failed: why" (the next run tries again)."""
    ctx = ctx or get_context()
    with reading(ctx.engine) as conn:
        shop_ids = conn.execute(select(shops.c.id)).scalars().all()
    done = {}
    for shop_id in shop_ids:
        try:
            done[shop_id] = roll_up(ctx.engine, shop_id, now)
            roll_up_orders(ctx.engine, shop_id, now)
            roll_up_vouchers(ctx.engine, shop_id, now)
        except Exception as exc:  # noqa: BLE001 - one shop failing does not stop the others
            log.warning("ledger roll-up of shop %s failed: %s", shop_id, exc)
            done[shop_id] = f"failed: {exc}"
    return done
