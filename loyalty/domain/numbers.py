"""Integers read from text that came from outside (query strings, path segments, forms, signed fields).

Neither check that looks enough is: `str.isdigit()` accepts `²` (which `int()` refuses: a ValueError), and
`int()` accepts ` 7`, `1_000` and other scripts' digits. Nor is any size safe: past the column's range the
database refuses the value (SQLite's driver raises OverflowError beyond 2**63 - 1; PostgreSQL, which the
app's statements cast to the column's type, refuses an `integer` beyond 2**31 - 1). Each was a 500.
"""
from __future__ import annotations

MAX_ROW_ID = 2**31 - 1
"""The largest id of the app's own rows (`Integer` primary keys: int4 on PostgreSQL)."""
MAX_SHOPIFY_ID = 2**63 - 1
"""The largest Shopify id (`BigInteger` columns)."""


def parse_int(text: str | None, low: int = 0, high: int = MAX_ROW_ID) -> int | None:
    """`text` as an integer from `low` to `high` when it is ASCII digits (nothing else: no sign, space or
    underscore), else None."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None
