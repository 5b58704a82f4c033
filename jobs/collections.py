"""Refreshing the products of the collections campaigns are limited to: when a programme naming one is
saved (queued by the use case) and daily (the scheduler), so that orders are matched against the
collection's products without a call to Shopify per order.

    refresh_collections("store-b.myshopify.com")   # one shop, now
    refresh_all_collections()                      # every installed shop whose campaigns name a collection
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from db.engine import reading
from integrations.shopify.collections import fetch_collection_products
from jobs.every_shop import for_every_shop
from loyalty.domain.campaigns import collections_of
from loyalty.services import collections
from loyalty.services.context import Context, get_context
from loyalty.services.events import shopify_client
from loyalty.services.shops import get_shop, programme

log = logging.getLogger(__name__)


def refresh_collections(shop_domain: str, ctx: Context | None = None, client_factory=shopify_client,
                        now: datetime | None = None) -> dict[int, int | None]:
    """RQ job and `loyalty`'s daily run: read from Shopify the products of each collection the shop's
    campaigns name and keep them (those of collections no campaign names any more are dropped). Returns
    the number of products by collection (None: Shopify has no such collection; it then holds none)."""
    ctx = ctx or get_context()
    now = now or datetime.now(timezone.utc)
    with reading(ctx.engine) as conn:
        shop = get_shop(conn, shop_domain)
        wanted = sorted(collections_of(programme(conn, shop.id, shop.settings_version).campaigns))
        client = client_factory(ctx, shop, conn) if wanted else None
    found = {}
    for collection_id in wanted:  # each read outside any transaction, then written in one of its own
        products = fetch_collection_products(client, collection_id)
        if products is None:
            log.warning("%s: campaign collection %s does not exist in Shopify; no product is in it",
                        shop_domain, collection_id)
        with ctx.engine.begin() as conn:
            collections.replace_members(conn, shop.id, collection_id, products or (), now)
        found[collection_id] = None if products is None else len(set(products))
    with ctx.engine.begin() as conn:
        collections.forget_others(conn, shop.id, wanted)
    return found


def refresh_all_collections(ctx: Context | None = None) -> dict:
    """Daily job (scheduler): refresh every installed shop's campaign collections; one failing shop does not
    stop the others."""
    ctx = ctx or get_context()
    return for_every_shop(ctx, lambda domain: refresh_collections(domain, ctx=ctx), "collection refresh")
