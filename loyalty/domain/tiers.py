"""VIP tier rules, pure: which tier a customer's qualifying figure reaches, entry, retention and the
downgrade at a period's end, the earn multiplier and exclusive rewards. The settings are
loyalty.domain.settings.tiers'; loyalty.services.tiers reads the figures and stores the memberships.

- Entry: a figure reaching a higher tier's threshold moves the customer up at once.
- Retention: a tier is kept until `until`: the end of the period in which `retention_months` after the
  customer last qualified for it fall (qualifying again renews it).
- Downgrade: a customer below their tier's threshold keeps it until `until`; from then on they are placed at
  the tier their figure reaches (lower, or none).
- Settings: a tier removed from the ladder, or tiers turned off, moves its customers at once (nothing is
  left to keep).
- Free shipping perk (`free_shipping.every`): a free shipping code costing no points, once per entry into
  the tier (`entry`: moving up, or back in after leaving, is a new entry; a renewal is not), or once per
  calendar month / year (UTC) while in the tier, the first on entering (`month`, `year`: one code per period
  whatever the tier, so moving up mid-month gives none more unless the new tier gives one per entry).
  A tier given the perk later gives it to the customers already in it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal

from loyalty.domain.points import add_months
from loyalty.domain.settings.tiers import Tier, Tiers

UP, DOWN, RENEWED = "up", "down", "renewed"


@dataclass(frozen=True)
class Membership:
    """A customer's tier: its key (None: no tier), since when, and until when it is kept whatever the figure."""

    tier: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """What decide() concluded: the membership to hold, the change (UP, DOWN, RENEWED or None) and why."""

    membership: Membership
    change: str | None
    reason: str = ""


def window_start(tiers: Tiers, now: datetime) -> datetime | None:
    """The first instant the qualifying figure counts (None: the customer's whole history)."""
    if tiers.window == "calendar_year":
        return now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if tiers.window == "rolling_12_months":
        return add_months(now, -12)
    return None


def period_end(tiers: Tiers, moment: datetime) -> datetime:
    """The first period boundary after `moment`: the next 1 January for a calendar-year window, else the
    first day of the next month (midnight, in the moment's time zone)."""
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if tiers.window == "calendar_year":
        return start.replace(year=moment.year + 1, month=1)
    return add_months(start, 1)


def kept_until(tiers: Tiers, qualified_at: datetime) -> datetime:
    """Until when a tier qualified for at `qualified_at` is kept: retention, then the period's end."""
    return period_end(tiers, add_months(qualified_at, tiers.retention_months))


def reached(tiers: Tiers, figure: Decimal) -> Tier | None:
    """The highest tier whose entry threshold the figure reaches, or None."""
    found = [t for t in tiers.ladder if figure >= t.threshold]
    return found[-1] if found else None


def rank(tiers: Tiers, key: str | None) -> int:
    """A tier's place on the ladder (0 lowest); -1 for no tier or a tier not on the ladder."""
    keys = [t.key for t in tiers.ladder]
    return keys.index(key) if key in keys else -1


def describe(tiers: Tiers, figure: Decimal) -> str:
    """The figure as a reason states it (`spent 250.00 over rolling 12 months`)."""
    window = {"lifetime": "in total", "calendar_year": "this calendar year",
              "rolling_12_months": "over the last 12 months"}[tiers.window]
    if tiers.basis == "spent":
        return f"spent {figure:.2f} {window}"
    unit = "orders" if tiers.basis == "orders" else "points"
    return f"{int(figure)} {unit} {window}"


