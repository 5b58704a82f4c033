"""The shop's own identity in the Admin API; parsing only."""
from integrations.shopify.documents import SHOP_IDENTITY

SHOP_GID_PREFIX = "gid://shopify/Shop/"


def fetch_shop_id(client) -> int:
    """Shopify's numeric id of the client's shop (the `548380009` of `gid://shopify/Shop/548380009`, the
    `shop_id` of compliance webhooks and the `id` of app/uninstalled's body). ValueError when the answer
    holds no such id; the client's errors otherwise."""
    shop = client.execute(SHOP_IDENTITY).get("shop") or {}
    found = shop.get("id") if isinstance(shop, dict) else None
    number = found[len(SHOP_GID_PREFIX):] if isinstance(found, str) and found.startswith(SHOP_GID_PREFIX) else ""
    if not (number.isascii() and number.isdigit()):
        raise ValueError(f"the Admin API answered no shop id: {found!r}")
    return int(number)
