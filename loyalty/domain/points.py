"""The arithmetic of points: pure functions, exact (Fractions), points always whole.

Money arrives as Decimal; points are floored once, at the end, so rounding never drifts.
"""
from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Context, Decimal, Inexact, Rounded, localcontext
from fractions import Fraction
from loyalty.domain.errors import TooManyPoints


MAX_POINTS = 2**31 - 1
"""The most points one entry can hold (the ledger's integer columns, on PostgreSQL as on SQLite)."""


_EXACT = Context(prec=120, traps=[Inexact, Rounded])
"""Products of amounts and rates are exact in Decimal at this precision (or raise, never round)."""
_HALF = Decimal("0.5")


def award(merchandise: Decimal, non_earning_paid: Decimal, earn_rate: Decimal, rounding: str = "floor") -> int:
    """Points an order earns: max(0, earning base - amount paid by gift card/store credit) x rate, rounded
    down (`floor`) or to the nearest whole point, halves up (`nearest`). TooManyPoints past MAX_POINTS."""
    base = max(Decimal(0), merchandise - non_earning_paid)
    try:  # Decimal arithmetic that would round raises instead, and the Fractions below decide
        with localcontext(_EXACT):
            exact = base * earn_rate
            points = int((exact + _HALF if rounding == "nearest" else exact).to_integral_value(ROUND_FLOOR))
    except (Inexact, Rounded, TypeError):
        exact = Fraction(base) * Fraction(earn_rate)
        points = math.floor(exact + Fraction(1, 2)) if rounding == "nearest" else math.floor(exact)
    if points > MAX_POINTS:
        raise TooManyPoints(f"{points} points do not fit the ledger (at most {MAX_POINTS} per entry)")
    return points


def exact_award(merchandise: Decimal, non_earning_paid: Decimal, earn_rate: Decimal) -> Fraction:
    """The points an order earns before rounding: max(0, earning base - non-earning payments) x rate, exact
    (what `award` rounds; campaigns multiply it before it is rounded once)."""
    return Fraction(max(Decimal(0), merchandise - non_earning_paid)) * Fraction(earn_rate)


def whole(exact: Fraction, rounding: str = "floor") -> int:
    """Exact points rounded as `award` rounds them (`floor`, or `nearest` with halves up); TooManyPoints
    past MAX_POINTS."""
    points = math.floor(exact + Fraction(1, 2)) if rounding == "nearest" else math.floor(exact)
    if points > MAX_POINTS:
        raise TooManyPoints(f"{points} points do not fit the ledger (at most {MAX_POINTS} per entry)")
    return points


def earning_base(merchandise: Decimal, shipping: Decimal, tax: Decimal, taxes_included: bool,
                 earn_on_shipping: bool, earn_on_taxes: bool) -> Decimal:
    """What an order's points are computed on: its merchandise, with shipping and taxes as the shop says.

    `tax` is the tax on the lines: when prices include it, it is taken out unless taxes earn; tax added on
    top of prices (taxes not included) is never part of the merchandise, so it never earns.
    """
    base = merchandise + (shipping if earn_on_shipping else Decimal(0))
    if taxes_included and not earn_on_taxes:
        base -= tax
    return base


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
