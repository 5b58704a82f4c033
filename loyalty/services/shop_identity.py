"""Learning Shopify's numeric id of a shop, which webhook bodies name their shop by (webhooks.intake checks
it): read with the shop's own token (`shop { id }`) when it is installed, and again later while unknown.

Best effort: an install never fails for it. While the id is unknown, webhook bodies are checked by the shop
domains they name only; the daily reconciliation tries again.
"""
from __future__ import annotations

import logging

from db.engine import reading
from integrations.shopify.shop import fetch_shop_id
from loyalty.services.events import shopify_client
from loyalty.services.shops import get_shop, set_shopify_shop_id, shopify_shop_id
from loyalty.services.context import Context

log = logging.getLogger(__name__)

QUICK = dict(timeout=(2, 5), max_attempts=1)
"""In a request a person waits on (the OAuth callback): one short try; the reconciliation tries later."""


def learn_shop_id(ctx: Context, domain: str, client=None, client_factory=None) -> int | None:
    """Read the installed shop's id from the Admin API (with `client`, else one made by `client_factory`,
    else a quick one) and store it; None, logged at WARNING, when it could not be read."""
    try:
        if client is None:
            with reading(ctx.engine) as conn:
                shop = get_shop(conn, domain)
                client = (client_factory(ctx, shop, conn) if client_factory
                          else shopify_client(ctx, shop, conn, **QUICK))
        shop_id = fetch_shop_id(client)
    except Exception as exc:  # noqa: BLE001 - best effort: the install stands, the id is read later
        log.warning("the Shopify id of %s could not be read (%s: %s): its webhooks are checked by domain only "
                    "until it is", domain, type(exc).__name__, exc)
        return None
    with ctx.engine.begin() as conn:
        set_shopify_shop_id(conn, domain, shop_id)
    log.info("%s is Shopify shop %s", domain, shop_id)
    return shop_id


def learn_shop_id_if_unknown(ctx: Context, domain: str, client) -> int | None:
    """The shop's id: the stored one, else read with `client` (a job that has one at hand)."""
    with reading(ctx.engine) as conn:
        known = shopify_shop_id(conn, domain)
    return known if known is not None else learn_shop_id(ctx, domain, client=client)
