"""Replaying recorded orders under two programmes at once (the one in force, a draft): pure rules.

The replay is given, in order of payment, the orders a shop has recorded (merchandise, non-earning share,
payment time, refunds, cancellation, customer) and works out, month by month, what each programme would
have done with them:

- what each order earns is decided by the domain's own rules (`earning.exclusion_reason`,
  `earning.order_award`), called once per distinct input (`Awards`): a rule that needs more of the order
  (a campaign's dates or collections) adds it to `Awards.key` and `recorded_facts`;
- each order's points are pending until `pending_days` after payment, then available; a refund keeps
  `points.kept_after_refunds` of the award (cumulative, as the live claw-back), taking from pending points
  first; a cancellation takes what is left (the live pipeline's `allow` policy);
- a customer's tier: with VIP tiers on (`tiers.enabled`), the tier loyalty.domain.tiers decides from the
  figure rebuilt from the replayed orders (loyalty.domain.simulation_tiers: entry at once, retention and
  downgrade at the period's end), and its multiplier multiplies the customer's orders; without, the one
  `tier_rule` gives for their confirmed lifetime points (the perk ladder's highest threshold reached);
- campaigns apply by paid time (`earning.order_earning`); orders keep no lines, so a campaign limited to a
  collection never applies in a replay;
- entries not replayed (before the start, redemptions, adjustments, bonuses, expiries, orders paid before
  the start) are taken as recorded, identical under both programmes.

Integer arithmetic throughout (points), and each month-end figure kept up to date as customers change
(no pass over all customers per month), so a million orders replay in seconds.
"""
from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from loyalty.domain.campaigns import running
from loyalty.domain.commands import OrderFacts
from loyalty.domain import order_outcome
from loyalty.domain.earning import order_earning
from loyalty.domain.points import kept_after_refunds
from loyalty.domain.errors import ProgrammeError
from loyalty.domain.programme import Programme
from loyalty.domain.simulation_tiers import TierReplay, order_figures
from loyalty.domain.valuation import PointValue, point_value

IN_FORCE, DRAFT = "in_force", "draft"
SIDES = (IN_FORCE, DRAFT)
NO_TIER = "none"


def draft_from(document) -> Programme:
    """A draft programme from a JSON document: the programme itself, as `loyalty programme show --json`
    prints it (its `version`, which a draft does not have yet, is ignored). Validated whole."""
    if not isinstance(document, dict):
        raise ProgrammeError("the draft must be a JSON object (a programme document)")
    return Programme.from_dict({k: v for k, v in document.items() if k != "version"})


def tier_rule(prog: Programme) -> Callable[[int], str]:
    """The tier a customer holds with `confirmed` lifetime points, as a label: the highest perk-ladder
    threshold reached (`"300"`), or `none`. The one place a replay decides tiers."""
    thresholds = prog.thresholds
    labels = (NO_TIER, *(str(t) for t in thresholds))
    return lambda confirmed: labels[bisect.bisect_right(thresholds, confirmed)]


def tier_labels(prog: Programme) -> tuple[str, ...]:
    """Every tier a replay can give under `prog`, lowest first: its VIP tiers' keys when they are on, else
    the perk ladder's thresholds (`tier_rule`)."""
    if prog.tiers.enabled:
        return (NO_TIER, *(t.key for t in prog.tiers.ladder))
    return (NO_TIER, *(str(t) for t in prog.thresholds))


def reward_price(prog: Programme) -> int:
    """The fewest points one redemption spends (cheapest reward, or the conversion minimum); 0: none."""
    prices = [r.points for r in prog.redeemable]
    if prog.conversion_enabled:
        prices.append(prog.conversion_minimum_points)
    return min(prices, default=0)


def recorded_facts(customer_id: int | None, paid_at: datetime, merchandise: Decimal, source_name: str | None,
                   excluded_reason: str | None) -> OrderFacts:
    """An order's facts as its recorded row keeps them. Customer tags, B2B and test orders are not columns:
    they are known from the reason the order was excluded for when it was recorded."""
    why = order_outcome.exclusion_of_text(excluded_reason) if excluded_reason else None
    code = why.code if why else None
    tags = (why.params["tag"],) if code == order_outcome.EXCLUDED_TAG else ()
    return OrderFacts(order_id=0, name=None, customer_id=customer_id, email=None, customer_tags=tags,
                      is_b2b=code == order_outcome.B2B, source_name=source_name,
                      test=code == order_outcome.TEST_ORDER, processed_at=paid_at, currency=None,
                      merchandise=merchandise, gateways=())


