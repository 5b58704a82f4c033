"""Values far from the norm in a valid programme: not refused (a merchant may mean them), but shown before a
save and with every answer, so that a typo such as a point worth 1000 EUR does not go through without a word.

Each warning is `{"code", "path", "params"}`: `code` names the rule (the admin translates it), `path` the
setting (as a refusal names it: `earn_rate`, `rewards[2].points`, `tiers.levels[1].multiplier`), `params` the
figures the message quotes (decimal strings and integers, as JSON). The thresholds below are the documented
norm; each rule has a test named after it (tests/unit/test_programme_warnings.py).

"Given back" is what a customer gets back for each unit spent, in percent: points earned per currency unit
times the money one point buys (a 10 EUR reward for 300 points at 1 point per euro gives back 3.3 %).
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from loyalty.domain.programme import Programme

EARN_RATE_HIGH = Decimal("10")
"""More points than this per currency unit looks like a mistaken rate (cents taken for units)."""
EARN_RATE_LOW = Decimal("0.01")
"""Fewer than this (but more than 0) per currency unit: a customer needs 100 units for a single point."""
GIVEN_BACK_HIGH = Fraction(20, 100)
"""Giving back more than 20 % of what is spent is giving money away (usual programmes: 1 to 10 %)."""
PENDING_DAYS_LONG = 90
"""Points pending longer than this outlast any return window; customers wonder where they are."""
DAYS_PER_MONTH = 30
"""Expiry months are compared with pending days at 30 days a month."""
PERCENTAGE_HIGH = Decimal("50")
"""A percentage reward above half off."""
VOUCHER_VALIDITY_SHORT = 7
"""A voucher valid for fewer days than this often expires before the customer's next order."""
MONEY_KINDS = ("voucher", "free_item", "gift_card", "donation", "store_credit")
"""Reward kinds whose `amount` is the money they give."""


def _warning(code: str, path: str, **params) -> dict:
    return {"code": code, "path": path, "params": {k: _json(v) for k, v in params.items()}}


def _json(value):
    """Decimals and fractions as decimal strings (2 places for percentages), integers as they are."""
    if isinstance(value, Fraction):
        return format(Decimal(value.numerator) / Decimal(value.denominator), ".2f")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _given_back(programme: Programme, money: Decimal, points: int) -> Fraction:
    """The share of each currency unit spent that comes back, spending `points` for `money`."""
    return Fraction(programme.earn_rate) * Fraction(money) / points


def programme_warnings(programme: Programme) -> list[dict]:
    """Every warning for the programme, in the order of its settings (an empty list: nothing unusual)."""
    found: list[dict] = []
    rate = programme.earn_rate
    if rate > EARN_RATE_HIGH:
        found.append(_warning("earn_rate_high", "earn_rate", rate=rate, limit=EARN_RATE_HIGH))
    if 0 < rate < EARN_RATE_LOW:
        found.append(_warning("earn_rate_low", "earn_rate", rate=rate, limit=EARN_RATE_LOW))
    if programme.pending_days > PENDING_DAYS_LONG:
        found.append(_warning("pending_days_long", "pending_days", days=programme.pending_days,
                              limit=PENDING_DAYS_LONG))
    if programme.expiry == "after_last_purchase" and programme.expiry_months * DAYS_PER_MONTH <= programme.pending_days:
        found.append(_warning("expiry_before_pending", "expiry_months", months=programme.expiry_months,
                              days=programme.pending_days))
    if programme.conversion_enabled:
        share = _given_back(programme, programme.voucher_value_per_point, 1)
        if share > GIVEN_BACK_HIGH:
            found.append(_warning("conversion_gives_too_much", "voucher_value_per_point",
                                  value=programme.voucher_value_per_point, percent=share * 100,
                                  limit=GIVEN_BACK_HIGH * 100))
    if programme.voucher_validity_days < VOUCHER_VALIDITY_SHORT:
        found.append(_warning("voucher_validity_short", "voucher_validity_days",
                              days=programme.voucher_validity_days, limit=VOUCHER_VALIDITY_SHORT))
    for index, reward in enumerate(programme.rewards):
        found.extend(_reward_warnings(programme, index, reward))
    found.extend(_tier_warnings(programme))
    return found


def _reward_warnings(programme: Programme, index: int, reward) -> list[dict]:
    where = f"rewards[{index}]"
    found = []
    if reward.kind in MONEY_KINDS and reward.amount > 0:
        share = _given_back(programme, reward.amount, reward.points)
        if share > GIVEN_BACK_HIGH:
            found.append(_warning("reward_gives_too_much", f"{where}.points", key=reward.key, points=reward.points,
                                  amount=reward.amount, percent=share * 100, limit=GIVEN_BACK_HIGH * 100))
    minimum = programme.voucher_minimum_subtotal
    if reward.kind == "voucher" and minimum > 0 and reward.amount >= minimum:
        found.append(_warning("voucher_above_minimum", f"{where}.amount", key=reward.key, amount=reward.amount,
                              minimum=minimum))
    if reward.kind == "percentage" and reward.percentage > PERCENTAGE_HIGH:
        found.append(_warning("percentage_high", f"{where}.percentage", key=reward.key,
                              percentage=reward.percentage, limit=PERCENTAGE_HIGH))
    return found


def _tier_warnings(programme: Programme) -> list[dict]:
    """A tier listed after one with a higher threshold, or a higher tier earning less than a lower one."""
    tiers = programme.tiers
    if not tiers.enabled:
        return []
    found = []
    levels = list(tiers.levels)
    for index in range(1, len(levels)):
        before, tier = levels[index - 1], levels[index]
        if tier.threshold <= before.threshold:
            found.append(_warning("tier_thresholds_not_increasing", f"tiers.levels[{index}].threshold",
                                  tier=tier.name, threshold=tier.threshold, previous=before.threshold))
    ladder = sorted(enumerate(levels), key=lambda pair: pair[1].threshold)
    for (_, lower), (index, higher) in zip(ladder, ladder[1:]):
        if higher.multiplier < lower.multiplier:
            found.append(_warning("tier_multiplier_decreasing", f"tiers.levels[{index}].multiplier",
                                  tier=higher.name, multiplier=higher.multiplier, lower_tier=lower.name,
                                  lower_multiplier=lower.multiplier))
    return found
