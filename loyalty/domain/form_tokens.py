"""Form tokens: each rendered page (the app-proxy page, an extension's answer) carries a fresh nonce, signed for its
shop and customer.

The nonce is the redemption's idempotency key: a double click, a resubmitted form or a replayed signed
request all carry the same nonce and so get the same voucher, never a second spend. The signature binds the
token to one customer of one shop (another customer's page cannot lend its token) and to a day of validity
(a forged cross-site form cannot guess it).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from loyalty.domain import keys
from loyalty.domain.numbers import parse_int
from loyalty.defaults import FORM_TOKEN_TTL_SECONDS as TOKEN_TTL_SECONDS


class BadToken(ValueError):
    """The form token is missing, forged, for someone else, or expired."""


def _mac(secret: str, shop: str, customer_id: int, nonce: str, issued: int) -> str:
    text = f"{shop}|{customer_id}|{nonce}|{issued}".encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()[:32]


def issue(secret: str, shop: str, customer_id: int, now: datetime) -> str:
    """A new token for a form on this customer's page."""
    nonce, issued = secrets.token_hex(12), int(now.timestamp())
    return f"{nonce}.{issued}.{_mac(secret, shop, customer_id, nonce, issued)}"


def check(secrets_: tuple[str, ...], token: str | None, shop: str, customer_id: int, now: datetime) -> str:
    """The token's nonce, or BadToken. Every secret is tried (rotation), in constant time."""
    nonce, _, rest = (token or "").partition(".")
    issued_text, _, mac = rest.partition(".")
    issued = parse_int(issued_text, 0, 2**40)  # ASCII digits only: `²` passes isdigit() but not int()
    if not nonce or issued is None or not mac:
        raise BadToken("malformed token")
    ok = False
    for secret in secrets_:
        ok |= hmac.compare_digest(_mac(secret, shop, customer_id, nonce, issued).encode(), mac.encode())
    if not ok:
        raise BadToken("token not issued for this customer")
    if not 0 <= now.timestamp() - issued <= TOKEN_TTL_SECONDS:
        raise BadToken("token expired")
    return nonce


def request_key(customer_id: int, nonce: str, what: str) -> str:
    """The redemption's idempotency key: one voucher per page nonce and reward."""
    return keys.storefront_request(customer_id, nonce, what)
