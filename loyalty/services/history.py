"""Past orders into the ledger (history import, reconciliation), by the same rules and idempotency keys as
their webhooks: an order imported and then delivered by webhook (or the reverse) counts once.

Orders the app has never seen take a set-based path (a few statements per chunk instead of a dozen per
order) that plans their entries with the very function webhooks settle with (`orders.owed_entries`); any
order the app already knows something about goes through the webhook services one by one.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import insert, or_, select
from sqlalchemy.engine import Connection

from db import rows as rows_db
from db.tables import customers, ledger_entries as le, orders, refunds
from loyalty.domain.maturity import pending_until
from loyalty.services import collections, ledger, schedule, vouchers
from loyalty.domain import keys, money, points
from loyalty.domain.commands import ImportOrder, RecordOrderCancelled, RecordOrderPaid
from loyalty.services.customers import normalise_email, record_order_profiles, resolve_customer
from loyalty.domain.earning import TEST_ORDER, non_earning_total, order_earning
from loyalty.services.orders import owed_entries, record_order_cancelled, record_order_paid, record_refund
from loyalty.domain.programme import Programme
from loyalty.services.shops import ShopRef, programme

NO_HOLDING = ledger.OrderHolding(0, 0, frozenset())


@dataclass
class ImportTotals:
    """What a chunk (or a run) did."""

    orders: int = 0
    credited: int = 0
    """Orders that earned points now (an earn entry written)."""
    points: int = 0
    """Points those orders earned."""

    def add(self, other: "ImportTotals") -> None:
        """Add another chunk's figures."""
        self.orders, self.credited, self.points = (self.orders + other.orders, self.credited + other.credited,
                                                   self.points + other.points)


@ledger.perks_once
def apply_orders(conn: Connection, shop: ShopRef, batch: list[ImportOrder], now: datetime,
                 plans: dict | None = None) -> ImportTotals:
    """Apply past orders as they stand now: paid, refunded, cancelled, and matured when their pending
    period is over by `now`. Idempotent. `plans`: plan_fresh's plans by order id, made ahead (by the
    history reader); an order without one is planned here."""
    prog = programme(conn, shop.id, shop.settings_version)
    ids = {o.facts.order_id for o in batch}
    known = {row[0] for table in ("orders", "refunds") for row in rows_db.select_in(
        conn, f"SELECT shopify_order_id FROM {table} WHERE shop_id = {{p}} AND shopify_order_id {{IN}}",
        (shop.id,), ids)}
    fresh, one_by_one, seen = [], [], set()
    for order in batch:
        needs_balance = prog.negative_balance == "floor" and (order.refunds or order.cancelled_at)
        oid = order.facts.order_id
        simple = (order.paid and oid not in known and oid not in seen and not needs_balance
                  and prog.earning.earning_cap is None)  # a cap counts each customer's awards in turn
        (fresh if simple else one_by_one).append(order)
        seen.add(oid)
    members = collections.members(conn, shop.id, prog, [o.facts for o in fresh if o.facts.order_id not in (plans or {})])
    totals = _apply_fresh(conn, shop, prog, fresh, now, plans or {}, members)
    for order in one_by_one:
        totals.add(_apply_known(conn, shop, prog, order, now))
    return totals


def _apply_known(conn: Connection, shop: ShopRef, prog: Programme, order: ImportOrder, now: datetime) -> ImportTotals:
    """One order through the webhook services, in the order its events happened."""
    earn_key = keys.earn(shop.id, order.facts.order_id)
    had = _earned(conn, earn_key)
    if order.paid:
        record_order_paid(conn, shop, RecordOrderPaid(order.facts, non_earning_total(order.payments, prog)), now)
    for refund in sorted(order.refunds, key=lambda r: (r.created_at, r.refund_id)):
        record_refund(conn, shop, refund, now)
    if order.cancelled_at is not None:
        record_order_cancelled(conn, shop, RecordOrderCancelled(order.facts, order.cancelled_at), now)
    row_id = conn.execute(select(orders.c.id).where(
        orders.c.shop_id == shop.id, orders.c.shopify_order_id == order.facts.order_id)).scalar()
    if row_id is not None:
        schedule.mature(conn, now, now, order_ids=[row_id])
    earned = _earned(conn, earn_key) if had is None else None
    return ImportTotals(1, int(earned is not None), earned or 0)


