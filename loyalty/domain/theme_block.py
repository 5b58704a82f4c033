"""What the theme block (extensions/loyalty-balance) needs to know of the programme, as one small JSON
document the app writes to the shop's `loyalty.programme` metafield, so the block renders from Shopify's
own data and costs no request to the app.

The block chooses its wording from it: a `ladder` (rewards at thresholds of points: store A's "X points to
the next level") and/or a `conversion` (points converted into a voucher: store B's "your points are worth
N EUR"). A logged-out visitor sees the pitch made from the same facts. Amounts are in the currency's
smallest unit (cents), as Liquid's money filters take them.
"""
from __future__ import annotations

from fractions import Fraction

from loyalty.domain import money
from loyalty.domain.programme import Programme

SUMMARY_VERSION = 1
"""Bumped when the document's shape changes (the block reads what it knows)."""


def programme_summary(prog: Programme) -> dict:
    """The programme as the theme block reads it:
    `{"version", "language", "earn_rate", "ladder": {"thresholds": [...]}|null,
      "conversion": {"cents", "per_points", "minimum_points", "minimum_cents"}|null}`.

    `conversion.cents / conversion.per_points` is what one point is worth in cents, as a reduced fraction of
    whole numbers: the block computes `available * cents / per_points` with Liquid's integer arithmetic,
    which floors, so it shows exactly `money.voucher_amount` (what converting would pay, floored to the cent)
    without a metafield per customer."""
    return {
        "version": SUMMARY_VERSION,
        "language": prog.language,
        "earn_rate": _number(prog.earn_rate),
        "ladder": {"thresholds": list(prog.thresholds)} if prog.thresholds else None,
        "conversion": _conversion(prog) if prog.conversion_enabled else None,
    }


def _conversion(prog: Programme) -> dict:
    per_point = Fraction(prog.voucher_value_per_point) * 100  # cents per point, exactly
    minimum = prog.conversion_minimum_points
    return {"cents": per_point.numerator, "per_points": per_point.denominator, "minimum_points": minimum,
            "minimum_cents": int(money.voucher_amount(minimum, prog.voucher_value_per_point) * 100)}


def _number(value):
    """A JSON number for Liquid: an integer when whole (1, not 1.0), else its decimal value."""
    return int(value) if value == int(value) else float(value)
