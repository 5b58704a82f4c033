"""Learning what Shopify says of a shop: its numeric id, which webhook bodies name their shop by (webhooks.intake
checks it), and its facts (name, IANA time zone, currency, primary locale: loyalty.services.shops.shop_facts),
read with the shop's own token (`shop { id name ianaTimezone currencyCode }`, `shopLocales`) when it is
installed, and again by the daily reconciliation. shop/update keeps the facts current in between.

Best effort: an install never fails for it. While the id is unknown, webhook bodies are checked by the shop
domains they name only; while the facts are unknown, the shop runs on UTC, its orders' currency and English.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from db.engine import reading
from integrations.shopify.shop import ShopIdentity, fetch_shop_identity
from loyalty.services.events import shopify_client
from loyalty.services.shops import get_shop, set_shop_facts, set_shopify_shop_id, shopify_shop_id
from loyalty.services.context import Context

log = logging.getLogger(__name__)

QUICK = dict(timeout=(2, 5), max_attempts=1)
"""In a request a person waits on (the OAuth callback): one short try; the reconciliation tries later."""


def learn_shop_id(ctx: Context, domain: str, client=None, client_factory=None, *,
                  with_locale: bool = True) -> int | None:
    """Read the installed shop's id and facts from the Admin API (with `client`, else one made by
    `client_factory`, else a quick one) and store them; the id, or None, logged at WARNING, when it could
    not be read. `with_locale=False`: no second query for the locale (a job that needs the id only)."""
    identity = learn_shop_identity(ctx, domain, client=client, client_factory=client_factory,
                                   with_locale=with_locale)
    return identity.shop_id if identity is not None else None


def learn_shop_identity(ctx: Context, domain: str, client=None, client_factory=None, *,
                        with_locale: bool = True) -> ShopIdentity | None:
    """As learn_shop_id, answering all that was read (None when nothing could be)."""
    try:
        if client is None:
            with reading(ctx.engine) as conn:
                shop = get_shop(conn, domain)
                client = (client_factory(ctx, shop, conn) if client_factory
                          else shopify_client(ctx, shop, conn, **QUICK))
        identity = fetch_shop_identity(client, with_locale=with_locale)
    except Exception as exc:  # noqa: BLE001 - best effort: the install stands, the id is read later
        log.warning("the Shopify id of %s could not be read (%s: %s): its webhooks are checked by domain only "
                    "until it is", domain, type(exc).__name__, exc)
        return None
    with ctx.engine.begin() as conn:
        set_shopify_shop_id(conn, domain, identity.shop_id)
        set_shop_facts(conn, domain, datetime.now(timezone.utc), name=identity.name, timezone=identity.timezone,
                       currency=identity.currency, locale=identity.locale)
    log.info("%s is Shopify shop %s (%s, %s, %s)", domain, identity.shop_id, identity.timezone, identity.currency,
             identity.locale)
    return identity


def learn_shop_id_if_unknown(ctx: Context, domain: str, client) -> int | None:
    """The shop's id: the stored one, else read with `client` (a job that has one at hand)."""
    with reading(ctx.engine) as conn:
        known = shopify_shop_id(conn, domain)
    return known if known is not None else learn_shop_id(ctx, domain, client=client, with_locale=False)
