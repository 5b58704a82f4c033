"""The OAuth `state` of an install, signed instead of stored, so starting an install writes nothing.

`/auth/install` is unauthenticated: anyone can call it as often as they like. When each call stored a row
(and swept old ones), a flood of installs held SQLite's write lock and webhooks answered 503. The state is
now `nonce.expires.mac`, the MAC an HMAC-SHA256 with the app secret over the shop, the nonce and the
expiry, so the callback can check without any lookup that the app issued it, for that shop, less than
STATE_LIFETIME ago. The nonce is also put in a cookie of the browser that started the install (as
Shopify's own libraries do), so a state cannot be carried into another browser (login CSRF). Single use is
enforced at the callback, once Shopify's query HMAC has authenticated it (admin.auth).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from loyalty.defaults import INSTALL_STATE_LIFETIME as STATE_LIFETIME

NONCE_COOKIE = "loyalty_oauth_nonce"
"""The cookie binding the state to the browser that started the install."""


class BadState(ValueError):
    """The state is malformed, forged, for another shop, expired, or not this browser's."""


@dataclass(frozen=True)
class IssuedState:
    """What /auth/install hands out: the `state` for Shopify's URL and the nonce for the cookie."""

    state: str
    nonce: str


def _mac(secret: str, shop: str, nonce: str, expires: int) -> str:
    text = f"{shop}|{nonce}|{expires}".encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def issue(secret: str, shop: str, now: datetime) -> IssuedState:
    """A new state for an install of `shop`, valid for STATE_LIFETIME from `now`."""
    nonce, expires = secrets.token_urlsafe(24), int((now + STATE_LIFETIME).timestamp())
    return IssuedState(f"{nonce}.{expires}.{_mac(secret, shop, nonce, expires)}", nonce)


def verify(secrets_: tuple[str, ...], state: str | None, shop: str, cookie_nonce: str | None,
           now: datetime) -> tuple[str, datetime]:
    """The state's nonce and expiry when the app issued it for `shop` (with any of the secrets, during a
    rotation), it has not expired and the browser's cookie holds its nonce; BadState otherwise."""
    nonce, _, rest = (state or "").partition(".")
    expires_text, _, mac = rest.partition(".")
    if not nonce or not expires_text.isdigit() or len(expires_text) > 12 or not mac:
        raise BadState("malformed state")
    expires = int(expires_text)
    ok = False
    for secret in secrets_:  # every secret, without stopping early: the timing says nothing
        ok |= hmac.compare_digest(_mac(secret, shop, nonce, expires).encode(), mac.encode())
    if not ok:
        raise BadState("state not issued by this app for this shop")
    if now.timestamp() > expires:
        raise BadState("state expired")
    if not cookie_nonce or not hmac.compare_digest(cookie_nonce.encode(), nonce.encode()):
        raise BadState("state was issued to another browser")
    return nonce, datetime.fromtimestamp(expires, now.tzinfo)