class Awards:
    """What each recorded order earns under one programme, by the domain's rules (`earning.order_earning`:
    exclusions, earn rate, the campaigns running at its paid time, the customer's tier multiplier),
    computed once per distinct input (orders of the same amounts, channel, exclusion, campaigns and
    multiplier earn the same)."""

    def __init__(self, prog: Programme):
        self.prog = prog
        self._known: dict[tuple, tuple[bool, int]] = {}

    def key(self, customer_id, paid_at, merchandise, non_earning_paid, source_name, excluded_reason,
            customer_multiplier=1) -> tuple:
        """What the award depends on (a rule reading more of the order adds it here)."""
        campaigns = tuple(c.key for c in running(self.prog.campaigns, paid_at)) if self.prog.campaigns else ()
        return (merchandise, non_earning_paid, source_name, excluded_reason, customer_id is None, campaigns,
                customer_multiplier)

    def __call__(self, customer_id, paid_at, merchandise, non_earning_paid, source_name, excluded_reason,
                 customer_multiplier=1) -> int:
        """The points the order earns before refunds."""
        return self.earning(customer_id, paid_at, merchandise, non_earning_paid, source_name, excluded_reason,
                            customer_multiplier)[1]

    def earning(self, customer_id, paid_at, merchandise, non_earning_paid, source_name, excluded_reason,
                customer_multiplier=1) -> tuple[bool, int]:
        """(whether the order is excluded, the points it earns before refunds)."""
        key = self.key(customer_id, paid_at, merchandise, non_earning_paid, source_name, excluded_reason,
                       customer_multiplier)
        found = self._known.get(key)
        if found is None:
            facts = recorded_facts(customer_id, paid_at, merchandise, source_name, excluded_reason)
            reason, award = order_earning(facts, non_earning_paid or Decimal(0), self.prog, customer_id,
                                          customer_multiplier=customer_multiplier)
            found = self._known[key] = (reason is not None, award.points)
        return found


def month_of(moment: datetime) -> int:
    """A month as one integer (year x 12 + month - 1), to bucket events."""
    return moment.year * 12 + moment.month - 1


def month_label(month: int) -> str:
    """`YYYY-MM` of a month_of integer."""
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


@dataclass
class SideMonth:
    """One programme's figures for one month: flows in the month, standings at its end."""

    issued: int = 0
    """Points orders paid this month earn (before refunds)."""
    taken_back: int = 0
    """Points refunds and cancellations of replayed orders took back this month."""
    outstanding: int = 0
    pending: int = 0
    liability: Decimal = Decimal(0)
    rewards_redeemable: int = 0
    """Redemptions the customers' available points pay for (each customer's points // the cheapest price)."""
    customers_able_to_redeem: int = 0
    tiers: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"issued": self.issued, "taken_back": self.taken_back, "outstanding": self.outstanding,
                "pending": self.pending, "available": self.outstanding - self.pending,
                "liability": str(self.liability), "rewards_redeemable": self.rewards_redeemable,
                "customers_able_to_redeem": self.customers_able_to_redeem, "tiers": dict(self.tiers)}


@dataclass
class Month:
    """Both programmes' figures for one month, and how many customers stand differently at its end."""

    month: str
    sides: dict
    standing_changed: int = 0

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"month": self.month, **{s: self.sides[s].to_dict() for s in SIDES},
                "customers_whose_tier_differs": self.standing_changed}


class _Side:
    """One programme's running state: the rules it replays with and its running totals."""

    def __init__(self, prog: Programme):
        self.prog = prog
        self.awards = Awards(prog)
        self.tier = tier_rule(prog)
        self.vip: TierReplay | None = None
        """The VIP tiers' replay when the programme has tiers on (then `tier` is not used)."""
        self.value: PointValue = point_value(prog)
        self.price = reward_price(prog)
        self.pending_for = timedelta(days=prog.pending_days)
        self.outstanding = self.pending = self.redeemable = self.able = self.issued = 0
        self.tiers: Counter = Counter()


