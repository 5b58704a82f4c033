"""Shopify's webhook bodies at the door: the shape each topic's body has, and the shop a body names.

Shopify signs a webhook's body with the app's one secret, the same for every shop, and signs nothing else: the
X-Shopify-Shop-Domain and X-Shopify-Topic headers are not covered. So a valid signature proves that Shopify
wrote the body, not for which shop or topic it was sent, and a body captured from one shop could be replayed
for another shop, or as another topic. Two checks close what the body itself can tell:

- `shape_problem`: the body has the fields its topic's body always has, with their JSON types, and none of
  the fields that mark another topic's body (a customers/data_request body is not a customers/redact one);
- `foreign_shop`: every shop the body names (compliance topics' `shop_domain` and `shop_id`, the Shop object
  of app/uninstalled and shop/update, the shop id and host in an order's `order_status_url`) is the header's shop, and its
  numeric id the one stored at install (when known).

Only the fields read here are checked; integrations.shopify.translate reads the rest when the event is applied.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple
from urllib.parse import urlsplit

MYSHOPIFY = ".myshopify.com"

_ORDER = (("id", int), ("line_items", list))
_CUSTOMER = (("id", int),)
_COMPLIANCE = (("shop_id", int), ("shop_domain", str))

REQUIRED: dict[str, tuple[tuple[str, type], ...]] = {
    "orders/paid": _ORDER,
    "orders/cancelled": _ORDER,
    "refunds/create": (("id", int), ("order_id", int)),
    "customers/create": _CUSTOMER,
    "customers/update": _CUSTOMER,
    "app/uninstalled": (("id", int), ("myshopify_domain", str)),  # the Shop resource
    "shop/update": (("id", int), ("myshopify_domain", str)),  # the Shop resource too
    "shop/redact": _COMPLIANCE,
    "customers/redact": _COMPLIANCE + (("customer", dict), ("orders_to_redact", list)),
    "customers/data_request": _COMPLIANCE + (("customer", dict), ("orders_requested", list),
                                             ("data_request", dict)),
}
"""The fields each topic's body always has (Shopify's documented payloads), with their JSON types."""

SHOP_RESOURCE_TOPICS = frozenset({"app/uninstalled", "shop/update"})
"""Topics whose body is the Shop resource: its `id` is the shop's numeric id."""

FOREIGN: dict[str, tuple[str, ...]] = {
    "shop/redact": ("customer", "orders_to_redact", "orders_requested", "data_request"),
    "customers/redact": ("orders_requested", "data_request"),
    "customers/data_request": ("orders_to_redact",),
    "customers/create": ("line_items", "order_id", "myshopify_domain", "shop_id"),
    "customers/update": ("line_items", "order_id", "myshopify_domain", "shop_id"),
    "shop/update": ("line_items", "order_id", "shop_domain", "shop_id", "customer"),
}
"""Fields that mark another topic's body: a customers/redact body (which has every field of shop/redact)
replayed as shop/redact would erase the whole shop; an order or a Shop replayed as a customer would
create a customer from it."""


def shape_problem(topic: str, body) -> str | None:
    """Why `body` (parsed JSON) is not a body of `topic`, or None when it has that topic's shape."""
    if not isinstance(body, dict):
        return "expected a JSON object"
    for field, kind in REQUIRED.get(topic, ()):
        value = body.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{field}: missing or not {_NAMES[kind]}"
    for field in FOREIGN.get(topic, ()):
        if field in body:
            return f"{field}: a field of another topic's body"
    return None


_NAMES = {int: "an integer", str: "a string", list: "a list", dict: "an object"}


class Named(NamedTuple):
    """A shop a body names, by one of its fields: its domain or its numeric id (or both, or neither)."""

    field: str
    domain: str | None
    shop_id: int | None


def named_shops(topic: str, body: dict) -> Iterator[Named]:
    """Every shop `body` names, whatever its topic (a body replayed as another topic still names its shop)."""
    domain = body.get("shop_domain")
    if isinstance(domain, str):
        yield Named("shop_domain", domain, None)
    shop_id = body.get("shop_id")
    if _is_int(shop_id):
        yield Named("shop_id", None, shop_id)
    domain = body.get("myshopify_domain")
    if isinstance(domain, str):  # a Shop resource: app/uninstalled's body
        yield Named("myshopify_domain", domain, body["id"] if topic in SHOP_RESOURCE_TOPICS and _is_int(body.get("id"))
                    else None)
    url = body.get("order_status_url")
    if isinstance(url, str):
        yield _order_status_shop(url)


def _order_status_shop(url: str) -> Named:
    """The shop an order status URL names: `https://HOST/548380009/orders/TOKEN/authenticate?key=...`.
    The path's first segment is the shop's id; the host names the shop only when it is its myshopify.com
    domain (a custom domain could be anyone's, so it is not compared)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return Named("order_status_url", None, None)
    first = parts.path.lstrip("/").split("/", 1)[0]
    return Named("order_status_url", host if host.endswith(MYSHOPIFY) else None,
                 int(first) if first.isascii() and first.isdigit() and len(first) < 19 else None)


def foreign_shop(topic: str, body: dict, domain: str, shop_id: int | None) -> Named | None:
    """The first shop `body` names that is not `domain` (the header's shop) or, when `shop_id` (the id
    stored for it) is known, not that id; None when the body names no other shop."""
    domain = domain.lower()
    for named in named_shops(topic, body):
        if named.domain is not None and named.domain.lower() != domain:
            return named
        if named.shop_id is not None and shop_id is not None and named.shop_id != shop_id:
            return named
    return None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
