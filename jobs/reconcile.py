"""Reconciliation: Shopify does not promise to deliver every webhook, so once a day (and on demand) the
orders changed since the last run are read back and applied through the same rules; what the webhooks
already delivered changes nothing (same idempotency keys), what they missed is applied once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from integrations.shopify.documents import ORDERS_UPDATED_SINCE
from loyalty.services import import_runs as runs
from loyalty.services.events import shopify_client
from jobs.every_shop import for_every_shop
from jobs.history import Source
from loyalty.services.shop_identity import learn_shop_identity
from integrations.shopify.translate import BadPayload, _time
from integrations.shopify.translate_graphql import import_order
from loyalty.services.history import apply_orders
from loyalty.services.context import Context, get_context
from loyalty.defaults import RECONCILE_OVERLAP as OVERLAP

log = logging.getLogger(__name__)


def reconcile_all(ctx: Context | None = None) -> dict:
    """Daily job (scheduler): reconcile every installed shop; one failing shop does not stop the others."""
    ctx = ctx or get_context()
    # a failure is recorded on the shop's run too; the next day tries again
    return for_every_shop(ctx, lambda domain: reconcile(domain, ctx=ctx)["orders_done"], "reconciliation")


def reconcile(shop_domain: str, since: datetime | None = None, ctx: Context | None = None,
              client_factory=shopify_client, now: datetime | None = None) -> dict:
    """`loyalty reconcile SHOP [--since]`: apply the orders updated since `since` (default: the last run's
    watermark, else the install) and move the watermark to the latest change applied."""
    ctx = ctx or get_context()
    now = now or datetime.now(timezone.utc)
    source = Source(ctx, shop_domain, client_factory)
    with ctx.engine.begin() as conn:
        last = runs.latest(conn, source.shop.id, "reconcile", status="completed")
        if last is not None and last.watermark is not None:
            start = _aware(last.watermark)
        else:
            start = _aware(source.installed_at)
        start = since or start - OVERLAP
        run_id = runs.start(conn, source.shop.id, "reconcile", now, source=f"orders updated since {start:%Y-%m-%dT%H:%M:%SZ}",
                            watermark=start)
    with runs.failing_with_reason(ctx, run_id, shop_domain):
        watermark, after = start, None
        search = f"updated_at:>='{start.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}'"
        while True:
            page = source.admin().execute(ORDERS_UPDATED_SINCE, {"query": search, "after": after})["orders"]
            orders = []
            for node in page["nodes"]:
                if node["lineItems"]["pageInfo"]["hasNextPage"]:
                    log.error("reconcile %s: order %s has more than 20 lines; left to its webhooks",
                              shop_domain, node["id"])
                    continue
                try:
                    orders.append(import_order(node))
                except BadPayload as exc:
                    log.error("reconcile %s: order %s skipped: %s", shop_domain, node.get("id"), exc)
                watermark = max(watermark, _time(node, "updatedAt"))
            orders = source.complete_refunds(orders)
            with ctx.engine.begin() as conn:
                totals = apply_orders(conn, source.shop, orders, now)
                runs.progress(conn, run_id, totals, datetime.now(timezone.utc), watermark=watermark,
                              last_order_id=orders[-1].facts.order_id if orders else None)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        with ctx.engine.begin() as conn:
            runs.finish(conn, run_id, now)
    # The id (if the install missed it) and the facts (name, time zone, currency, locale: a missed
    # shop/update): one cheap query a day, best effort.
    learn_shop_identity(ctx, shop_domain, client=source.admin())
    return runs.completed(ctx, run_id)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