def decide(tiers: Tiers, current: Membership, figure: Decimal, now: datetime) -> Decision:
    """The customer's tier now, given their qualifying figure (see the module's rules)."""
    held = tiers.tier(current.tier) if tiers.enabled else None
    if current.tier is not None and held is None:
        # tiers turned off or this tier removed: re-placed at once, no retention of a tier that is gone
        why = "tiers turned off" if not tiers.enabled else f"tier {current.tier!r} removed from the programme"
        target = reached(tiers, figure) if tiers.enabled else None
        return Decision(_enter(tiers, target, now), DOWN, why)
    if not tiers.enabled:
        return Decision(current, None)
    target = reached(tiers, figure)
    if rank(tiers, target.key if target else None) > rank(tiers, current.tier):
        return Decision(_enter(tiers, target, now), UP, f"{describe(tiers, figure)}: {target.name} from "
                                                        f"{_threshold(tiers, target)}")
    if held is None:
        return Decision(current, None)
    if target is not None and target.key == held.key:
        until = max(current.until or now, kept_until(tiers, now))
        if until != current.until:
            return Decision(replace(current, until=until), RENEWED, f"{describe(tiers, figure)}: still {held.name}")
        return Decision(current, None)
    if current.until is not None and now < current.until:
        return Decision(current, None)  # retained: below the threshold, but not before the period's end
    why = f"{describe(tiers, figure)}: below {held.name}'s {_threshold(tiers, held)} at the period's end"
    return Decision(_enter(tiers, target, now), DOWN, why)


def _enter(tiers: Tiers, tier: Tier | None, now: datetime) -> Membership:
    return Membership(tier.key, now, kept_until(tiers, now)) if tier else Membership()


def _threshold(tiers: Tiers, tier: Tier) -> str:
    return f"{tier.threshold:.2f}" if tiers.basis == "spent" else str(int(tier.threshold))


def multiplier(tiers: Tiers, key: str | None) -> Decimal:
    """The earn multiplier of the tier (1 for no tier, or when tiers are off)."""
    tier = tiers.tier(key) if tiers.enabled else None
    return tier.multiplier if tier else Decimal("1")


def required_tier(tiers: Tiers, reward_key: str) -> Tier | None:
    """The lowest tier a catalogue reward is exclusive to (None: the reward is for everyone, or tiers are
    off)."""
    if not tiers.enabled:
        return None
    return next((t for t in tiers.ladder if reward_key in t.exclusive_rewards), None)


def may_redeem(tiers: Tiers, reward_key: str, key: str | None) -> bool:
    """Whether a customer of tier `key` may redeem the catalogue reward: a reward listed as exclusive to a
    tier is for that tier and those above it; any other reward (or tiers off) is for everyone."""
    needed = required_tier(tiers, reward_key)
    return needed is None or rank(tiers, key) >= rank(tiers, needed.key)


@dataclass(frozen=True)
class Step:
    """The tier above a customer's and what it needs: `remaining` more of the basis (points, amount spent,
    orders) counted over the window."""

    tier: Tier
    remaining: Decimal


def next_step(tiers: Tiers, key: str | None, figure: Decimal) -> Step | None:
    """The next tier up for a customer holding tier `key` (or none) with this qualifying figure: the first tier
    above both the one held (kept by retention) and the one the figure reaches; None at the top, or when tiers
    are off."""
    if not tiers.enabled:
        return None
    reached_tier = reached(tiers, figure)
    floor = max(rank(tiers, key), rank(tiers, reached_tier.key if reached_tier else None))
    above = tiers.ladder[floor + 1:]
    return Step(above[0], above[0].threshold - figure) if above else None


@dataclass(frozen=True)
class ShippingGift:
    """A free shipping code due to a member: `label` names it (one code per customer and label) and
    `since` is when its period began (a code given since then is this one)."""

    label: str
    since: datetime
    """(A naive `since`, as SQLite gives it back, is read as UTC.)"""


def free_shipping_due(tiers: Tiers, membership: Membership, now: datetime) -> ShippingGift | None:
    """The free shipping code the member's tier gives for the current period (see the module's rules), or
    None when the tier gives none (or tiers are off)."""
    tier = tiers.tier(membership.tier) if tiers.enabled else None
    every = tier.free_shipping.every if tier else ""
    if not every or membership.since is None:
        return None
    if every == "entry":
        since = membership.since if membership.since.tzinfo else membership.since.replace(tzinfo=timezone.utc)
        return ShippingGift(f"{tier.key}:entry:{since.astimezone(timezone.utc):%Y%m%dT%H%M%S%f}", since)
    start = gift_period_start(every, now)
    return ShippingGift(f"{every}:{start:%Y}" if every == "year" else f"{every}:{start:%Y-%m}", start)


def gift_period_start(every: str, now: datetime) -> datetime:
    """When the current period of a `month` or `year` free shipping perk began (UTC)."""
    start = now.astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.replace(month=1) if every == "year" else start
