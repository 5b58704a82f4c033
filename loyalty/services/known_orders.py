"""The rest of an inbox batch's order events applied set-based: payments, refunds and cancellations of
orders whose row exists (a repeated payment, an order created empty by an earlier refund, a cancellation)
or that the batch holds several events of. Planned in Python, written with a few statements per shop and
batch instead of six to nine per event (`loyalty.services.new_orders` does the payments of orders new to
the app).

What is written is what `loyalty.services.orders` writes event by event, in the batch's order: the same
order rows (customers resolved as `resolve_customer` does), refunds recorded once by their key, entries
planned by the same function (`orders.owed_entries`) from each order's state as each event leaves it,
with a `floor` programme seeing the customer's balance as the entries planned before it change it; the
same vouchers marked used and customers queued for write-back (perks decided with them).

Locks, as `orders._locked_order` asks: every order row of the batch is created (when missing) and locked
by one statement, in Shopify id order (an upsert whose conflict branch locks the existing row), before
anything of those orders is read, so another worker's events of the same orders wait for this
transaction and no two batches take the same rows in opposite orders.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from db import rows as rows_db
from db.tables import ledger_entries as le, orders, refunds
from loyalty.domain.commands import RecordOrderCancelled, RecordOrderPaid, RecordRefund
from loyalty.domain.maturity import pending_until
from loyalty.services import flow, ledger, vouchers
from loyalty.services.customers import record_order_profiles
from loyalty.services.history import ENTRY_COLUMNS, Customers
from loyalty.services.order_awards import OrderAwards
from loyalty.services.orders import owed_entries
from loyalty.services.shops import ShopRef, programme

ORDER_EVENTS = (RecordOrderPaid, RecordOrderCancelled, RecordRefund)
_WRITTEN = ("name", "customer_id", "source_name", "currency", "merchandise", "non_earning_paid", "paid_at",
            "cancelled_at", "excluded_reason", "award", "pending_until", "settings_version", "campaigns", "capped")
"""The columns an order event changes (all written back for every changed order: one statement)."""
_ORDERS = select(orders).where(orders.c.shop_id == bindparam("shop_id"),
                               orders.c.shopify_order_id.in_(bindparam("order_ids", expanding=True)))
_UPDATE_ORDER = update(orders).where(orders.c.id == bindparam("b_id")).values(
    {c: bindparam(f"b_{c}") for c in _WRITTEN})


def order_of(cmd) -> int:
    """The Shopify id of the order an order event is about."""
    return cmd.order_id if isinstance(cmd, RecordRefund) else cmd.facts.order_id


def record_order_events(conn: Connection, shop: ShopRef, commands: list, now: datetime) -> None:
    """Apply these order events of one shop (RecordOrderPaid, RecordOrderCancelled, RecordRefund), in this
    order, as event by event. Raises as the per-event path would (a constraint, a refusal): the caller then
    applies the batch event by event."""
    if not commands:
        return
    rows = _lock_orders(conn, shop, sorted({order_of(c) for c in commands}))
    visible_from = _record_refunds(conn, shop, [(i, c) for i, c in enumerate(commands) if isinstance(c, RecordRefund)])
    refunds_of = _refunds_of(conn, shop, rows)
    plan = _Plan(conn, shop, rows, now, [c.facts for c in commands if isinstance(c, RecordOrderPaid)])
    who, profiles = None, []
    for index, cmd in enumerate(commands):
        row = rows[order_of(cmd)]
        if isinstance(cmd, RecordOrderPaid) and row["paid_at"] is None:
            if who is None:
                who = Customers(conn, shop.id, now)
                who.prefetch([(c.facts.customer_id, c.facts.email) for c in commands if isinstance(c, RecordOrderPaid)
                              and rows[c.facts.order_id]["paid_at"] is None])
            buyer = who.resolve(cmd.facts.customer_id, cmd.facts.email)
            profiles.append((buyer, cmd.facts))
            plan.paid(row, cmd, buyer)
        elif isinstance(cmd, RecordOrderCancelled) and row["cancelled_at"] is None:
            plan.changed(row, cancelled_at=cmd.cancelled_at)
        seen = [r for r in refunds_of.get(row["shopify_order_id"], ())
                if visible_from.get(r.shopify_refund_id, -1) <= index]
        plan.settle(row, seen)
    record_order_profiles(conn, profiles)
    plan.write()


def _lock_orders(conn: Connection, shop: ShopRef, order_ids: list[int]) -> dict[int, dict]:
    """The rows of these orders (created empty when missing) by Shopify id, locked until the transaction
    ends: one statement in id order (an existing row is locked by a conflict that changes nothing, after
    any transaction holding it commits; an absent order's row is created), then read as the per-event
    path reads it."""
    rows_db.insert_new_rows(conn, orders, ("shop_id", "shopify_order_id"), [(shop.id, i) for i in order_ids],
                            key=("shop_id", "shopify_order_id"), returning=("id",), lock_existing=True)
    return {row.shopify_order_id: dict(row._mapping)
            for row in conn.execute(_ORDERS, {"shop_id": shop.id, "order_ids": order_ids})}


def _record_refunds(conn: Connection, shop: ShopRef, events: list[tuple[int, RecordRefund]]) -> dict[int, int]:
    """Insert the batch's refunds not recorded yet (one statement, in refund id order); returns, of those
    this batch recorded, the index of the event that recorded each (settling sees it from there on)."""
    first: dict[int, tuple[int, RecordRefund]] = {}
    for index, cmd in events:
        first.setdefault(cmd.refund_id, (index, cmd))
    rows = [(shop.id, cmd.refund_id, cmd.order_id, max(cmd.merchandise, Decimal(0)), cmd.created_at)
            for _, (_, cmd) in sorted(first.items())]
    new = rows_db.insert_new_rows(conn, refunds, ("shop_id", "shopify_refund_id", "shopify_order_id", "merchandise",
                                                  "created_at"), rows, key=("shop_id", "shopify_refund_id"),
                                  returning=("shopify_refund_id",))
    return {refund_id: first[refund_id][0] for (refund_id,) in new}


def _refunds_of(conn: Connection, shop: ShopRef, rows: dict[int, dict]) -> dict[int, list]:
    """The refunds of these orders, as the per-event path reads them (oldest first), by Shopify order id."""
    found: dict[int, list] = {}
    for refund in conn.execute(select(refunds).where(
            refunds.c.shop_id == shop.id, refunds.c.shopify_order_id.in_(list(rows)))
            .order_by(refunds.c.created_at, refunds.c.shopify_refund_id)):
        found.setdefault(refund.shopify_order_id, []).append(refund)
    return found


class _Plan:
    """The orders' state as the batch's events leave it, and what that writes."""

    def __init__(self, conn: Connection, shop: ShopRef, rows: dict[int, dict], now: datetime, paid: list):
        self.conn, self.shop, self.now = conn, shop, now
        self.paid_facts, self.awards = paid, None
        self.holding: dict[int, list] = {row["id"]: [0, 0, set()] for row in rows.values()}
        for order_id, key, pending, available in rows_db.select_in(
                conn, "SELECT order_id, idempotency_key, pending, available FROM ledger_entries "
                      "WHERE order_id {IN}", (), sorted(self.holding)):
            held = self.holding[order_id]
            held[0], held[1] = held[0] + pending, held[1] + available
            held[2].add(key)
        self.updated: dict[int, dict] = {}
        self.entries: list[tuple] = []
        self.voucher_uses: list[tuple] = []
        self.available: dict[int, int] = {}  # customers' available balances before the batch, read when asked
        self.planned: dict[int, int] = {}  # available points of the entries planned since, by customer

    def paid(self, row: dict, cmd: RecordOrderPaid, customer_id: int | None) -> None:
        """orders/paid of an order not paid yet: what `orders.record_order_paid` writes into its row."""
        facts, prog = cmd.facts, programme(self.conn, self.shop.id, self.shop.settings_version)
        non_earning = cmd.non_earning_paid or Decimal(0)
        if self.awards is None:  # one for the batch's payments (they share the programme version)
            self.awards = OrderAwards(self.conn, self.shop.id, prog, self.paid_facts, self.now)
        self.changed(row, name=facts.name, customer_id=customer_id, source_name=facts.source_name,
                     currency=facts.currency, merchandise=max(facts.merchandise, Decimal(0)),
                     non_earning_paid=non_earning, paid_at=facts.processed_at,
                     **self.awards.of(facts, non_earning, customer_id),
                     pending_until=pending_until(facts.processed_at, prog),
                     settings_version=self.shop.settings_version)
        if facts.discount_codes:
            self.voucher_uses.append((facts.discount_codes, facts.name))

    def changed(self, row: dict, **values) -> None:
        row.update(values)
        self.updated[row["id"]] = row

    def settle(self, row: dict, order_refunds: list) -> None:
        """The entries the order's state calls for beyond those planned or held (orders.settle_order)."""
        customer_id = row["customer_id"]
        if not row["award"] or customer_id is None:
            return
        held = self.holding[row["id"]]
        prog = programme(self.conn, self.shop.id, row["settings_version"])
        owed = owed_entries(self.shop.id, SimpleNamespace(**row), ledger.OrderHolding(held[0], held[1], frozenset(held[2])),
                            order_refunds, prog, lambda: self._available(customer_id))
        for e in owed:
            self.entries.append((self.shop.id, customer_id, row["id"], e["kind"], e["pending"], e["available"],
                                 e["reason"], e["key"], e["effective_at"], self.now, row["settings_version"]))
            held[0], held[1] = held[0] + e["pending"], held[1] + e["available"]
            held[2].add(e["key"])
            self.planned[customer_id] = self.planned.get(customer_id, 0) + e["available"]

    def _available(self, customer_id: int) -> int:
        """The customer's available balance as the entries planned so far leave it (a `floor` programme's
        question: read at most once per customer, and only when asked)."""
        if customer_id not in self.available:
            self.available[customer_id] = ledger.balance(self.conn, customer_id).available
        return self.available[customer_id] + self.planned.get(customer_id, 0)

    def write(self) -> None:
        """Orders changed (one executemany, in id order), vouchers used, entries (one statement), and
        their customers marked for write-back with their perks decided."""
        if self.updated:
            self.conn.execute(_UPDATE_ORDER, [{"b_id": i, **{f"b_{c}": row[c] for c in _WRITTEN}}
                                              for i, row in sorted(self.updated.items())])
        vouchers.mark_many_used(self.conn, self.shop, self.voucher_uses)
        rows_db.insert_rows(self.conn, le, ENTRY_COLUMNS, self.entries)
        ledger.mark_many_for_sync(self.conn, self.shop.id, {e[1] for e in self.entries}, self.now)
        flow.entries_written(self.conn, self.shop.id, [(e[1], e[3], e[7], e[4], e[5], e[6]) for e in self.entries],
                             self.now)