def _earned(conn: Connection, key: str) -> int | None:
    return conn.execute(select(le.c.pending).where(le.c.idempotency_key == key)).scalar()


ORDER_COLUMNS = ("shop_id", "shopify_order_id", "name", "customer_id", "source_name", "currency", "merchandise",
                 "non_earning_paid", "paid_at", "cancelled_at", "excluded_reason", "award", "campaigns",
                 "pending_until", "settings_version")
OrderRow = namedtuple("OrderRow", ORDER_COLUMNS)
"""An orders row of the set-based path, in column order (what owed_entries reads of an order, too)."""
REFUND_COLUMNS = ("shop_id", "shopify_refund_id", "created_at", "shopify_order_id", "merchandise")
ENTRY_COLUMNS = ("shop_id", "customer_id", "order_id", "kind", "pending", "available", "reason", "idempotency_key",
                 "effective_at", "created_at", "settings_version")
ZERO = Decimal(0)


def paid_order_row(shop: ShopRef, prog: Programme, facts, non_earning: Decimal, identified: bool,
                   cancelled_at: datetime | None = None, members: frozenset = frozenset(),
                   customer_multiplier=1) -> OrderRow:
    """The orders row of a paid order as record_order_paid writes it, with customer_id None (its record is
    resolved apart); `identified`: whether it has a customer record; `members`: the campaign collections'
    (collection id, product id) pairs among its products; `customer_multiplier`: the customer's VIP tier's
    (1: none, and for past orders of the history import, which earn under no tier). Pure."""
    reason, award = order_earning(facts, non_earning, prog, 0 if identified else None, members,
                                  customer_multiplier)
    return OrderRow(shop.id, facts.order_id, facts.name, None, facts.source_name, facts.currency,
                    money.stored(max(facts.merchandise, ZERO)), non_earning, facts.processed_at, cancelled_at,
                    reason, award.points, award.record, pending_until(facts.processed_at, prog),
                    shop.settings_version)


def plan_fresh(shop: ShopRef, prog: Programme, order: ImportOrder, now: datetime,
               identified: bool | None = None, members: frozenset = frozenset()) -> tuple:
    """What a paid order the app has never seen writes, but for its customer's record and its row id:
    (identified, orders row in ORDER_COLUMNS order with customer_id None, refunds rows, entries as (kind,
    pending, available, reason, key, effective_at)): plain tuples, cheap to hand from process to process.
    Its entries are planned by the function webhooks settle with (owed_entries), plus its maturity when
    its pending period is over by `now`. `identified`: whether it has a customer record
    (an id or an email), as resolving its customer will say; `members`: as paid_order_row. Pure, so the
    history reader makes it ahead."""
    facts = order.facts
    if identified is None:
        identified = facts.customer_id is not None or normalise_email(facts.email) is not None
    non_earning = non_earning_total(order.payments, prog) if order.payments else ZERO
    row = paid_order_row(shop, prog, facts, non_earning, identified, order.cancelled_at, members)
    order_refunds = ()
    if order.refunds:
        order_refunds = sorted((SimpleNamespace(shopify_refund_id=r.refund_id, created_at=r.created_at,
                                                merchandise=money.stored(max(r.merchandise, ZERO)))
                                for r in order.refunds), key=lambda r: (r.created_at, r.shopify_refund_id))
    refund_rows = tuple((shop.id, r.shopify_refund_id, r.created_at, row.shopify_order_id, r.merchandise)
                        for r in order_refunds)
    if not row.award or not identified:
        return identified, tuple(row), refund_rows, ()
    planned = owed_entries(shop.id, row, NO_HOLDING, order_refunds, prog, lambda: 0)
    pending = sum(e["pending"] for e in planned)
    if pending > 0 and row.pending_until <= now:
        planned.append(dict(kind="mature", key=keys.mature(shop.id, row.shopify_order_id),
                            pending=-pending, available=pending, effective_at=row.pending_until,
                            reason=schedule.maturity_reason(row.name or row.shopify_order_id, pending)))
    return identified, tuple(row), refund_rows, tuple((e["kind"], e["pending"], e["available"], e["reason"],
                                                       e["key"], e["effective_at"]) for e in planned)


