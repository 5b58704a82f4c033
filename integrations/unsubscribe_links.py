"""Signed one-click unsubscribe links (RFC 8058): one per shop and customer, on the app's host.

`https://APP/emails/unsubscribe/SHOP/CUSTOMER/SIGNATURE`: the signature is an HMAC-SHA256 with the app's
API secret over a purpose label, the shop's domain and the customer's row id, so a link works for that
customer of that shop only, and neither a guessed nor an edited link (another customer, another shop) is
accepted. A rotated secret keeps the links of emails already sent working (SHOPIFY_API_SECRET_PREVIOUS).
"""
from __future__ import annotations

import hashlib
import hmac

PATH = "/emails/unsubscribe"


def signature(secret: str, shop: str, customer_id: int) -> str:
    """The link's signature: 32 hex digits (128 bits) of HMAC-SHA256."""
    message = f"loyalty-unsubscribe:v1:{shop}:{int(customer_id)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def link(app_url: str, secret: str, shop: str, customer_id: int) -> str:
    """The customer's unsubscribe address."""
    return f"{app_url.rstrip('/')}{PATH}/{shop}/{int(customer_id)}/{signature(secret, shop, customer_id)}"


def verify(secrets: tuple[str, ...], shop: str, customer_id: int, given: str) -> bool:
    """True when `given` is the signature of this shop's customer under one of the secrets (constant time)."""
    return any(hmac.compare_digest(signature(secret, shop, customer_id), given) for secret in secrets if secret)
