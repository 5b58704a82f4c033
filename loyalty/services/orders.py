"""Order events -> order state -> ledger entries.

Each order's latest known state (paid, cancelled, refunds) is kept, and the entries it is owed are derived
from that state; only the missing ones are written. Duplicated, late or out-of-order events therefore give
the same balances as one clean delivery, and a replay writes nothing.
"""
from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from db.tables import orders, refunds
from loyalty.domain.maturity import pending_until
from loyalty.services import ledger, vouchers
from loyalty.domain import keys, money, points
from loyalty.domain.campaigns import read_record
from loyalty.domain.commands import RecordOrderCancelled, RecordOrderPaid, RecordRefund
from loyalty.services.customers import record_order_profiles, resolve_customer
from loyalty.services.order_awards import OrderAwards
from loyalty.domain.programme import Programme
from loyalty.services.shops import ShopRef, programme


# Statements of the hot path, built once: building a Core statement costs more than running it on SQLite.
_ORDER_BY_SHOPIFY_ID = select(orders).where(orders.c.shop_id == bindparam("shop_id"),
                                            orders.c.shopify_order_id == bindparam("shopify_order_id"))
_ORDER_BY_ID = select(orders).where(orders.c.id == bindparam("order_id"))
_REFUNDS_OF_ORDER = select(refunds).where(
    refunds.c.shop_id == bindparam("shop_id"), refunds.c.shopify_order_id == bindparam("shopify_order_id"),
).order_by(refunds.c.created_at, refunds.c.shopify_refund_id)
_LOCK_ORDER = _ORDER_BY_SHOPIFY_ID.with_for_update()
_NO_ENTRIES = ledger.OrderHolding(pending=0, available=0, keys=frozenset())


class BatchHints:
    """Which of a batch's orders had no refund when the batch began, learnt in one query instead of one per
    event. On PostgreSQL another worker may commit a refund after that query, so the hint is trusted only
    for an order whose row the event itself has just created (see `_locked_order`): a refund references
    its order's row (a foreign key), so none can have been committed meanwhile, and a later one waits for
    the row and then settles against the payment. Refunds the batch records itself remove their order from
    the hint (also when a savepoint rolls the event back: the hint never claims more)."""

    def __init__(self, orders_without_refunds: set):
        self.orders_without_refunds = orders_without_refunds

    @classmethod
    def read(cls, conn: Connection, wanted: set[tuple[int, int]]) -> "BatchHints":
        """Hints for these (shop id, Shopify order id) pairs."""
        refunded = set()
        by_shop: dict[int, list[int]] = {}
        for shop_id, order_id in wanted:
            by_shop.setdefault(shop_id, []).append(order_id)
        for shop_id, ids in by_shop.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                refunded.update((shop_id, i) for i in conn.execute(select(refunds.c.shopify_order_id).where(
                    refunds.c.shop_id == shop_id, refunds.c.shopify_order_id.in_(chunk))).scalars())
        return cls(wanted - refunded)

    def no_refunds(self, shop_id: int, shopify_order_id: int) -> bool:
        """True when the order had no refund when the batch began and the batch has recorded none since."""
        return (shop_id, shopify_order_id) in self.orders_without_refunds


class _Order(dict):
    """An order row as this transaction has just written it, read like a database row."""

    __getattr__ = dict.__getitem__


def record_order_paid(conn: Connection, shop: ShopRef, cmd: RecordOrderPaid, now: datetime,
                      hints: BatchHints | None = None) -> None:
    """orders/paid: fix what the order earns (with the programme in force now) and settle it."""
    facts = cmd.facts
    row, created = _locked_order(conn, shop.id, facts.order_id)
    if row.paid_at is not None:  # a repeat of a payment we already recorded
        return settle_order(conn, shop, row.id, now, hints, written=row)
    prog = programme(conn, shop.id, shop.settings_version)
    customer_id = resolve_customer(conn, shop.id, facts.customer_id, facts.email, now)
    record_order_profiles(conn, [(customer_id, facts)])
    non_earning = cmd.non_earning_paid or Decimal(0)
    values = dict(
        name=facts.name, customer_id=customer_id, source_name=facts.source_name, currency=facts.currency,
        merchandise=max(facts.merchandise, Decimal(0)), non_earning_paid=non_earning,
        paid_at=facts.processed_at, pending_until=pending_until(facts.processed_at, prog),
        settings_version=shop.settings_version,
        **OrderAwards(conn, shop.id, prog, [facts], now).of(facts, non_earning, customer_id),
    )
    order_id = _update_order(conn, row, values)
    vouchers.mark_used(conn, shop, facts.discount_codes, facts.name)
    settle_order(conn, shop, order_id, now, hints, written=_Order({**row._mapping, **values}), created=created)