def _apply_fresh(conn: Connection, shop: ShopRef, prog: Programme, batch: list[ImportOrder],
                 now: datetime, plans: dict, members: frozenset = frozenset()) -> ImportTotals:
    """Paid orders the app has never seen: one INSERT per table for the whole chunk, through the driver."""
    totals = ImportTotals(orders=len(batch))
    if not batch:
        return totals
    who = Customers(conn, shop.id, now)
    who.prefetch([(o.facts.customer_id, o.facts.email) for o in batch])
    rows, planned = [], []
    for order in batch:
        facts = order.facts
        customer_id = who.resolve(facts.customer_id, facts.email)
        plan = plans.get(facts.order_id)
        if plan is None or plan[0] != (customer_id is not None) or plan[1][-1] != shop.settings_version:
            plan = plan_fresh(shop, prog, order, now, identified=customer_id is not None, members=members)
        values = list(plan[1])
        values[3] = customer_id
        rows.append(OrderRow._make(values))
        planned.append(plan)
    record_order_profiles(conn, [(row.customer_id, order.facts) for order, row in zip(batch, rows)])
    rows_db.insert_rows(conn, orders, ORDER_COLUMNS, rows)  # no RETURNING: SQLite's executemany returns no rows
    ids = dict(rows_db.select_in(conn, "SELECT shopify_order_id, id FROM orders WHERE shop_id = {p} "
                                       "AND shopify_order_id {IN}", (shop.id,), [r.shopify_order_id for r in rows]))
    refund_rows, entries, synced = [], [], set()
    for order, row, (_, _, order_refunds, order_entries) in zip(batch, rows, planned):
        refund_rows += order_refunds
        if order.facts.discount_codes:
            vouchers.mark_used(conn, shop, order.facts.discount_codes, order.facts.name)
        if not order_entries:
            continue
        order_id = ids[row.shopify_order_id]
        entries += [(shop.id, row.customer_id, order_id, *e, now, row.settings_version) for e in order_entries]
        synced.add(row.customer_id)
        totals.credited, totals.points = totals.credited + 1, totals.points + row.award
    rows_db.insert_rows(conn, refunds, REFUND_COLUMNS, refund_rows)
    rows_db.insert_rows(conn, le, ENTRY_COLUMNS, entries)
    ledger.mark_many_for_sync(conn, shop.id, synced, now)
    return totals


class Customers:
    """resolve_customer for a chunk: the common cases (known id, known email, new person) from two
    look-ups for the whole chunk; any case that links or merges records goes to resolve_customer itself."""

    def __init__(self, conn: Connection, shop_id: int, now: datetime):
        self.conn, self.shop_id, self.now = conn, shop_id, now
        self.by_id, self.by_email, self.record = {}, {}, {}

    def prefetch(self, pairs) -> None:
        """Load the records of these (Shopify id, email) pairs, and create in one statement the people
        nobody knows yet whose id and email no other pair of the chunk contradicts."""
        pairs = {(i, normalise_email(e)) for i, e in pairs} - {(None, None)}
        self._load_matching({i for i, _ in pairs if i is not None}, {e for _, e in pairs if e})
        emails_of, ids_of = {}, {}
        for i, e in pairs:
            emails_of.setdefault(i, set()).add(e)
            ids_of.setdefault(e, set()).add(i)
        new = sorted(((i, e) for i, e in pairs
                      if (i is None or (i not in self.by_id and len(emails_of[i]) == 1))
                      and (e is None or (e not in self.by_email and len(ids_of[e]) == 1))),
                     key=lambda p: (p[0] or 0, p[1] or ""))
        if new:  # another worker's batch may be creating the same person: its row is waited for, then used
            rows_db.insert_new_rows(self.conn, customers, ("shop_id", "shopify_customer_id", "email", "created_at"),
                                    [(self.shop_id, i, e, self.now) for i, e in new], key=(), returning=("id",))
            self._load_matching({i for i, _ in new if i is not None}, {e for _, e in new if e})

    def resolve(self, shopify_id: int | None, email: str | None) -> int | None:
        """The customer record of this id and email, as resolve_customer would give it."""
        email = normalise_email(email)
        if shopify_id is None and email is None:
            return None
        by_id = self.by_id.get(shopify_id) if shopify_id is not None else None
        by_email = self.by_email.get(email) if email else None
        if by_id is None and by_email is None:
            new = self.conn.execute(insert(customers), dict(
                shop_id=self.shop_id, shopify_customer_id=shopify_id, email=email, created_at=self.now,
            )).inserted_primary_key[0]
            self._remember(new, shopify_id, email)
            return new
        if by_id is not None and by_email in (None, by_id) and (email is None or self.record[by_id][1] == email):
            return by_id
        if by_id is None and shopify_id is None:
            return by_email
        found = resolve_customer(self.conn, self.shop_id, shopify_id, email, self.now)
        self._load(customers.c.id.in_([i for i in (found, by_id, by_email) if i is not None]))
        return found

    def _load_matching(self, ids: set, emails: set) -> None:
        """Load the records with one of these Shopify ids or one of these emails, in id order."""
        query = "SELECT id, shopify_customer_id, email FROM customers WHERE shop_id = {p} AND %s {IN}"
        found = set(rows_db.select_in(self.conn, query % "shopify_customer_id", (self.shop_id,), ids))
        found.update(rows_db.select_in(self.conn, query % "email", (self.shop_id,), emails))
        for record_id, shopify_id, email in sorted(found):
            self._remember(record_id, shopify_id, email)

    def _load(self, condition) -> None:
        for row in self.conn.execute(select(customers.c.id, customers.c.shopify_customer_id, customers.c.email)
                                     .where(customers.c.shop_id == self.shop_id, condition)):
            self._remember(row.id, row.shopify_customer_id, row.email)

    def _remember(self, record_id: int, shopify_id: int | None, email: str | None) -> None:
        old = self.record.get(record_id)
        if old and old[1] and self.by_email.get(old[1]) == record_id and old[1] != email:
            del self.by_email[old[1]]
        self.record[record_id] = (shopify_id, email)
        if shopify_id is not None:
            self.by_id[shopify_id] = record_id
        if email:
            self.by_email[email] = record_id


