"""The ledger's figures read from its roll-up (loyalty/services/ledger_rollup.py) plus the live tail above the
watermark: exact, in a few hundred summary rows and the tail's entries, whatever the ledger's size.

- `day_flows`: the points pending and available before a range of shop days, and each day's sums per kind.
- `customer_standing`: the members, and per shop day of last activity the points owed and the customers,
  which answer the dormant points (breakage) and the active members of a period reaching today.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, literal, select
from sqlalchemy.engine import Connection

from db.tables import (ledger_activity_totals as activity, ledger_customer_totals as per_customer,
                       ledger_day_totals as day_totals, ledger_entries as le)
from loyalty.domain.shops import ShopFacts
from loyalty.services.ledger_rollup import ACTIVITY, NEVER, Watermark, as_date, day_expression, tail_range, watermark


@dataclass
class Flows:
    """Points pending and available before the first day, and per day {kind: (pending, available)}."""

    opening: tuple[int, int] = (0, 0)
    days: dict[date, dict[str, tuple[int, int]]] = field(default_factory=dict)

    def add(self, day: date, kind: str, pending: int, available: int, first: date, last: date) -> None:
        """Count one (day, kind) sum: before the range into the opening, within it into its day."""
        if day < first:
            self.opening = (self.opening[0] + pending, self.opening[1] + available)
        elif day <= last:
            p, a = self.days.setdefault(day, {}).get(kind, (0, 0))
            self.days[day][kind] = (p + pending, a + available)


def day_flows(conn: Connection, shop_id: int, facts: ShopFacts, first: date, last: date) -> Flows:
    """The shop's points before `first` and per day from `first` to `last` (shop calendar days)."""
    mark = watermark(conn, shop_id, facts)
    flows = Flows()
    if mark.id:
        before = conn.execute(select(func.coalesce(func.sum(day_totals.c.pending), 0),
                                     func.coalesce(func.sum(day_totals.c.available), 0))
                              .where(day_totals.c.shop_id == shop_id, day_totals.c.day < first)).one()
        flows.opening = (int(before[0]), int(before[1]))
        for row in conn.execute(select(day_totals.c.day, day_totals.c.kind, day_totals.c.pending,
                                       day_totals.c.available)
                                .where(day_totals.c.shop_id == shop_id, day_totals.c.day >= first,
                                       day_totals.c.day <= last)):
            flows.add(as_date(row.day), row.kind, int(row.pending), int(row.available), first, last)
    low, high = tail_range(conn, shop_id, mark.id)
    if low is not None:
        day = day_expression(conn, facts, low, high)
        for row in conn.execute(select(day, le.c.kind, func.sum(le.c.pending), func.sum(le.c.available))
                                .where(le.c.id > mark.id, le.c.shop_id == shop_id).group_by(day, le.c.kind)):
            flows.add(as_date(row[0]), row[1], int(row[2]), int(row[3]), first, last)
    return flows


def kind_totals(conn: Connection, shop_id: int, facts: ShopFacts, last: date) -> dict[str, int]:
    """Points moved per entry kind (pending + available) by all entries up to the end of shop day `last`."""
    mark = watermark(conn, shop_id, facts)
    totals: dict[str, int] = defaultdict(int)
    if mark.id:
        for kind, moved in conn.execute(select(day_totals.c.kind, func.sum(day_totals.c.pending + day_totals.c.available))
                                        .where(day_totals.c.shop_id == shop_id, day_totals.c.day <= last)
                                        .group_by(day_totals.c.kind)):
            totals[kind] += int(moved)
    low, _ = tail_range(conn, shop_id, mark.id)
    if low is not None:
        for kind, moved in conn.execute(select(le.c.kind, func.sum(le.c.pending + le.c.available))
                                        .where(le.c.id > mark.id, le.c.shop_id == shop_id,
                                               le.c.effective_at < facts.start_of_day(last + timedelta(days=1)))
                                        .group_by(le.c.kind)):
            totals[kind] += int(moved)
    return dict(totals)


@dataclass
class Standing:
    """Members and, per day of last activity (NEVER: none, or no customer), points owed and customers."""

    members: int
    buckets: dict[date, list[int]]
    newest: datetime | None
    """The latest effective_at in the ledger: figures 'as of' an earlier instant cannot be read here."""

    def owed_inactive_before(self, day: date) -> int:
        """Points owed by customers (and no customer) with no activity on or after `day`."""
        return sum(owed for last, (owed, _) in self.buckets.items() if last < day)

    def active_since(self, day: date) -> int:
        """Customers with activity on or after `day`."""
        return sum(count for last, (_, count) in self.buckets.items() if last >= day)


def customer_standing(conn: Connection, shop_id: int, facts: ShopFacts) -> Standing:
    """Totals up to the watermark, corrected by the tail's customers: each one's totals taken out of their
    bucket and put back with the tail added (a few thousand customers at most between two roll-ups)."""
    mark: Watermark = watermark(conn, shop_id, facts)
    buckets: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    members = 0
    if mark.id:
        for last, owed, count in conn.execute(select(activity.c.last_active, activity.c.owed, activity.c.customers)
                                              .where(activity.c.shop_id == shop_id)):
            buckets[as_date(last)] = [int(owed), int(count)]
        # every customer row is in one bucket: the members are their count less "no customer" (a key look-up,
        # not a count of a million rows)
        nobody = conn.execute(select(func.count()).where(per_customer.c.shop_id == shop_id,
                                                         per_customer.c.customer_id == 0)).scalar()
        members = sum(count for _, count in buckets.values()) - nobody
    low, high = tail_range(conn, shop_id, mark.id)
    newest = max(filter(None, (mark.max_effective_at, high)), default=None)
    if low is not None:
        who = func.coalesce(le.c.customer_id, 0)
        day = day_expression(conn, facts, low, high)
        tail = (select(who.label("who"), func.sum(le.c.pending + le.c.available).label("owed"),
                       func.max(case((le.c.kind.in_(ACTIVITY), day), else_=None)).label("last"))
                .where(le.c.id > mark.id, le.c.shop_id == shop_id).group_by(who).subquery())
        known = (per_customer.c.shop_id == shop_id) & (literal(mark.id) > 0)  # totals of another zone: unused
        rows = conn.execute(select(tail.c.who, tail.c.owed, tail.c.last, per_customer.c.owed, per_customer.c.last_active)
                            .select_from(tail.outerjoin(per_customer, known & (per_customer.c.customer_id == tail.c.who))))
        for who_id, tail_owed, tail_last, old_owed, old_last in rows:
            old_day = as_date(old_last) if old_last is not None else NEVER
            if old_owed is not None:
                buckets[old_day][0] -= int(old_owed)
                buckets[old_day][1] -= 1
            elif who_id != 0:
                members += 1
            tail_day = as_date(tail_last) if tail_last is not None else NEVER
            bucket = buckets[NEVER if who_id == 0 else max(old_day, tail_day)]
            bucket[0] += int(old_owed or 0) + int(tail_owed)
            bucket[1] += 1
    return Standing(members, dict(buckets), newest)