def record_order_cancelled(conn: Connection, shop: ShopRef, cmd: RecordOrderCancelled, now: datetime,
                           hints: BatchHints | None = None) -> None:
    """orders/cancelled: the order will keep nothing."""
    row, _ = _locked_order(conn, shop.id, cmd.facts.order_id)
    if row.cancelled_at is not None:
        return settle_order(conn, shop, row.id, now, hints, written=row)
    order_id = _update_order(conn, row, dict(cancelled_at=cmd.cancelled_at))
    settle_order(conn, shop, order_id, now, hints, written=_Order({**row._mapping, "cancelled_at": cmd.cancelled_at}))


def record_refund(conn: Connection, shop: ShopRef, cmd: RecordRefund, now: datetime,
                  hints: BatchHints | None = None) -> None:
    """refunds/create: remember the refund (even before its order is known: the order's row is created
    empty, the refund references it) and settle the order."""
    row, _ = _locked_order(conn, shop.id, cmd.order_id)
    record_once = _insert_unless_present(conn.dialect.name, refunds, "shop_id", "shopify_refund_id")
    new = conn.execute(record_once, dict(
        shop_id=shop.id, shopify_refund_id=cmd.refund_id, shopify_order_id=cmd.order_id,
        merchandise=max(cmd.merchandise, Decimal(0)), created_at=cmd.created_at)).rowcount == 1
    if new and hints:
        hints.orders_without_refunds.discard((shop.id, cmd.order_id))
    settle_order(conn, shop, row.id, now, hints, written=row)  # the row, locked: this event changed none of it


def settle_order(conn: Connection, shop: ShopRef, order_id: int, now: datetime, hints: BatchHints | None = None,
                 written: _Order | None = None, created: bool = False) -> None:
    """Write the entries the order's state calls for and that it does not have yet. `written`: the order's
    row as this event has just written it (not read back); `created`: this event's `_locked_order` created
    the row, so the order has no entry yet and `hints` tell its refunds truly."""
    order = written or conn.execute(_ORDER_BY_ID, {"order_id": order_id}).one()
    if not order.award or order.customer_id is None:
        return
    holding = _NO_ENTRIES if created else ledger.order_holding(conn, order.id)
    known_unrefunded = created and hints is not None and hints.no_refunds(shop.id, order.shopify_order_id)
    order_refunds = [] if known_unrefunded else conn.execute(
        _REFUNDS_OF_ORDER, {"shop_id": shop.id, "shopify_order_id": order.shopify_order_id}).all()
    prog = programme(conn, shop.id, order.settings_version)
    available_now = lambda: ledger.balance(conn, order.customer_id).available  # noqa: E731
    for entry in owed_entries(shop.id, order, holding, order_refunds, prog, available_now):
        ledger.write_entry(conn, shop_id=shop.id, customer_id=order.customer_id, order_id=order.id, now=now,
                           settings_version=order.settings_version, **entry)


