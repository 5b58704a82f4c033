"""Shopify's app proxy signature, and the replay window around it.

Shopify forwards `/apps/loyalty/...` to `/proxy/...` adding `shop`, `logged_in_customer_id`, `path_prefix`,
`timestamp` and `signature`: the hex HMAC-SHA256, with the app secret, of every other query parameter as
`key=value` (a repeated key's values joined by commas), sorted, concatenated with no separator. Nothing
in the query can be trusted, the shop and the customer included, until the signature matches.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone

from loyalty.domain.numbers import MAX_SHOPIFY_ID, parse_int
from integrations.shopify.errors import ProxyRefused
from loyalty.defaults import PROXY_MAX_AGE_SECONDS as MAX_AGE_SECONDS

PROXY_PATH = "/proxy"
"""Where the app serves what Shopify forwards from the shop's `/apps/loyalty/...` ; must match `url` of
[app_proxy] in shopify.app.toml (a test checks it)."""


@dataclass(frozen=True)
class ProxyRequest:
    """What a verified proxy request tells us."""

    shop: str
    customer_id: int | None
    """Shopify id of the logged-in customer; None for an anonymous visitor."""
    path_prefix: str
    """Where the page lives in the shop (`/apps/loyalty`): links and forms point there, not at us."""
    timestamp: int


def message(params: list[tuple[str, str]]) -> str:
    """The signed text of the query parameters (`signature` itself excluded)."""
    values: dict[str, list[str]] = {}
    for key, value in params:
        if key != "signature":
            values.setdefault(key, []).append(value)
    return "".join(sorted(f"{key}={','.join(vals)}" for key, vals in values.items()))


def sign(secret: str, params: list[tuple[str, str]]) -> str:
    """The `signature` Shopify adds to a proxied request with these parameters."""
    return hmac.new(secret.encode(), message(params).encode(), hashlib.sha256).hexdigest()


def verify(secrets: tuple[str, ...], params: list[tuple[str, str]], now: datetime,
           max_age: int = MAX_AGE_SECONDS) -> ProxyRequest:
    """The verified request, or ProxyRefused. Every secret is tried (rotation), in constant time."""
    params = list(params)
    given = [v for k, v in params if k == "signature"]
    if len(given) != 1 or not secrets:
        raise ProxyRefused("missing signature")
    ok = False
    for secret in secrets:  # every secret, so timing does not tell which one matched
        ok |= hmac.compare_digest(sign(secret, params).encode(), given[0].strip().lower().encode())
    if not ok:
        raise ProxyRefused("signature does not match")
    fields = {}
    for key in ("shop", "logged_in_customer_id", "path_prefix", "timestamp"):
        found = [v for k, v in params if k == key]
        if len(found) > 1:
            raise ProxyRefused(f"{key} given twice")
        fields[key] = found[0] if found else ""
    timestamp = parse_int(fields["timestamp"].strip(), 0, 2**40)  # seconds: far past any real date
    if timestamp is None:
        raise ProxyRefused("missing timestamp")
    age = now.astimezone(timezone.utc).timestamp() - timestamp
    if not -max_age <= age <= max_age:
        raise ProxyRefused(f"stale request: signed {int(age)} s ago")
    customer = fields["logged_in_customer_id"].strip()
    customer_id = parse_int(customer, 0, MAX_SHOPIFY_ID) if customer else None
    if customer and customer_id is None:
        raise ProxyRefused("logged_in_customer_id is not a customer id")
    return ProxyRequest(shop=fields["shop"], customer_id=customer_id,
                        path_prefix=fields["path_prefix"] or "/apps/loyalty", timestamp=timestamp)
