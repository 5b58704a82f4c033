"""VIP tiers in a replay (loyalty.domain.simulation), pure: each customer's qualifying figure rebuilt from the
replayed events, and their tier decided by loyalty.domain.tiers.decide at the moments the live app decides
it.

- The figure changes by events the replay schedules: for `spent` and `orders`, an order counted at its
  payment (merchandise less refunds, or 1 while something is kept), changed by its refunds and removed by
  its cancellation, each when it happens, but counted in the window by the order's payment time (as
  loyalty.services.tiers.figures counts orders); for `points`, confirmed points (lifetime less pending)
  when they become confirmed (maturity) or are taken back.
- A tier is decided at each such event (the live app decides when the customer's ledger changes) and at
  the moment a retained tier's `until` is reached (the hourly period-end job): entry at once, retention and
  downgrade at the period's end, all by `decide`.
- Events are kept in one heap by moment and applied as the replay's clock moves (`run_until`), so the tier
  multiplying an order is the one held when it is paid.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from loyalty.domain.settings.tiers import Tiers
from loyalty.domain.tiers import Membership, decide, multiplier, window_start

NO_MEMBERSHIP = Membership()


class TierReplay:
    """One programme's VIP tiers over a replay. `on_change(customer, old key, new key)` is told each change
    of tier (None: no tier)."""

    def __init__(self, tiers: Tiers, on_change: Callable[[int, str | None, str | None], None]):
        self.tiers = tiers
        self.lifetime = tiers.window == "lifetime"
        self.on_change = on_change
        self.members: dict[int, Membership] = {}
        self.totals: dict[int, Decimal] = {}
        """customer -> figure over the whole history (the lifetime window)."""
        self.counted: dict[int, list[tuple[datetime, Decimal]]] = {}
        """customer -> (counted at, change of figure), for a window that moves."""
        self._heap: list = []
        self._seq = 0

    def schedule(self, moment: datetime, customer: int, change, counted_at: datetime | None = None) -> None:
        """The customer's figure changes by `change` at `moment` (counted in the window at `counted_at`,
        by default `moment`)."""
        if change:
            self._push(moment, customer, (counted_at or moment, Decimal(change)))

    def _push(self, moment: datetime, customer: int, figure) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (moment, self._seq, customer, figure))

    def run_until(self, moment: datetime) -> None:
        """Apply every event up to `moment` included, in order, deciding the tiers as they go."""
        heap = self._heap
        while heap and heap[0][0] <= moment:
            at, _, customer, figure = heapq.heappop(heap)
            if figure is None:  # a retained tier reaches its `until`: decided again, unless renewed since
                if self.members.get(customer, NO_MEMBERSHIP).until == at:
                    self._decide(customer, at)
                continue
            counted_at, change = figure
            if self.lifetime:
                self.totals[customer] = self.totals.get(customer, Decimal(0)) + change
            else:
                self.counted.setdefault(customer, []).append((counted_at, change))
            self._decide(customer, at)

    def figure(self, customer: int, now: datetime) -> Decimal:
        """The customer's qualifying figure at `now`, over the window."""
        if self.lifetime:
            return self.totals.get(customer, Decimal(0))
        start = window_start(self.tiers, now)
        return sum((c for at, c in self.counted.get(customer, ()) if start <= at <= now), Decimal(0))

    def _decide(self, customer: int, now: datetime) -> None:
        current = self.members.get(customer, NO_MEMBERSHIP)
        decision = decide(self.tiers, current, self.figure(customer, now), now)
        if decision.change is None:
            return
        new = decision.membership
        self.members[customer] = new
        if new.until is not None and new.until != current.until:
            self._push(new.until, customer, None)
        if new.tier != current.tier:
            self.on_change(customer, current.tier, new.tier)

    def tier(self, customer: int) -> str | None:
        """The tier the customer holds now (None: none)."""
        return self.members.get(customer, NO_MEMBERSHIP).tier

    def multiplier(self, customer: int) -> Decimal:
        """The earn multiplier of the tier the customer holds now."""
        return multiplier(self.tiers, self.tier(customer))


def order_figures(basis: str, merchandise: Decimal, refunds, cancelled_at: datetime | None):
    """(moment, change) of an order's count in a `spent` or `orders` figure, after its payment: each refund
    (cumulative, never below nothing kept), then its cancellation; the payment's own count is the first
    change, at None (the payment time). As loyalty.services.tiers.figures counts an order that is not
    excluded."""
    def count(kept: Decimal) -> Decimal:
        if basis == "spent":
            return kept if kept > 0 else Decimal(0)
        return Decimal(1 if kept > 0 else 0)

    now, refunded = count(merchandise), Decimal(0)
    changes = [(None, now)]
    for created_at, amount in refunds:
        refunded += amount
        after = count(merchandise - refunded)
        changes.append((created_at, after - now))
        now = after
    if cancelled_at is not None:
        changes.append((cancelled_at, -now))
    return changes