def owed_entries(shop_id: int, order, holding: ledger.OrderHolding, order_refunds, prog: Programme,
                 available_now) -> list[dict]:
    """The entries (kind, key, pending, available, effective_at, reason) an order's state calls for beyond
    those it holds: its award, a claw-back per refund (cumulative, pending points first), a void when
    cancelled. Pure but for `available_now()`, asked only by a `floor` programme taking from available points.
    """
    owed = []
    pending, available = holding.pending, holding.available
    earn_key = keys.earn(shop_id, order.shopify_order_id)
    label = order.name or order.shopify_order_id
    if earn_key not in holding.keys:
        capped = getattr(order, "capped", None)  # the earning cap's share (loyalty.services.earning_caps)
        owed.append(dict(kind="earn", key=earn_key, pending=order.award, available=0,
                         reason=f"order {label}: {order.award} points{_campaigns_note(order.campaigns)} "
                                f"(pending until {order.pending_until:%Y-%m-%d})"
                                + (f" (earning cap: {capped} points over)" if capped else ""),
                         effective_at=order.paid_at))
        pending += order.award
    void_key = keys.void(shop_id, order.shopify_order_id)
    if void_key in holding.keys:
        return owed
    refund_key = lambda r: keys.claw_back(shop_id, r.shopify_refund_id)  # noqa: E731
    # The customer's balance as it will be once the entries planned so far are written.
    balance_then = lambda: available_now() + (available - holding.available)  # noqa: E731
    refunded = sum((r.merchandise for r in order_refunds if refund_key(r) in holding.keys), Decimal(0))
    for refund in order_refunds:
        if refund_key(refund) in holding.keys:
            continue
        refunded += refund.merchandise
        target = points.kept_after_refunds(order.award, order.merchandise, refunded)
        taken = _take(prog, pending + available - target, pending, balance_then)
        if taken != (0, 0):
            owed.append(dict(kind="claw_back", key=refund_key(refund), pending=-taken[0], available=-taken[1],
                             effective_at=refund.created_at,
                             reason=f"refund of {money.label(refund.merchandise, order.currency)} "
                                    f"on order {label}"))
            pending, available = pending - taken[0], available - taken[1]
    if order.cancelled_at is not None:
        taken = _take(prog, pending + available, pending, balance_then)
        if taken != (0, 0):
            owed.append(dict(kind="void", key=void_key, pending=-taken[0], available=-taken[1],
                             effective_at=order.cancelled_at, reason=f"order {label} cancelled"))
    return owed


def _campaigns_note(record: str | None) -> str:
    """What the earn entry's reason says of the campaigns that added to the award ("" when none)."""
    applied = read_record(record)
    if not applied:
        return ""
    return " incl. campaigns " + ", ".join(f"{key} +{added}" for key, added in applied)


def _take(prog: Programme, amount: int, pending: int, available_now) -> tuple[int, int]:
    """How much to take back from (pending, available); a `floor` programme never goes below zero."""
    if amount <= 0:
        return 0, 0
    from_pending, from_available = points.split_take(amount, pending)
    if from_available and prog.negative_balance == "floor":
        from_available = min(from_available, max(available_now(), 0))
    return from_pending, from_available


def _locked_order(conn: Connection, shop_id: int, shopify_order_id: int) -> tuple:
    """(the order's row - created empty when the order is not known yet - locked until the transaction
    ends, whether this call created it).

    Every event of one order is applied by one transaction at a time: two workers could otherwise each
    miss the other's uncommitted payment or refund (the refund then never clawed back). A second worker
    waits here for the first one's commit, then reads what it wrote. "Created" comes from the INSERT
    itself, judged by the UNIQUE key against every row committed or in flight, not from anything read
    earlier: only then does it prove that no other transaction has recorded anything of the order."""
    create = _insert_unless_present(conn.dialect.name, orders, "shop_id", "shopify_order_id")
    params = {"shop_id": shop_id, "shopify_order_id": shopify_order_id}
    created = conn.execute(create, params).rowcount == 1
    return conn.execute(_LOCK_ORDER, params).one(), created


@functools.lru_cache(maxsize=None)
def _insert_unless_present(dialect: str, table, *key: str):
    """INSERT into `table` unless a row with this UNIQUE `key` (column names) exists, built once per dialect
    and table (it runs for every event: building a Core statement costs more than running it on SQLite)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    return upsert(table).on_conflict_do_nothing(index_elements=list(key))


def _update_order(conn: Connection, row, values: dict) -> int:
    conn.execute(update(orders).where(orders.c.id == row.id).values(**values))
    return row.id
