"""The referral programme's settings (`referrals` in the programme document): off by default.

A customer shares a personal link; the friend who opens it and gives their email receives a first-order
code (`friend_*`); the customer (the referrer) earns `referrer_points` once the friend's first order is
past its pending period (its return window), less its refunds, within the caps.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from loyalty.domain.errors import ProgrammeError
from loyalty.domain.settings.section import Section

FRIEND_DISCOUNTS = ("amount", "percentage")
CAP_PERIODS = ("month", "year")


@dataclass(frozen=True)
class ReferralSettings(Section):
    """Referral rewards and caps."""

    enabled: bool = False
    friend_discount: str = "amount"
    """`amount`: `friend_value` off in shop currency; `percentage`: `friend_value` % off."""
    friend_value: Decimal = Decimal("10")
    friend_minimum_subtotal: Decimal = Decimal("0")
    """The friend's code needs a basket of at least this much (0: any)."""
    friend_validity_days: int = 30
    referrer_points: int = 100
    """Points (a `bonus` entry) the referrer earns per friend's first order, less its refunds."""
    cap_per_period: int = 0
    """At most this many rewarded referrals per referrer and `cap_period` (0: no cap)."""
    cap_period: str = "month"
    cap_total: int = 0
    """At most this many rewarded referrals per referrer, ever (0: no cap)."""

    def check(self, where: str) -> None:
        """Refuse inconsistent referral settings, naming the field."""
        if self.friend_discount not in FRIEND_DISCOUNTS:
            raise ProgrammeError(f"{where}.friend_discount: must be one of {', '.join(FRIEND_DISCOUNTS)}")
        if self.friend_value <= 0:
            raise ProgrammeError(f"{where}.friend_value: must be more than 0")
        if self.friend_discount == "percentage" and self.friend_value > 100:
            raise ProgrammeError(f"{where}.friend_value: a percentage is at most 100")
        if self.friend_minimum_subtotal < 0:
            raise ProgrammeError(f"{where}.friend_minimum_subtotal: must be 0 or more")
        if not 1 <= self.friend_validity_days <= 3650:
            raise ProgrammeError(f"{where}.friend_validity_days: must be between 1 and 3650")
        if not 0 <= self.referrer_points <= 10_000_000:
            raise ProgrammeError(f"{where}.referrer_points: must be between 0 and 10000000")
        if self.cap_period not in CAP_PERIODS:
            raise ProgrammeError(f"{where}.cap_period: must be one of {', '.join(CAP_PERIODS)}")
        if self.cap_per_period < 0 or self.cap_total < 0:
            raise ProgrammeError(f"{where}.cap_per_period, cap_total: 0 (no cap) or more")