class Replay:
    """Feed it the opening balances, the recorded entries it does not replay, and the orders in order of
    payment; `finish()` gives one Month per month from `start` to `until`, and the final standings.

    Each event adds to its customer's moves of the month it happens in (points available, pending,
    lifetime, per programme); when a month closes, each customer it moved is brought up to date once, with
    the running figures (tiers, redemptions affordable, customers whose tier differs). Events after
    `until` have not happened and are dropped."""

    def __init__(self, in_force: Programme, draft: Programme, start: datetime, until: datetime):
        self.sides = (_Side(in_force), _Side(draft))
        self.start, self.until = start, until
        self.month = month_of(start)
        self.last = month_of(until)
        self.customers: dict[int, list] = {}
        """customer -> [available, pending, lifetime, tier] per programme, one after the other, and whether
        the two tiers differ."""
        self.moves: dict[int, dict[int, list[int]]] = {self.month: {}}
        """month -> customer -> [available, pending, lifetime] per programme: what the month changes."""
        self.taken_back: dict[tuple[int, int], int] = {}
        """(month, programme index) -> points refunds and cancellations took back in that month."""
        self.months: list[Month] = []
        self.differing = 0
        self.orders = 0
        self._awards: dict[tuple, tuple[int, int, bool, bool]] = {}
        """what the awards depend on -> (award in force, under the draft, excluded in force, under the draft)."""
        for index, side in enumerate(self.sides):
            if side.prog.tiers.enabled:
                side.vip = TierReplay(side.prog.tiers, lambda c, old, new, i=index: self._vip_changed(i, c, old, new))
        self.tiered = any(side.vip for side in self.sides)
        self.detailed = self.tiered or any(side.prog.campaigns for side in self.sides)
        """Awards depend on more than the order's amounts (campaigns by paid time, tier multipliers)."""

    # -- what the replay is fed ----------------------------------------------------------------------

    def _add(self, moment: datetime | None, customer: int, at: int, available: int, pending: int,
             lifetime: int) -> None:
        """Add a move of programme `at` (0: in force, 3: draft) to the month of `moment` (None: the
        current one; a moment before it counts in it)."""
        if moment is None:
            month = self.month
        elif moment > self.until:
            return
        else:
            month = max(month_of(moment), self.month)
        bucket = self.moves.get(month)
        if bucket is None:
            bucket = self.moves[month] = {}
        moved = bucket.get(customer)
        if moved is None:
            moved = bucket[customer] = [0, 0, 0, 0, 0, 0]
        moved[at] += available
        moved[at + 1] += pending
        moved[at + 2] += lifetime
        vip = self.sides[at // 3].vip
        if vip is not None and vip.tiers.basis == "points" and lifetime != pending:
            vip.schedule(moment or self.start, customer, lifetime - pending)  # confirmed points moved

    def opening(self, customer: int, available: int, pending: int, lifetime: int) -> None:
        """A customer's recorded points before `start` (both programmes start from them)."""
        for at in (0, 3):
            self._add(None, customer, at, available, pending, lifetime)

    def opening_figure(self, customer: int, spent: Decimal, orders: int, counted_at: datetime | None = None) -> None:
        """Orders paid before `start` (not excluded when recorded): what they count in a `spent` or `orders`
        VIP figure, counted in the window at `counted_at` (None: an aggregate for a lifetime window)."""
        for side in self.sides:
            if side.vip is not None and side.vip.tiers.basis != "points":
                side.vip.schedule(self.start, customer, spent if side.vip.tiers.basis == "spent" else orders,
                                  counted_at=counted_at)

    def recorded(self, moment: datetime, customer: int, available: int, pending: int, lifetime: int) -> None:
        """Recorded entries not replayed, at `moment` (both programmes keep them as they are)."""
        for at in (0, 3):
            self._add(moment, customer, at, available, pending, lifetime)

    def order(self, customer: int | None, paid_at: datetime, merchandise: Decimal, non_earning_paid: Decimal,
              source_name: str | None, excluded_reason: str | None, cancelled_at: datetime | None,
              refunds: list[tuple[datetime, Decimal]] = ()) -> None:
        """One recorded order, paid at `paid_at` (orders come in order of payment); `refunds`:
        (created at, merchandise refunded), in the order they were made."""
        month = paid_at.year * 12 + paid_at.month - 1
        if month != self.month:
            self._advance(month)
        self.orders += 1
        if customer is None:
            return
        key = (merchandise, non_earning_paid, source_name, excluded_reason)
        multipliers = (1, 1)
        if self.detailed:
            if self.tiered:
                for side in self.sides:
                    if side.vip is not None:
                        side.vip.run_until(paid_at)
                multipliers = tuple(side.vip.multiplier(customer) if side.vip else 1 for side in self.sides)
            key = tuple(side.awards.key(customer, paid_at, *key, multipliers[i]) for i, side in enumerate(self.sides))
        awards = self._awards.get(key)
        if awards is None:
            found = [side.awards.earning(customer, paid_at, merchandise, non_earning_paid, source_name, excluded_reason,
                                 multipliers[i]) for i, side in enumerate(self.sides)]
            awards = self._awards[key] = (found[0][1], found[1][1], found[0][0], found[1][0])
        if self.tiered:
            self._order_figures(customer, paid_at, merchandise, cancelled_at, refunds, awards)
        if refunds or cancelled_at is not None or self.tiered:  # tiers need each move at its moment
            for index, side in enumerate(self.sides):
                if awards[index]:
                    side.issued += awards[index]
                    self._settle(customer, index * 3, side, awards[index], paid_at, merchandise, cancelled_at,
                                 refunds)
            return
        # The common case (no refund, no cancellation), inline: earned, then available once matured.
        now = self.moves[self.month]
        moved = now.get(customer)
        if moved is None:
            moved = now[customer] = [0, 0, 0, 0, 0, 0]
        for index, at in ((0, 0), (1, 3)):
            award = awards[index]
            if not award:
                continue
            side = self.sides[index]
            side.issued += award
            matures = paid_at + side.pending_for
            if matures > self.until:
                moved[at + 1] += award
                moved[at + 2] += award
            elif matures.month == paid_at.month and matures.year == paid_at.year:
                moved[at] += award
                moved[at + 2] += award
            else:
                moved[at + 1] += award
                moved[at + 2] += award
                self._add(matures, customer, at, award, -award, 0)

    def _order_figures(self, customer, paid_at, merchandise, cancelled_at, refunds, awards) -> None:
        """Schedule what an order not excluded counts in `spent` and `orders` VIP figures, when it counts."""
        for index, side in enumerate(self.sides):
            vip = side.vip
            if vip is None or vip.tiers.basis == "points" or awards[2 + index]:
                continue
            for moment, change in order_figures(vip.tiers.basis, merchandise, refunds, cancelled_at):
                if moment is None or moment <= self.until:
                    vip.schedule(moment or paid_at, customer, change, counted_at=paid_at)

    def _vip_changed(self, index: int, customer: int, old: str | None, new: str | None) -> None:
        """A VIP tier decided in a replay changed: the running counts follow."""
        state = self._state(customer)
        side, at = self.sides[index], index * 4 + 3
        side.tiers[state[at]] -= 1
        state[at] = new or NO_TIER
        side.tiers[state[at]] += 1
        self._differs(state)

    def _settle(self, customer, at, side, award, paid_at, merchandise, cancelled_at, refunds) -> None:
        """An order with refunds or a cancellation: each refund keeps `kept_after_refunds` of the award
        (cumulative) and takes the rest, from pending points while they are pending; a cancellation takes
        what is left. What is still held when the pending period ends becomes available."""
        matures = paid_at + side.pending_for
        self._add(paid_at, customer, at, 0, award, award)
        kept, refunded, held = award, Decimal(0), award
        takes = []
        for created_at, amount in refunds:
            refunded += amount
            target = kept_after_refunds(award, merchandise, refunded)
            takes.append((created_at, kept - target))
            kept = target
        if cancelled_at is not None and kept:
            takes.append((cancelled_at, kept))
        for moment, taken in takes:
            if not taken:
                continue
            if moment <= self.until:
                flow = (max(month_of(moment), self.month), at)
                self.taken_back[flow] = self.taken_back.get(flow, 0) + taken
            if moment < matures:
                held -= taken
                self._add(moment, customer, at, 0, -taken, -taken)
            else:
                self._add(moment, customer, at, -taken, 0, -taken)
        if held:
            self._add(matures, customer, at, held, -held, 0)

    # -- months ----------------------------------------------------------------------------------------

    def _advance(self, month: int) -> None:
        """Close every month before `month`."""
        while self.month < month and self.month <= self.last:
            self._close()
            self.month += 1
            self.moves.setdefault(self.month, {})

    def _close(self) -> None:
        """Bring every customer the month moved up to date, then record the month's figures."""
        if self.tiered:  # tiers as they stand at the month's end (a downgrade at its end included)
            after = self.month + 1
            # the last instant of the month: a tier kept `until` its end is still held in it
            end = min(datetime(after // 12, after % 12 + 1, 1, tzinfo=self.until.tzinfo) - timedelta(microseconds=1),
                      self.until)
            for side in self.sides:
                if side.vip is not None:
                    side.vip.run_until(end)
        for customer, moved in self.moves.pop(self.month, {}).items():
            self._move(customer, moved)
        sides = {}
        for index, side in enumerate(self.sides):
            sides[SIDES[index]] = SideMonth(
                issued=side.issued, taken_back=self.taken_back.pop((self.month, index * 3), 0),
                outstanding=side.outstanding, pending=side.pending, liability=side.value.value_of(side.outstanding),
                rewards_redeemable=side.redeemable, customers_able_to_redeem=side.able,
                tiers={label: side.tiers.get(label, 0) for label in tier_labels(side.prog)})
            side.issued = 0
        self.months.append(Month(month_label(self.month), sides, self.differing))

    def _state(self, customer: int) -> list:
        """The customer's running state, made (with no points, at the lowest tier) the first time."""
        state = self.customers.get(customer)
        if state is None:
            first = [NO_TIER if side.vip else side.tier(0) for side in self.sides]
            state = self.customers[customer] = [0, 0, 0, first[0], 0, 0, 0, first[1], False]
            for index, side in enumerate(self.sides):
                side.tiers[state[index * 4 + 3]] += 1
            self._differs(state)
        return state

    def _move(self, customer: int, moved: list[int]) -> None:
        """Apply a month's moves to a customer, keeping every running figure right."""
        state = self._state(customer)
        self._move_side(state, self.sides[0], 0, moved[0], moved[1], moved[2])
        self._move_side(state, self.sides[1], 4, moved[3], moved[4], moved[5])
        self._differs(state)

    def _differs(self, state: list) -> None:
        """Count the customer among those whose tier differs between the programmes, or no longer."""
        differs = state[3] != state[7]
        if differs != state[8]:
            self.differing += 1 if differs else -1
            state[8] = differs

    @staticmethod
    def _move_side(state: list, side: _Side, to: int, available: int, pending: int, lifetime: int) -> None:
        if not (available or pending or lifetime):
            return
        old_available = state[to]
        new_available, new_pending = old_available + available, state[to + 1] + pending
        new_lifetime = state[to + 2] + lifetime
        state[to], state[to + 1], state[to + 2] = new_available, new_pending, new_lifetime
        side.outstanding += available + pending
        side.pending += pending
        price = side.price
        if available and price:
            before = old_available // price if old_available > 0 else 0
            after = new_available // price if new_available > 0 else 0
            if after != before:
                side.redeemable += after - before
                side.able += (after > 0) - (before > 0)
        if lifetime != pending and side.vip is None:  # confirmed points moved: the perk-ladder tier may have
            tier, new_tier = state[to + 3], side.tier(new_lifetime - new_pending)
            if new_tier != tier:
                state[to + 3] = new_tier
                side.tiers[tier] -= 1
                side.tiers[new_tier] += 1

    def finish(self) -> list[Month]:
        """Close the months up to `until`'s; the Months, oldest first."""
        self._advance(self.last + 1)
        return self.months

    def standing_changes(self) -> list[tuple[int, str, str, int, int]]:
        """(customer, tier in force, tier under the draft, confirmed points in force, under the draft) of
        each customer whose tier differs at the end, by customer."""
        return [(customer, s[3], s[7], s[2] - s[1], s[6] - s[5])
                for customer, s in sorted(self.customers.items()) if s[8]]

    def totals(self, index: int) -> tuple[int, int, int]:
        """(available, pending, lifetime) of one programme (0: in force, 1: draft), summed over customers."""
        return tuple(sum(s[index * 4 + k] for s in self.customers.values()) for k in range(3))
