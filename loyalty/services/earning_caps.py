"""The programme-wide earning cap applied where points are earned: what a customer has earned in a period
(orders' awards and bonuses, read from the ledger) and what an award may still add. The rules are
loyalty.domain.caps'; this module only reads the ledger for them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from db.tables import ledger_entries as le
from loyalty.domain.caps import Capped, earning_cap, period_bounds
from loyalty.domain.programme import Programme


def earned_in_period(conn: Connection, customer_id: int, start: datetime | None, end: datetime | None) -> int:
    """Points the customer earned with effective moments in [start, end) (None: unbounded): orders' awards
    (their `earn` entries, before refunds) and bonuses."""
    query = select(func.coalesce(func.sum(le.c.pending + le.c.available), 0)).where(
        le.c.customer_id == customer_id, or_(le.c.kind == "earn", le.c.kind == "bonus"))
    if start is not None:
        query = query.where(and_(le.c.effective_at >= start, le.c.effective_at < end))
    return int(conn.execute(query).scalar())


class EarningTally:
    """The earning cap of one transaction's awards: what each customer earned in the cap's period, read once
    from the ledger, plus the awards this tally let through since (a batch plans several orders of one
    customer before writing any)."""

    def __init__(self, conn: Connection, prog: Programme):
        self.conn, self.cap = conn, prog.earning.earning_cap
        self.counted: dict[tuple, int] = {}

    def apply(self, customer_id: int | None, moment: datetime, award: int) -> Capped:
        """What of `award`, earned at `moment`, the earning cap lets through (all of it without a cap)."""
        if self.cap is None or customer_id is None or award <= 0:
            return Capped(award, award)
        start, end = period_bounds(self.cap.period, moment)
        slot = (customer_id, start)
        if slot not in self.counted:
            self.counted[slot] = earned_in_period(self.conn, customer_id, start, end)
        capped = earning_cap(self.cap, Capped(award, award), self.counted[slot])
        self.counted[slot] += capped.given
        return capped


def cap_order_award(conn: Connection, prog: Programme, customer_id: int | None, paid_at: datetime | None,
                    award: int, now: datetime, tally: EarningTally | None = None) -> tuple[int, int | None]:
    """(the award the earning cap lets an order keep, the points it took or None): the call the order
    paths make once an award is computed."""
    if prog.earning.earning_cap is None:
        return award, None
    capped = (tally or EarningTally(conn, prog)).apply(customer_id, paid_at or now, award)
    return capped.given, capped.taken or None
