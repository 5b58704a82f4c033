"""Which names are shops."""
from __future__ import annotations

import re

SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
"""Matched whole (fullmatch): `$` would also match before a trailing newline, which then reached a header."""


def valid_shop_domain(domain: str) -> bool:
    """Only `*.myshopify.com` names are shops: never a request to an arbitrary host."""
    return isinstance(domain, str) and SHOP_DOMAIN.fullmatch(domain) is not None
