"""Campaigns: time-boxed earning rules of the programme document (`campaigns`, a list; empty: none).

    {"key": "double-weekend", "title": "Double points this weekend", "kind": "multiplier", "factor": "2",
     "starts_at": "2026-06-06T00:00:00+02:00", "ends_at": "2026-06-08T00:00:00+02:00"}
    {"key": "linen-x3", "title": "x3 on linen", "kind": "multiplier", "factor": "3", "collection_id": 4242, ...}
    {"key": "bonus-100", "title": "+50 over 100 EUR", "kind": "bonus", "bonus": 50, "minimum_amount": "100", ...}

Times are ISO 8601 with their offset stated (`Z` for UTC, `+02:00` for a shop in Paris in summer): a time
without one is refused, so no campaign depends on a guessed timezone. The rules that use them (which apply
to an order, how they stack) are in loyalty.domain.campaigns.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loyalty.domain.errors import ProgrammeError
from loyalty.domain.settings.section import Section, check_parts

CAMPAIGN_KINDS = ("multiplier", "bonus")
"""`multiplier`: the order's points (or those of its lines in `collection_id`) x `factor`; `bonus`: `bonus`
points added to the order."""
CAMPAIGN_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_FACTOR = Decimal("100")
MAX_BONUS = 1_000_000


@functools.lru_cache(maxsize=1024)
def moment(text: str) -> datetime | None:
    """An ISO 8601 time with its offset (`Z` or `+hh:mm`) as an aware datetime; None when it is not one."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None and parsed.utcoffset() is not None else None


@dataclass(frozen=True)
class Campaign(Section):
    """One campaign: what it adds to an order paid (processed) from `starts_at` included to `ends_at`
    excluded, when the order's merchandise in scope reaches `minimum_amount`."""

    REQUIRED = ("key", "title", "kind", "starts_at", "ends_at")

    key: str
    title: str
    kind: str
    starts_at: str
    """ISO 8601 with offset: the first instant an order's paid time falls in the campaign."""
    ends_at: str
    """ISO 8601 with offset: the first instant after the campaign (excluded)."""
    factor: Decimal = Decimal("1")
    """multiplier: what the points in scope are multiplied by (above 1, at most 100)."""
    bonus: int = 0
    """bonus: points added to an order that qualifies."""
    minimum_amount: Decimal = Decimal("0")
    """The order's merchandise (lines less discounts, shop currency) in scope must reach this (0: any)."""
    collection_id: int = 0
    """Only the order's lines whose product is in this collection are in scope (0: the whole order)."""
    stacks: bool = False
    """multiplier: multiplies on top of the other multipliers of a line instead of competing with them (the
    highest non-stacking factor of a line applies, then every stacking one)."""

    @property
    def starts(self) -> datetime:
        return moment(self.starts_at)

    @property
    def ends(self) -> datetime:
        return moment(self.ends_at)

    def check(self, where: str) -> None:
        """Refuse an inconsistent campaign, naming the field (`campaigns[1].factor: ...`)."""
        if not CAMPAIGN_KEY.match(self.key):
            raise ProgrammeError(f"{where}.key: {self.key!r} must be 1-40 of a-z, 0-9, _ and -")
        if not self.title.strip() or len(self.title) > 120:
            raise ProgrammeError(f"{where}.title: must be 1-120 characters")
        if self.kind not in CAMPAIGN_KINDS:
            raise ProgrammeError(f"{where}.kind: must be one of {', '.join(CAMPAIGN_KINDS)}")
        for name in ("starts_at", "ends_at"):
            if moment(getattr(self, name)) is None:
                raise ProgrammeError(f"{where}.{name}: {getattr(self, name)!r} is not an ISO 8601 time with its "
                                     "offset (2026-06-06T00:00:00+02:00, or Z for UTC)")
        if self.ends <= self.starts:
            raise ProgrammeError(f"{where}.ends_at: must be after starts_at")
        if self.kind == "multiplier":
            if not Decimal(1) < self.factor <= MAX_FACTOR:
                raise ProgrammeError(f"{where}.factor: a multiplier needs a factor above 1 and at most {MAX_FACTOR}")
            if self.bonus:
                raise ProgrammeError(f"{where}.bonus: a multiplier adds no bonus (make a bonus campaign)")
        else:
            if not 1 <= self.bonus <= MAX_BONUS:
                raise ProgrammeError(f"{where}.bonus: a bonus needs between 1 and {MAX_BONUS} points")
            if self.factor != 1 or self.stacks:
                raise ProgrammeError(f"{where}.factor: a bonus multiplies nothing (make a multiplier campaign)")
        if self.minimum_amount < 0:
            raise ProgrammeError(f"{where}.minimum_amount: must be 0 or more")
        if self.collection_id < 0:
            raise ProgrammeError(f"{where}.collection_id: must be 0 or a collection id")


def check_campaigns(campaigns: tuple) -> None:
    """Refuse a list holding something else than campaigns, or two campaigns with one key."""
    check_parts(campaigns, Campaign, "campaigns", "a campaign")
