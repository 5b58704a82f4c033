"""Campaigns: which apply to an order, and what each adds to its points. The stacking rule, written once:

1. **When**: a campaign applies to an order paid (`processed_at`) at or after its `starts_at` and before its
   `ends_at`, as the programme in force when the order's award is fixed lists it; the order must earn
   points before campaigns (not excluded, not paid wholly by gift cards), and its merchandise in scope (the
   whole order's; with a `collection_id`, that of its lines whose product is in the collection, and at
   least one such line) must reach the campaign's `minimum_amount`.
2. **Multipliers, line by line**: the order's points are shared among its lines in proportion to their
   amounts (shipping and taxes follow the merchandise). On each line the highest `factor` among the
   non-stacking multipliers that apply to it applies (one only; on a tie, the first listed), then every
   multiplier marked `stacks` that applies to it multiplies on top (x2 weekend and x3 collection: x3 on
   the collection's lines, x2 on the others; with `stacks` on the collection's: x6 on its lines).
3. **The customer's multiplier** (a VIP tier's) multiplies the whole order before campaigns, so it stacks
   with them (x1.5 tier on a double weekend: x3).
4. **Bonuses** are added after, each once, never multiplied (two bonuses that qualify: both).
5. **Rounding**: once, with the programme's rounding, on the multiplied total; what each campaign added is
   the rounded total's growth as the campaigns are taken in the programme's order (so the parts add up to
   the award exactly).

The award and what each campaign added are stored on the order when its award is fixed; refunds and
cancellations claw back in proportion to that stored award, so editing or ending a campaign later changes
no order already paid.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction

from loyalty.domain import points
from loyalty.domain.commands import OrderFacts
from loyalty.domain.settings.campaigns import Campaign


@dataclass(frozen=True)
class Award:
    """The points an order earns before refunds, and the campaigns that added to them."""

    points: int
    campaigns: tuple[tuple[str, int], ...] = ()
    """(campaign key, points it added), in the programme's order."""

    @property
    def record(self) -> str | None:
        """What the order row keeps (`orders.campaigns`): JSON `[[key, points], ...]`, None when none applied."""
        return json.dumps([list(c) for c in self.campaigns]) if self.campaigns else None


NO_AWARD = Award(0)


def read_record(record: str | None) -> tuple[tuple[str, int], ...]:
    """The (key, points added) pairs an order row keeps (Award.record), () when none."""
    return tuple((str(k), int(p)) for k, p in json.loads(record)) if record else ()


def running(campaigns: tuple[Campaign, ...], at: datetime) -> tuple[Campaign, ...]:
    """The campaigns in force at `at` (from starts_at included to ends_at excluded); a naive time is UTC."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)
    return tuple(c for c in campaigns if c.starts <= at < c.ends)


def collections_of(campaigns: tuple[Campaign, ...]) -> frozenset[int]:
    """The collections campaigns are limited to (whose products the app keeps)."""
    return frozenset(c.collection_id for c in campaigns if c.collection_id)


def multiplied(exact: Fraction, facts: OrderFacts, campaigns: tuple[Campaign, ...], rounding: str,
               members: frozenset = frozenset(), customer_multiplier=1) -> Award:
    """The award of an order whose points before campaigns are `exact` (unrounded), under the campaigns in
    force at its paid time among `campaigns`, by the rule above. `members`: (collection id, product id)
    pairs of the collections the campaigns name, as far as the order's products go. Pure."""
    total = exact * Fraction(customer_multiplier)
    if exact <= 0:
        return Award(points.whole(total, rounding))
    lines = _lines(facts)
    applying = [(c, scope) for c in running(campaigns, facts.processed_at)
                for scope in [_scope(c, lines, members)] if scope and _amount(facts, lines, c, scope) >= c.minimum_amount]
    added = _multipliers(total, lines, [(c, scope) for c, scope in applying if c.kind == "multiplier"])
    rounded, bonuses, credited = points.whole(total, rounding), 0, []
    for campaign, _ in applying:
        if campaign.kind == "bonus":
            bonuses += campaign.bonus
            credited.append((campaign.key, campaign.bonus))
        elif campaign.key in added:
            total += added[campaign.key]
            grown = points.whole(total, rounding)
            credited.append((campaign.key, grown - rounded))
            rounded = grown
    return Award(points.whole(Fraction(rounded + bonuses), rounding), tuple(credited))


def _lines(facts: OrderFacts) -> list[tuple[int | None, Fraction, Fraction]]:
    """(product id, share of the order's points, amount) of each line; one line without a product holding
    the whole order when the order has no line with a positive amount."""
    amounts = [(line.product_id, Fraction(max(line.amount, 0))) for line in facts.lines]
    whole = sum((a for _, a in amounts), Fraction(0))
    if whole <= 0:
        return [(None, Fraction(1), Fraction(max(facts.merchandise, 0)))]
    return [(product, amount / whole, amount) for product, amount in amounts]


def _scope(campaign: Campaign, lines: list, members: frozenset) -> frozenset[int]:
    """The indexes of the lines the campaign concerns: all, or those whose product is in its collection."""
    if not campaign.collection_id:
        return frozenset(range(len(lines)))
    return frozenset(i for i, (product, _, _) in enumerate(lines)
                     if product is not None and (campaign.collection_id, product) in members)


def _amount(facts: OrderFacts, lines: list, campaign: Campaign, scope: frozenset[int]) -> Fraction:
    """The merchandise in the campaign's scope (what its minimum_amount is compared with)."""
    if not campaign.collection_id:
        return Fraction(facts.merchandise)
    return sum((lines[i][2] for i in scope), Fraction(0))


def _multipliers(total: Fraction, lines: list, multipliers: list) -> dict[str, Fraction]:
    """The exact points each multiplier adds, line by line (highest non-stacking factor, then the stacking
    ones in the programme's order); only the multipliers that win on some line are named."""
    added: dict[str, Fraction] = {}
    for index, (_, share, _) in enumerate(lines):
        here = [c for c, scope in multipliers if index in scope]
        rivals = [c for c in here if not c.stacks]
        value = total * share
        for campaign in ([max(rivals, key=lambda c: c.factor)] if rivals else []) + [c for c in here if c.stacks]:
            gain = value * (Fraction(campaign.factor) - 1)
            added[campaign.key] = added.get(campaign.key, Fraction(0)) + gain
            value += gain
    return added
