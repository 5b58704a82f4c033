"""The payments of orders new to the app, applied set-based: an inbox batch's orders/paid for orders it
holds no other event of are planned in Python and written with a handful of statements for all of them
(the history import's way, `loyalty.services.history`), instead of about nine per order.

What is written is what `orders.record_order_paid` would write, event by event: the same order row (its
customer resolved as `resolve_customer` does), the same entries planned by the same function
(`orders.owed_entries`, so the same idempotency keys), the same vouchers marked used, the same customers
queued for write-back. An order counts as new only when the INSERT of its row creates it (the UNIQUE key
judged against every row committed or in flight, as `orders._locked_order` does): no refund or
cancellation can then be recorded for it (they reference the row), and another worker's event of the same
order waits for this transaction. Orders whose row exists are left to the per-event path.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Connection

from db import rows as rows_db
from db.tables import ledger_entries as le, orders
from loyalty.domain.commands import RecordOrderPaid
from loyalty.services import collections, flow, ledger, tiers, vouchers
from loyalty.services.customers import record_order_profiles
from loyalty.services.history import ENTRY_COLUMNS, NO_HOLDING, ORDER_COLUMNS, Customers, paid_order_row
from loyalty.services.orders import owed_entries
from loyalty.services.shops import ShopRef, programme

ORDER_KEY = ("shop_id", "shopify_order_id")


def record_new_orders_paid(conn: Connection, shop: ShopRef, commands: list[RecordOrderPaid],
                           now: datetime, buyers: list[tuple] = ()) -> set[int]:
    """Record these payments (one per order) of orders new to the app, set-based; returns the Shopify ids
    of the orders written. A payment whose order's row exists already is not applied: the caller applies
    it event by event. Raises as the per-event path would (a refusal, a constraint): the caller then
    applies the whole batch event by event.

    `buyers`: (Shopify id, email) of the batch's other payments, applied event by event after this: the
    people new to the app among them are created here too, in the same sorted statement, so that every
    batch creates its customers in one order (two workers' batches creating the same two people in
    opposite orders would deadlock on the UNIQUE indexes)."""
    if not commands and not buyers:
        return set()
    in_batch_order = commands
    commands = sorted(commands, key=lambda c: c.facts.order_id)  # rows locked in one order by every worker
    who = Customers(conn, shop.id, now)
    who.prefetch([(c.facts.customer_id, c.facts.email) for c in commands] + list(buyers))
    if not commands:
        return set()
    prog = programme(conn, shop.id, shop.settings_version)
    if prog.earning.earning_cap is not None:
        return set()  # an earning cap counts each customer's awards in turn: known_orders plans them so
    members = collections.members(conn, shop.id, prog, [c.facts for c in commands])  # one query for the batch
    resolved = [(cmd, who.resolve(cmd.facts.customer_id, cmd.facts.email)) for cmd in commands]
    record_order_profiles(conn, [(customer_id, cmd.facts) for cmd, customer_id in resolved])
    multipliers = (tiers.tier_multipliers(conn, shop.id, [c for _, c in resolved if c is not None])
                   if prog.tiers.enabled else {})  # one query for the batch's customers
    rows = []
    for cmd, customer_id in resolved:
        row = paid_order_row(shop, prog, cmd.facts, cmd.non_earning_paid or Decimal(0), customer_id is not None,
                             members=members, customer_multiplier=multipliers.get(customer_id, 1))
        rows.append(row._replace(customer_id=customer_id))
    created = dict(rows_db.insert_new_rows(conn, orders, ORDER_COLUMNS, rows, key=ORDER_KEY,
                                           returning=("shopify_order_id", "id")))
    vouchers.mark_many_used(conn, shop, [(c.facts.discount_codes, c.facts.name) for c in in_batch_order
                                         if c.facts.discount_codes and c.facts.order_id in created])
    entries, synced = [], set()
    for row in rows:
        if row.shopify_order_id not in created or not row.award or row.customer_id is None:
            continue
        entries += [(shop.id, row.customer_id, created[row.shopify_order_id], e["kind"], e["pending"],
                     e["available"], e["reason"], e["key"], e["effective_at"], now, row.settings_version)
                    for e in owed_entries(shop.id, row, NO_HOLDING, (), prog, lambda: 0)]
        synced.add(row.customer_id)
    rows_db.insert_rows(conn, le, ENTRY_COLUMNS, entries)
    ledger.mark_many_for_sync(conn, shop.id, synced, now)
    flow.entries_written(conn, shop.id, [(e[1], e[3], e[7], e[4], e[5], e[6]) for e in entries], now)
    return set(created)