@ledger.perks_once
def expire_gaps(conn: Connection, shop: ShopRef, now: datetime) -> int:
    """Expiry as of dates, for a shop whose points expire after months without a purchase: where history
    shows such a gap between two purchases (or since the last one), the points available then expire then.
    Idempotent (the live expiry's key: customer and last purchase)."""
    prog = programme(conn, shop.id, shop.settings_version)
    if prog.expiry != "after_last_purchase":
        return 0
    gaps, previous = [], (None, None)
    purchases = conn.execute(  # streamed: only the gaps are kept
        select(orders.c.customer_id, orders.c.paid_at).where(
            orders.c.shop_id == shop.id, orders.c.paid_at.is_not(None), orders.c.customer_id.is_not(None),
            or_(orders.c.excluded_reason.is_(None), orders.c.excluded_reason != TEST_ORDER))
        .order_by(orders.c.customer_id, orders.c.paid_at).execution_options(yield_per=5000))
    for customer_id, paid_at in purchases:
        paid_at = paid_at if paid_at.tzinfo else paid_at.replace(tzinfo=timezone.utc)
        if previous[0] == customer_id and points.add_months(previous[1], prog.expiry_months) <= paid_at:
            gaps.append((customer_id, previous[1]))
        elif previous[0] is not None and previous[0] != customer_id:
            gaps.append((previous[0], previous[1]))  # since the last purchase, if long enough ago
        previous = (customer_id, paid_at)
    if previous[0] is not None:
        gaps.append(previous)
    return sum(_expire_at(conn, shop, prog, customer_id, last, now) for customer_id, last in gaps)


def _expire_at(conn: Connection, shop: ShopRef, prog: Programme, customer_id: int, last: datetime,
               now: datetime) -> int:
    expires_at = points.add_months(last, prog.expiry_months)
    key = keys.expire(shop.id, customer_id, last)
    if expires_at > now or conn.execute(select(le.c.id).where(le.c.idempotency_key == key)).first():
        return 0
    order_ids = list(conn.execute(select(orders.c.id).where(orders.c.customer_id == customer_id)).scalars())
    schedule.mature(conn, expires_at, now, order_ids=order_ids)
    available = conn.execute(select(le.c.available).where(
        le.c.customer_id == customer_id, le.c.effective_at <= expires_at)).scalars().all()
    if sum(available) <= 0:
        return 0
    ledger.write_entry(conn, shop_id=shop.id, customer_id=customer_id, kind="expire", available=-sum(available),
                       key=key, effective_at=expires_at, now=now, settings_version=shop.settings_version,
                       reason=f"{sum(available)} points expired: no purchase since {last:%Y-%m-%d} "
                              f"({prog.expiry_months} months)")
    return 1
