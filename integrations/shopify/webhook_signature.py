"""Shopify's webhook signature: base64(HMAC-SHA256(app secret, raw body)), compared in constant time."""
from __future__ import annotations

import base64
import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    """The X-Shopify-Hmac-Sha256 value Shopify sends for `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(secrets: tuple[str, ...], body: bytes, header: str | None) -> bool:
    """True when `header` signs `body` with any current secret (the previous one is kept during rotation)."""
    if not header or not secrets:
        return False
    ok = False
    for secret in secrets:  # check every secret so timing does not tell which one matched
        ok |= hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())
    return ok
