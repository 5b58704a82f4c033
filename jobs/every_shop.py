"""Daily work done shop by shop: every installed shop, one failing shop not stopping the others."""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select

from db.engine import reading
from db.tables import shops
from loyalty.services.context import Context

log = logging.getLogger(__name__)


def for_every_shop(ctx: Context, work: Callable[[str], object], what: str) -> dict:
    """`work(domain)` for every installed shop: its result by domain, or "failed: why" (logged; the next
    run tries again)."""
    with reading(ctx.engine) as conn:
        domains = conn.execute(select(shops.c.domain).where(shops.c.uninstalled_at.is_(None))).scalars().all()
    done = {}
    for domain in domains:
        try:
            done[domain] = work(domain)
        except Exception as exc:  # noqa: BLE001 - recorded for the shop; the next run tries again
            log.warning("%s of %s failed: %s", what, domain, exc)
            done[domain] = f"failed: {exc}"
    return done
