"""The arithmetic of points: pure functions, exact (Fractions), points always whole.

Money arrives as Decimal; points are floored once, at the end, so rounding never drifts.
"""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction


def line_earning_amount(price: Decimal, quantity: int, discounts: Decimal) -> Decimal:
    """What one line item contributes to the earning base: price x quantity - its discount allocations."""
    return price * quantity - discounts


def award(merchandise: Decimal, non_earning_paid: Decimal, earn_rate: Decimal) -> int:
    """Points an order earns: floor(max(0, merchandise - amount paid by gift card/store credit) x rate)."""
    base = max(Decimal(0), merchandise - non_earning_paid)
    return math.floor(Fraction(base) * Fraction(earn_rate))


def kept_after_refunds(awarded: int, merchandise: Decimal, refunded: Decimal) -> int:
    """Points an order still holds after refunds totalling `refunded` of its `merchandise`.

    floor(awarded x (M - R) / M), computed from the cumulative refund so successive refunds never drift.
    """
    if awarded <= 0:
        return 0
    if merchandise <= 0:
        return awarded if refunded <= 0 else 0
    refunded = min(max(refunded, Decimal(0)), merchandise)
    return math.floor(Fraction(awarded) * Fraction(merchandise - refunded) / Fraction(merchandise))


def split_take(amount: int, pending_held: int) -> tuple[int, int]:
    """Split points to take back into (from pending, from available): pending points go first."""
    from_pending = min(amount, max(pending_held, 0))
    return from_pending, amount - from_pending


def add_months(moment, months: int):
    """The same instant `months` calendar months later (the 31st becomes the month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    days_in_month = [31, 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28,
                     31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days_in_month))
