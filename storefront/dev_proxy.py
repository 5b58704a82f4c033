"""Demo mode only: the shop's `/apps/loyalty/...` served on the app's own host, as Shopify's app proxy serves
it in a real shop, so that the page `loyalty storefront url` opens works as a shopper's would (its forms
post to `/apps/loyalty/redeem`, its redirects go to `/apps/loyalty?notice=...`).

Shopify's proxy knows the shop from the host and the customer from the shop's own session; it forwards
`/apps/loyalty/<rest>?<query>` to `/proxy/<rest>` adding `shop`, `logged_in_customer_id`, `path_prefix`,
`timestamp` and `signature`. This layer does the same for the demo shop: the customer is the one of the
last signed page opened in this browser (a cookie, itself signed with the app secret, set when a signed
`/proxy` page of the demo shop is opened), and the request is signed with the app secret as Shopify signs it.
The app then checks it like any proxied request. It is installed by runtime.web only when demo mode is on
(LOYALTY_DEMO=1, refused beside a real key, secret or Admin API: loyalty.demo), so a production app has no
`/apps/loyalty` route at all (404).
"""
from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from integrations.shopify.app_proxy import PROXY_PATH, ProxyRefused, sign, verify
from loyalty.demo import DEMO_SHOP

SHOP_PREFIX = "/apps/loyalty"
"""The page's path in the shop (shopify.app.toml: [app_proxy] prefix and subpath)."""
COOKIE = "loyalty_demo_customer"
ADDED = ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature")
"""What the proxy adds; the shopper's own values for them are dropped, as they cannot be trusted."""


class DevProxy:
    """WSGI layer: `/apps/loyalty/...` of the demo shop, signed and forwarded to `/proxy/...`."""

    def __init__(self, app, secret: str, shop: str = DEMO_SHOP):
        self.app, self.secret, self.shop = app, secret, shop

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == SHOP_PREFIX or path.startswith(SHOP_PREFIX + "/"):
            return self._forward(environ, start_response, path[len(SHOP_PREFIX):])
        if path == PROXY_PATH and environ.get("REQUEST_METHOD") == "GET":
            customer = self._signed_customer(environ.get("QUERY_STRING", ""))
            if customer is not None:
                return self.app(environ, self._remembering(start_response, customer))
        return self.app(environ, start_response)

    def _mac(self, customer: str) -> str:
        return hmac.new(self.secret.encode(), f"demo-shopper|{self.shop}|{customer}".encode(),
                        hashlib.sha256).hexdigest()[:32]

    def _signed_customer(self, query: str) -> str | None:
        """The customer of a validly signed page of the demo shop ('' for a visitor), else None."""
        try:
            proxied = verify((self.secret,), parse_qsl(query, keep_blank_values=True), datetime.now(timezone.utc))
        except ProxyRefused:
            return None
        if proxied.shop != self.shop:
            return None
        return "" if proxied.customer_id is None else str(proxied.customer_id)

    def _remembering(self, start_response, customer: str):
        """Sets the demo shopper's cookie on the page's answer, as the shop's session would hold them."""
        def start(status, headers, exc_info=None):
            value = f"{customer}.{self._mac(customer)}"
            headers = [*headers, ("Set-Cookie", f"{COOKIE}={value}; Path={SHOP_PREFIX}; HttpOnly; SameSite=Lax")]
            return start_response(status, headers, exc_info)
        return start

    def _customer(self, environ) -> str:
        """The demo shopper from the cookie ('' : a visitor, or a cookie that is not ours)."""
        morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(COOKIE)
        customer, _, mac = (morsel.value if morsel else "").partition(".")
        ok = hmac.compare_digest(self._mac(customer).encode(), mac.encode())
        return customer if ok and customer.isdigit() else ""

    def _forward(self, environ, start_response, rest: str):
        pairs = [(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
                 if k not in ADDED]
        pairs += [("shop", self.shop), ("logged_in_customer_id", self._customer(environ)),
                  ("path_prefix", SHOP_PREFIX), ("timestamp", str(int(time.time())))]
        environ = {**environ, "PATH_INFO": PROXY_PATH + rest,
                   "QUERY_STRING": urlencode(pairs + [("signature", sign(self.secret, pairs))])}
        return self.app(environ, start_response)
