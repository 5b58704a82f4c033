"""VIP tiers, as one part of the programme document (`tiers`): what places a customer in a tier, over which
window, how long a tier is kept, and what each tier gives.

Off by default (`enabled: false`): store A and store B run without tiers. The rules that use these settings
are loyalty.domain.tiers'.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from loyalty.domain.errors import ProgrammeError
from loyalty.domain.settings.section import Section

BASES = ("points", "spent", "orders")
"""What qualifies: confirmed points earned (as perks count them), the amount spent (orders' merchandise
less refunds, shop currency), or the number of paid orders (not cancelled, not wholly refunded)."""
WINDOWS = ("lifetime", "calendar_year", "rolling_12_months")
"""Over which span the figure is counted. The window also sets the period at whose end a tier may be lost:
a calendar year for `calendar_year`, a calendar month otherwise."""
TIER_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TAG = re.compile(r"^[^,]{1,40}$")
FREE_SHIPPING_EVERY = ("", "entry", "month", "year")
"""How often a tier's free shipping code is given: never (""), once per entry into the tier, or once per
calendar month / calendar year while in it (the first on entering)."""


@dataclass(frozen=True)
class FreeShipping(Section):
    """A tier's free shipping perk: a free shipping code costing no points, emailed to the customer."""

    every: str = ""
    validity_days: int = 30
    """How long each code can be used, in days from the moment it is given."""

    def check(self, where: str) -> None:
        if self.every not in FREE_SHIPPING_EVERY:
            raise ProgrammeError(f"{where}.every: must be one of entry, month, year (or empty)")
        if not 1 <= self.validity_days <= 3650:
            raise ProgrammeError(f"{where}.validity_days: must be between 1 and 3650")


@dataclass(frozen=True)
class Tier(Section):
    """One rung of the VIP ladder."""

    REQUIRED = ("key", "name", "threshold")
    NESTED = {"free_shipping": FreeShipping}

    key: str
    name: str
    threshold: Decimal
    """The entry threshold, in the basis' unit (points, currency, orders)."""
    multiplier: Decimal = Decimal("1")
    """Points earned on orders are multiplied by this while the customer is in the tier."""
    tag: str = ""
    """A customer tag held while in the tier (themes, Flow, the merchant's segments)."""
    exclusive_rewards: tuple[str, ...] = ()
    """Catalogue reward keys only customers of this tier or a higher one may redeem."""
    free_shipping: FreeShipping = FreeShipping()
    """A free shipping code given while in the tier (off by default; see loyalty.domain.tiers)."""

    def check(self, where: str) -> None:
        if not TIER_KEY.match(self.key):
            raise ProgrammeError(f"{where}.key: {self.key!r} must be 1-40 of a-z, 0-9, _ and -")
        if not self.name.strip() or len(self.name) > 60:
            raise ProgrammeError(f"{where}.name: must be 1-60 characters")
        if self.threshold < 0:
            raise ProgrammeError(f"{where}.threshold: must be 0 or more")
        if not Decimal("0") < self.multiplier <= Decimal("10"):
            raise ProgrammeError(f"{where}.multiplier: must be above 0 and at most 10")
        if self.tag and not TAG.match(self.tag):
            raise ProgrammeError(f"{where}.tag: at most 40 characters, no comma")
        if not isinstance(self.free_shipping, FreeShipping):
            raise ProgrammeError(f"{where}.free_shipping: expected an object")
        self.free_shipping.check(f"{where}.free_shipping")


@dataclass(frozen=True)
class Tiers(Section):
    """The VIP ladder: tiers by `basis` over `window`, lowest threshold first."""

    NESTED = {"levels": Tier}

    enabled: bool = False
    basis: str = "points"
    window: str = "lifetime"
    retention_months: int = 0
    """A tier is kept at least this many months after the customer last qualified for it, and then lost only
    at the end of a period (see WINDOWS)."""
    levels: tuple[Tier, ...] = ()

    def check(self, where: str) -> None:
        if self.basis not in BASES:
            raise ProgrammeError(f"{where}.basis: must be one of {', '.join(BASES)}")
        if self.window not in WINDOWS:
            raise ProgrammeError(f"{where}.window: must be one of {', '.join(WINDOWS)}")
        if not 0 <= self.retention_months <= 120:
            raise ProgrammeError(f"{where}.retention_months: must be between 0 and 120")
        if self.enabled and not self.levels:
            raise ProgrammeError(f"{where}.levels: tiers are enabled but none is defined")
        seen_keys, seen_thresholds = set(), set()
        for index, tier in enumerate(self.levels):
            if not isinstance(tier, Tier):
                raise ProgrammeError(f"{where}.levels[{index}]: expected a tier")
            tier.check(f"{where}.levels[{index}]")
            if tier.key in seen_keys:
                raise ProgrammeError(f"{where}.levels[{index}].key: {tier.key!r} is used twice")
            if tier.threshold in seen_thresholds:
                raise ProgrammeError(f"{where}.levels[{index}].threshold: two tiers cannot share a threshold")
            if self.basis == "orders" and tier.threshold != tier.threshold.to_integral_value():
                raise ProgrammeError(f"{where}.levels[{index}].threshold: a number of orders is a whole number")
            seen_keys.add(tier.key)
            seen_thresholds.add(tier.threshold)

    def check_rewards(self, where: str, reward_keys: set[str]) -> None:
        """Every exclusive reward names a catalogue reward."""
        for index, tier in enumerate(self.levels):
            for key in tier.exclusive_rewards:
                if key not in reward_keys:
                    raise ProgrammeError(f"{where}.levels[{index}].exclusive_rewards: {key!r} is not in the catalogue")

    @property
    def ladder(self) -> tuple[Tier, ...]:
        """The tiers, lowest threshold first."""
        return tuple(sorted(self.levels, key=lambda t: t.threshold))

    def tier(self, key: str | None) -> Tier | None:
        """The tier with that key, or None."""
        return next((t for t in self.levels if t.key == key), None)
