"""The programme's ways to earn beyond a purchase (`earning`): sign-up points, birthday content, points for
an action (a review, a Flow action), each action's cap, and the programme-wide earning cap. Everything
defaults to off: a programme without `earning` earns exactly as before."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from loyalty.domain.errors import ProgrammeError
from loyalty.domain.settings.section import Section

CAP_PERIODS = ("day", "week", "month", "year", "lifetime")
"""`day`, `week` (ISO, Monday to Sunday), `month`, `year` (calendar year) are calendar periods in UTC;
`lifetime` never resets."""
BIRTHDAY_GIFTS = ("", "voucher", "gift_card", "free_shipping")
"""What code a birthday brings by email: none, a fixed-amount voucher, a gift card, a free shipping code."""
ACTION_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_POINTS = 10_000_000


@dataclass(frozen=True)
class Cap(Section):
    """At most `count` awards and/or `points` points per customer and `period` (0: that limit is off)."""

    REQUIRED = ("period",)

    period: str
    count: int = 0
    points: int = 0

    def check(self, where: str) -> None:
        if self.period not in CAP_PERIODS:
            raise ProgrammeError(f"{where}.period: must be one of {', '.join(CAP_PERIODS)}")
        if not 0 <= self.count <= MAX_POINTS or not 0 <= self.points <= MAX_POINTS:
            raise ProgrammeError(f"{where}: count and points must be between 0 and {MAX_POINTS}")
        if not self.count and not self.points:
            raise ProgrammeError(f"{where}: a cap needs a count or points above 0")


@dataclass(frozen=True)
class Action(Section):
    """Points a merchant (admin, CLI) or a Flow action awards by `key`, e.g. for a review."""

    REQUIRED = ("key", "points", "title")
    NESTED = {"cap": Cap}

    key: str
    points: int
    title: str
    cap: Cap | None = None

    def check(self, where: str) -> None:
        if not ACTION_KEY.match(self.key):
            raise ProgrammeError(f"{where}.key: {self.key!r} must be 1-40 of a-z, 0-9, _ and -")
        if not 1 <= self.points <= MAX_POINTS:
            raise ProgrammeError(f"{where}.points: must be between 1 and {MAX_POINTS}")
        if not self.title.strip() or len(self.title) > 120:
            raise ProgrammeError(f"{where}.title: must be 1-120 characters")


@dataclass(frozen=True)
class Birthday(Section):
    """What a birthday brings, once a year, given by the daily birthday job to customers whose birthday it is
    and whose confirmed lifetime points reach `minimum_lifetime`: `points` (a bonus) and/or a `gift` code sent
    by email (a `voucher` worth `amount`, a `gift_card` worth `amount`, or a `free_shipping` code), costing
    no points."""

    points: int = 0
    gift: str = ""
    amount: Decimal = Decimal("0")
    validity_days: int = 30
    """How long the voucher or free shipping code works (a gift card does not expire)."""
    collection_id: int = 0
    """A voucher applies only to this collection (0: every product)."""
    minimum_lifetime: int = 0
    """Confirmed lifetime points a customer needs (0: every customer with a birthday recorded)."""

    @property
    def active(self) -> bool:
        return bool(self.points or self.gift)

    def check(self, where: str) -> None:
        if not 0 <= self.points <= MAX_POINTS:
            raise ProgrammeError(f"{where}.points: must be between 0 and {MAX_POINTS}")
        if self.gift not in BIRTHDAY_GIFTS:
            raise ProgrammeError(f"{where}.gift: must be one of voucher, gift_card, free_shipping (or empty)")
        if self.gift in ("voucher", "gift_card") and self.amount <= 0:
            raise ProgrammeError(f"{where}.amount: a {self.gift} needs an amount above 0")
        if self.amount < 0:
            raise ProgrammeError(f"{where}.amount: must be 0 or more")
        if not 1 <= self.validity_days <= 3650:
            raise ProgrammeError(f"{where}.validity_days: must be between 1 and 3650")
        if self.collection_id < 0 or self.minimum_lifetime < 0:
            raise ProgrammeError(f"{where}: collection_id and minimum_lifetime must be 0 or more")


@dataclass(frozen=True)
class Earning(Section):
    """Ways to earn beyond a purchase, and the cap on everything a customer earns."""

    NESTED = {"birthday": Birthday, "actions": Action, "earning_cap": Cap}

    signup_points: int = 0
    """Points for creating a customer account (customers/create), once per customer; 0: off."""
    birthday: Birthday = Birthday()
    actions: tuple[Action, ...] = ()
    earning_cap: Cap | None = None
    """At most `points` earned per customer and `period`, counting orders' awards and every bonus (sign-up,
    birthday, actions) when they are earned; `count` is not used here. None: no cap."""

    def check(self, where: str) -> None:
        if not 0 <= self.signup_points <= MAX_POINTS:
            raise ProgrammeError(f"{where}.signup_points: must be between 0 and {MAX_POINTS}")
        self.birthday.check(f"{where}.birthday")
        seen = set()
        for index, action in enumerate(self.actions):
            action.check(f"{where}.actions[{index}]")
            if action.key in seen:
                raise ProgrammeError(f"{where}.actions[{index}].key: {action.key!r} is used twice")
            seen.add(action.key)
        if self.earning_cap is not None:
            self.earning_cap.check(f"{where}.earning_cap")
            if not self.earning_cap.points:
                raise ProgrammeError(f"{where}.earning_cap.points: the earning cap is a number of points")

    def action(self, key: str) -> Action | None:
        """The action with that key, or None."""
        return next((a for a in self.actions if a.key == key), None)
