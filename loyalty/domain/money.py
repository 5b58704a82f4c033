"""Points to money, and money to the cent: every conversion and rounding of amounts, in one place.

Each rounding leans the way its use needs: what a customer is paid for points is floored (the shop never
gives more than the rate), the liability is rounded half to even (an accountant's sum of many days does not
drift), and amounts shown are rounded half up (as people round). Amounts are Decimal throughout.
"""
from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
STORED = Decimal("0.0001")
"""Amounts are stored with four decimals (Numeric(18, 4) columns)."""


def worth(points: int, value_per_point: Decimal) -> Decimal:
    """What `points` are worth at the programme's `voucher_value_per_point`, exactly (not rounded)."""
    return points * value_per_point


def voucher_amount(points: int, value_per_point: Decimal) -> Decimal:
    """What converting `points` into a voucher pays: their worth floored to the cent (store B's conversion,
    and the amount the emails promise for it)."""
    return (Decimal(points) * value_per_point).quantize(CENT, rounding=ROUND_FLOOR)


def liability_value(points: int, value_per_point: Decimal) -> Decimal:
    """What the shop owes for `points` outstanding (the liability report): their worth to the cent, halves
    to even."""
    return worth(points, value_per_point).quantize(CENT, ROUND_HALF_EVEN)


def shown(amount) -> Decimal:
    """An amount as people read it (emails, storefront): to the cent, halves up."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def stored(amount: Decimal) -> Decimal:
    """An amount as the database stores it (four decimals): the history import's set-based path plans with
    it, rounding as the database would."""
    return amount.quantize(STORED)


def label(amount, currency: str | None = None) -> str:
    """An amount in a text a person reads (a ledger entry's reason): to the cent, halves up, then the
    currency code when known (`45.00 EUR`, never the stored `45.0000`)."""
    text = f"{shown(amount):f}"
    return f"{text} {currency}" if currency else text


def cents(amount) -> str | None:
    """An amount as the JSON APIs give it: a decimal string to the cent (`"5.00"`, never the stored
    `"5.0000"`); None stays None."""
    return None if amount is None else f"{Decimal(amount):.2f}"
