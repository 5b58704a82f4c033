"""Support's customer search, as rules: how names become search keys and what a typed query asks for.

A name is found by a prefix of its first name, its last name, or "first last" / "last first", whatever the
case and accents ("élodie" finds "Élodie", "Elodie" and "ÉLODIE"). The keys are written with the name
(loyalty.services.customers.profile_values) so the database finds them by a range on an index.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

KEY_SIZE = 511
"""The key columns' size: two names of 255 characters and a space."""
KEY_END = "\U0010ffff"
"""The largest code point: every key starting with a prefix p lies in [p, p + KEY_END)."""
MAX_SHOPIFY_ID = 2**63 - 1
"""Shopify ids are 64-bit: larger digits name no customer (nor are stored in a BIGINT)."""


def fold(text: str | None) -> str:
    """`text` as keys compare it: accents dropped (NFKD less combining marks), lower-case (casefold),
    runs of white space as one space, trimmed. "  Élodie   MARTIN " -> "elodie martin"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(bare.split())


def name_keys(first_name: str | None, last_name: str | None) -> tuple[str | None, str | None]:
    """The two keys of a name: "first last" and "last first", folded; (None, None) without a name.
    Each is cut to KEY_SIZE characters (a prefix search then still finds the name by its start)."""
    first, last = fold(first_name), fold(last_name)
    if not first and not last:
        return None, None
    return (" ".join(p for p in (first, last) if p)[:KEY_SIZE],
            " ".join(p for p in (last, first) if p)[:KEY_SIZE])


def prefix_range(prefix: str) -> tuple[str, str]:
    """The [low, high) range of keys that start with `prefix` (compared code point by code point)."""
    return prefix, prefix + KEY_END


@dataclass(frozen=True)
class SearchQuery:
    """What a typed search asks for. Exactly one reading applies:

    - `everyone`: the box is empty;
    - `shopify_id` and/or `order_names`: a gid, a number (a Shopify customer id, or an order number such as
      1001 for `#1001`) or `#1001` (an order name only);
    - `email`: text with an `@`, an email prefix (lower-case);
    - `text`: other text, a prefix of a name (folded) or of an email (lower-case);
    - `nothing`: a query that can match no one (digits beyond any Shopify id, a `#` alone).
    """

    everyone: bool = False
    shopify_id: int | None = None
    order_names: tuple[str, ...] = ()
    email: str | None = None
    name: str | None = None
    nothing: bool = False


def parse_query(raw: str | None) -> SearchQuery:
    """Read a search box's text (see SearchQuery)."""
    text = " ".join((raw or "").split())
    if not text:
        return SearchQuery(everyone=True)
    if text.startswith("gid://shopify/Customer/"):
        digits = text.rsplit("/", 1)[1]
        return SearchQuery(shopify_id=_shopify_id(digits)) if _shopify_id(digits) else SearchQuery(nothing=True)
    if text.startswith("#"):
        number = text[1:].strip()
        return SearchQuery(order_names=(f"#{number}",)) if number else SearchQuery(nothing=True)
    if text.isascii() and text.isdigit():
        return SearchQuery(shopify_id=_shopify_id(text), order_names=(f"#{text}", text))
    if text.isdigit():  # digits of other scripts ("²", "١٢"): no id, no order number
        return SearchQuery(nothing=True)
    if "@" in text:
        return SearchQuery(email=text.lower())
    return SearchQuery(email=text.lower(), name=fold(text))


def _shopify_id(digits: str) -> int | None:
    """The Shopify id these ASCII digits name, or None (not digits, zero, beyond 64 bits)."""
    if not (digits.isascii() and digits.isdigit()):
        return None
    number = int(digits)
    return number if 0 < number <= MAX_SHOPIFY_ID else None
