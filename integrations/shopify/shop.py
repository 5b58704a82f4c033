"""The shop's own identity and facts in the Admin API; parsing only."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from integrations.shopify.documents import SHOP_IDENTITY, SHOP_LOCALES
from integrations.shopify.errors import ShopifyError

log = logging.getLogger(__name__)

SHOP_GID_PREFIX = "gid://shopify/Shop/"


@dataclass(frozen=True)
class ShopIdentity:
    """What the Admin API says of the shop: its numeric id and the facts stored with it (None: not said)."""

    shop_id: int
    name: str | None = None
    timezone: str | None = None
    currency: str | None = None
    locale: str | None = None


def fetch_shop_identity(client, *, with_locale: bool = True) -> ShopIdentity:
    """The client's shop: id, name, IANA time zone, currency (one query), and, `with_locale`, its primary
    locale when the token may read the shop's locales (a second query; None otherwise: best effort).
    ValueError when the answer holds no id; the client's errors otherwise."""
    shop = client.execute(SHOP_IDENTITY).get("shop") or {}
    if not isinstance(shop, dict):
        shop = {}
    found = shop.get("id")
    number = found[len(SHOP_GID_PREFIX):] if isinstance(found, str) and found.startswith(SHOP_GID_PREFIX) else ""
    if not (number.isascii() and number.isdigit()):
        raise ValueError(f"the Admin API answered no shop id: {found!r}")
    return ShopIdentity(int(number), name=_text(shop.get("name"), 255), timezone=_text(shop.get("ianaTimezone"), 64),
                        currency=_text(shop.get("currencyCode"), 3),
                        locale=_primary_locale(client) if with_locale else None)


def fetch_shop_id(client) -> int:
    """Shopify's numeric id of the client's shop (the `548380009` of `gid://shopify/Shop/548380009`, the
    `shop_id` of compliance webhooks and the `id` of app/uninstalled's body)."""
    return fetch_shop_identity(client, with_locale=False).shop_id


def _primary_locale(client) -> str | None:
    """The shop's primary locale (`fr`), or None when it cannot be read (no `read_locales` scope)."""
    try:
        locales = client.execute(SHOP_LOCALES).get("shopLocales") or []
    except ShopifyError as exc:
        log.info("the shop's locales were not read (%s): its locale comes from shop/update", exc)
        return None
    primary = next((each.get("locale") for each in locales if isinstance(each, dict) and each.get("primary")), None)
    return _text(primary, 16)


def _text(value, size: int) -> str | None:
    """A non-empty string that fits its column, else None (a fact not stored rather than a wrong one)."""
    return value if isinstance(value, str) and 0 < len(value) <= size else None
