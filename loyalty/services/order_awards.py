"""What a paid order earns, as every order path fixes it (one event: loyalty.services.orders; a batch:
loyalty.services.known_orders): the domain's award (loyalty.domain.earning.order_earning: the earn rate,
campaigns, the customer's VIP tier multiplier), then the programme-wide earning cap
(loyalty.services.earning_caps). What each needs from the database is read once for all the payments it is
asked about: the campaigns' collection products for the batch, each customer's tier multiplier once.
(The set-based path for orders new to the app, loyalty.services.new_orders, reads the same through
history.paid_order_row and steps aside when an earning cap is set.)"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Connection

from loyalty.domain.earning import order_earning
from loyalty.domain.programme import Programme
from loyalty.services import collections, tiers
from loyalty.services.earning_caps import EarningTally, cap_order_award


class OrderAwards:
    """The awards of a set of payments of one shop under one programme version."""

    def __init__(self, conn: Connection, shop_id: int, prog: Programme, paid_facts, now: datetime):
        self.conn, self.shop_id, self.prog, self.now = conn, shop_id, prog, now
        self.paid_facts = paid_facts
        self._members = None
        self._multipliers: dict[int, Decimal] = {}
        self._tally = None

    def of(self, facts, non_earning: Decimal, customer_id: int | None) -> dict:
        """The order row's values the award decides: excluded_reason, award, campaigns, capped."""
        if self._members is None:  # the campaigns' collections, one query for all the payments
            self._members = collections.members(self.conn, self.shop_id, self.prog, self.paid_facts)
        reason, award = order_earning(facts, non_earning, self.prog, customer_id, self._members,
                                      self._multiplier(customer_id))
        if self._tally is None and self.prog.earning.earning_cap is not None:
            self._tally = EarningTally(self.conn, self.prog)
        points, capped = cap_order_award(self.conn, self.prog, customer_id, facts.processed_at, award.points,
                                         self.now, self._tally)
        return dict(excluded_reason=reason, award=points, campaigns=award.record, capped=capped)

    def _multiplier(self, customer_id: int | None) -> Decimal:
        if customer_id is None or not self.prog.tiers.enabled:
            return Decimal(1)
        if customer_id not in self._multipliers:
            self._multipliers.update(tiers.tier_multipliers(self.conn, self.shop_id, [customer_id]))
        return self._multipliers[customer_id]
