"""The outcome of a loyalty-page form, carried across post/redirect/get.

A form (redeem, convert, birthday) is answered by a 303 to the page itself with `?notice=...`: the page then
shows what happened (the code made, or why not), and refreshing it re-posts nothing. The notice is signed
with the app secret for one shop and one customer, and lasts a few minutes (STOREFRONT_NOTICE_TTL_SECONDS):
another customer's page cannot show it, a forged one shows nothing, an old link no longer shows it. It names
a voucher by its row id, never its code: the page looks the voucher up for the signed-in customer.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

from loyalty.defaults import STOREFRONT_NOTICE_TTL_SECONDS as TTL_SECONDS

MAX_LENGTH = 2000
"""A longer notice is not ours (ours are well under: a key, a few facts, the retry form)."""


def _mac(secret: str, shop: str, customer_id: int | None, body: str) -> str:
    text = f"notice|{shop}|{'' if customer_id is None else customer_id}|{body}".encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()[:32]


def seal(secret: str, shop: str, customer_id: int | None, outcome: dict, now: datetime) -> str:
    """The `notice` parameter for `outcome` (JSON-ready: `voucher` an id, `error`, `facts`, `retry`, `saved`)."""
    payload = json.dumps({**outcome, "at": int(now.timestamp())}, separators=(",", ":"), sort_keys=True)
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{body}.{_mac(secret, shop, customer_id, body)}"


def opened(secrets: tuple[str, ...], notice: str | None, shop: str, customer_id: int | None,
           now: datetime) -> dict | None:
    """The outcome a notice carries, or None: missing, too long, forged, for someone else, or expired."""
    if not notice or len(notice) > MAX_LENGTH:
        return None
    body, _, mac = notice.partition(".")
    ok = False
    for secret in secrets:  # every secret (rotation), in constant time
        ok |= hmac.compare_digest(_mac(secret, shop, customer_id, body).encode(), mac.encode())
    if not ok:
        return None
    try:
        outcome = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if not isinstance(outcome, dict) or not isinstance(outcome.get("at"), int):
        return None
    if not 0 <= now.timestamp() - outcome.pop("at") <= TTL_SECONDS:
        return None
    return outcome
