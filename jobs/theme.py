"""The theme block's programme summary (loyalty.domain.theme_block) written to the shop's
`loyalty.programme` metafield (JSON), which the block (extensions/loyalty-balance) reads in Liquid: its
wording follows the programme (ladder or conversion) without a request to the app.

Written after each programme change (queued by loyalty.services.use_cases.programme once committed) and
daily for every installed shop, so a write lost to an outage or a bad token mends itself within a day. One
metafieldsSet call per shop, through the same atomic path as the balances (integrations.shopify.metafields).
"""
from __future__ import annotations

import logging

from db.engine import reading
from integrations.shopify.metafields import set_metafields, shop_json_metafield
from jobs.every_shop import for_every_shop
from jobs.write_back import NAMESPACE
from loyalty.domain.theme_block import programme_summary
from loyalty.services.context import Context, get_context
from loyalty.services.errors import ShopGone, UnknownShop
from loyalty.services.events import shopify_client
from loyalty.services.shop_identity import learn_shop_id_if_unknown
from loyalty.services.shops import get_shop, programme

log = logging.getLogger(__name__)

KEY = "programme"
"""The shop metafield `loyalty.programme`."""


def write_programme_summary(shop_domain: str, ctx: Context | None = None, client_factory=shopify_client) -> bool:
    """RQ job: write the programme in force as the shop's `loyalty.programme` metafield. False (logged) when
    it cannot be written now: the shop is gone, its token unusable, or its Shopify id still unknown (it is
    read first when unknown); the daily run tries again. Shopify's refusals (userErrors) go up."""
    ctx = ctx or get_context()
    with reading(ctx.engine) as conn:
        try:
            shop = get_shop(conn, shop_domain)
            client = client_factory(ctx, shop, conn)
        except (UnknownShop, ShopGone) as exc:
            log.warning("the theme summary of %s is not written: %s", shop_domain, exc.__cause__ or exc)
            return False
        summary = programme_summary(programme(conn, shop.id, shop.settings_version))
    shop_id = learn_shop_id_if_unknown(ctx, shop_domain, client)
    if shop_id is None:
        return False  # learn_shop_id logged why
    set_metafields(client, [shop_json_metafield(shop_id, NAMESPACE, KEY, summary)])
    return True


def write_all_programme_summaries(ctx: Context | None = None, client_factory=shopify_client) -> dict:
    """Daily job (scheduler): every installed shop's summary written again (True), or why not; one failing
    shop does not stop the others."""
    ctx = ctx or get_context()
    return for_every_shop(ctx, lambda domain: write_programme_summary(domain, ctx=ctx, client_factory=client_factory),
                          "theme summary")
