"""What a point is worth in money, and how much of the points owed will never be used (breakage).

A point is valued by what it can buy in this programme, never by a setting that buys nothing:

- `conversion`: the programme converts points into a voucher (store B): `voucher_value_per_point`;
- `cheapest_reward`: the redeemable reward that gives the least money per point (store A: 10 EUR for 300
  points, 0.0333 EUR a point), as the shop's liability is what its points certainly cost;
- `none`: nothing in the programme spends points for money (no conversion, no reward with an amount):
  points are worth 0.

When a programme has both a conversion and rewards, the lowest value per point of them all is taken (the
rule names which). Values are exact fractions (10/300 has no finite decimal); money is rounded once, to
the cent, halves to even (loyalty.domain.money.liability_value's rounding).

Breakage is measured from the shop's own ledger (loyalty.services.read.reports gathers the sums):
points that expired out of the points earned, and points held by customers inactive for a long time; the
forecast takes the inactive customers' points as never used and the expired share off the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from loyalty.domain.money import CENT
from loyalty.domain.programme import Programme

CONVERSION, CHEAPEST_REWARD, NOTHING = "conversion", "cheapest_reward", "none"


@dataclass(frozen=True)
class PointValue:
    """What one point is worth: `amount` of money for `points` points, and the rule that says so."""

    amount: Decimal
    points: int
    rule: str
    """`conversion`, `cheapest_reward` or `none`."""
    reward_key: str = ""
    """cheapest_reward: the reward that gave the value."""

    @property
    def per_point(self) -> Fraction:
        """The exact value of one point."""
        return Fraction(self.amount) / self.points

    def value_of(self, points: int) -> Decimal:
        """What `points` are worth, to the cent, halves to even (computed exactly, rounded once)."""
        return to_cents(Fraction(points) * self.per_point)

    def describe(self) -> str:
        """The rule in words, for the report."""
        if self.rule == CONVERSION:
            return f"conversion rate: {self.amount} per point (voucher_value_per_point)"
        if self.rule == CHEAPEST_REWARD:
            return (f"cheapest reward per point: {self.reward_key}, {self.amount} for {self.points} points "
                    f"({to_cents(self.per_point * 100)} per 100 points)")
        return "nothing in the programme spends points for money: points are valued at 0"

    def to_dict(self) -> dict:
        """JSON-ready: amounts as decimal strings."""
        return {"rule": self.rule, "reward": self.reward_key or None, "amount": str(self.amount),
                "points": self.points, "value_per_point": self.per_point_text(), "description": self.describe()}

    def per_point_text(self) -> str:
        """One point's value as text: exact for a rate (`0.1`), else to six decimals (`0.033333`)."""
        return str(self.amount) if self.points == 1 else str(_round(self.per_point, Decimal("0.000001")))


def point_value(prog: Programme) -> PointValue:
    """The value of a point in `prog`: the lowest money per point among what points can buy (see module)."""
    options = []
    if prog.conversion_enabled:
        options.append(PointValue(prog.voucher_value_per_point, 1, CONVERSION))
    for reward in prog.redeemable:
        if reward.amount > 0:
            options.append(PointValue(reward.amount, reward.points, CHEAPEST_REWARD, reward.key))
    if not options:
        return PointValue(Decimal(0), 1, NOTHING)
    # Lowest value per point first; a conversion before a reward of the same value (it needs no catalogue).
    return min(options, key=lambda v: (v.per_point, v.rule != CONVERSION, v.points, v.reward_key))


def to_cents(exact: Fraction) -> Decimal:
    """An exact amount to the cent, halves to even."""
    return _round(exact, CENT)


def _round(exact: Fraction, step: Decimal) -> Decimal:
    units = Fraction(exact) / Fraction(step)
    return (Decimal(round(units)) * step).quantize(step, ROUND_HALF_EVEN)  # round(): halves to even


@dataclass(frozen=True)
class Breakage:
    """Breakage measured from a shop's ledger, and the forecast of what its outstanding points will cost."""

    earned: int
    """Points earned over the shop's history (orders net of refunds, bonuses, positive adjustments)."""
    expired: int
    """Points that expired over the shop's history."""
    outstanding: int
    """Points owed now (pending and available)."""
    dormant: int
    """Of them, points held by customers with no ledger activity for `dormant_months` months."""
    dormant_months: int

    @property
    def expired_share(self) -> Fraction:
        """Expired points out of points earned (0 when nothing was earned)."""
        return Fraction(self.expired, self.earned) if self.earned > 0 else Fraction(0)

    @property
    def expected_used(self) -> int:
        """Points expected to be used: the active customers' points less the expired share, floored."""
        active = max(self.outstanding - self.dormant, 0)
        return int(active * (1 - self.expired_share))

    @property
    def rate(self) -> Fraction:
        """Expected breakage out of the outstanding points."""
        if self.outstanding <= 0:
            return Fraction(0)
        return Fraction(self.outstanding - self.expected_used, self.outstanding)

    def method(self) -> str:
        """How the forecast is made, for the report."""
        return (f"measured from this shop's ledger: {self.expired} of {self.earned} points earned have "
                f"expired ({_percent(self.expired_share)}); {self.dormant} of the {self.outstanding} points "
                f"owed are held by customers with no activity for {self.dormant_months} months and are taken "
                f"as never used; the expired share is taken off the rest")

    def to_dict(self, value: PointValue) -> dict:
        """JSON-ready figures, with the forecast liability in money."""
        return {"earned": self.earned, "expired": self.expired, "expired_share": _percent(self.expired_share),
                "outstanding": self.outstanding, "dormant_points": self.dormant,
                "dormant_months": self.dormant_months, "rate": _percent(self.rate),
                "forecast_points": self.expected_used,
                "liability": str(value.value_of(self.outstanding)),
                "forecast_liability": str(value.value_of(self.expected_used)), "method": self.method()}


def _percent(share: Fraction) -> str:
    return f"{_round(share * 100, Decimal('0.1'))}%"
