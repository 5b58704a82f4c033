"""The points ledger: immutable entries with unique idempotency keys, and balances derived from them.

Every entry marks its customer changed, in the entry's transaction: their balance is queued for write-back
to Shopify (`customer_sync`, drained by jobs.sync) and their status perks are decided (granted or revoked
by loyalty.services.perks, with the email that announces new ones), so perks never wait on Shopify.
Paths that write many entries in one transaction decide perks once at the end (`perks_decided_once`).
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from db.rows import select_in, upsert_rows
from db.tables import customer_sync, ledger_entries as le
from loyalty.services import flow, perks
# The read side lives in loyalty.services.balances; callers know it as the ledger's.
from loyalty.services.balances import NOT_LIFETIME, Balance, balance, balances  # noqa: F401


@dataclass(frozen=True)
class OrderHolding:
    """What an order's entries add up to, and which keys it already has."""

    pending: int
    available: int
    keys: frozenset[str]

    @property
    def held(self) -> int:
        """All the points the order still gives its customer."""
        return self.pending + self.available


_INSERT_ENTRY = insert(le)
_ANNOUNCED = frozenset(("earn", "bonus", "adjust", "mature"))
"""Entry kinds that may make a Flow trigger (points earned, points available): only these pay its check."""
_ORDER_ENTRIES = select(le.c.idempotency_key, le.c.pending, le.c.available).where(le.c.order_id == bindparam("order_id"))


def write_entry(conn: Connection, *, shop_id: int, customer_id: int | None, kind: str, key: str,
                reason: str, effective_at: datetime, now: datetime, pending: int = 0, available: int = 0,
                order_id: int | None = None, settings_version: int | None = None,
                actor: str | None = None) -> None:
    """Append one entry. The UNIQUE key makes a replay fail loudly instead of crediting twice."""
    conn.execute(_INSERT_ENTRY, dict(
        shop_id=shop_id, customer_id=customer_id, order_id=order_id, kind=kind, pending=pending,
        available=available, reason=reason, idempotency_key=key, effective_at=effective_at,
        created_at=now, settings_version=settings_version, actor=actor,
    ))
    if customer_id is not None:
        mark_for_sync(conn, shop_id, customer_id, now)
        if kind in _ANNOUNCED:  # the Flow trigger it makes, in the entry's transaction (off unless the shop asks)
            flow.entries_written(conn, shop_id, [(customer_id, kind, key, pending, available, reason)], now)


def mark_for_sync(conn: Connection, shop_id: int, customer_id: int, now: datetime) -> None:
    """Queue the customer's balance for write-back to Shopify (one row per customer: bursts coalesce), and
    decide their perks (now, or at the end of the current `perks_decided_once` block)."""
    mark_many_for_sync(conn, shop_id, (customer_id,), now)


def mark_many_for_sync(conn: Connection, shop_id: int, customer_ids, now: datetime) -> None:
    """mark_for_sync for many customers in one statement (and their perks decided in one pass); inside a
    `perks_decided_once` block, marked with the block's others, in customer order, when it ends."""
    changed = dict.fromkeys(customer_ids, now)
    if _SYNC_DEFERRED in conn.info:
        conn.info[_SYNC_DEFERRED].setdefault(shop_id, {}).update(changed)
    else:
        _write_sync_marks(conn, shop_id, changed)
    _changed(conn, shop_id, changed, now)


def _write_sync_marks(conn: Connection, shop_id: int, changed: dict) -> None:
    """customer_sync rows for {customer: changed at}, in one upsert in customer order: every transaction
    touching these rows takes their locks in that order (the write-back's deletes too), so two workers'
    batches and a sync job cannot deadlock on them."""
    upsert_rows(conn, customer_sync, ("customer_id", "shop_id", "changed_at"),
                [(c, shop_id, changed[c]) for c in sorted(changed)], key="customer_id", update=("changed_at",))


_DEFERRED = "loyalty.ledger.perks_deferred"
"""conn.info key: customers whose perks wait for the end of a `perks_decided_once` block, by shop."""
_SYNC_DEFERRED = "loyalty.ledger.sync_deferred"
"""conn.info key: customers to mark for write-back at the end of the block ({shop: {customer: changed at}})."""


@contextmanager
def perks_decided_once(conn: Connection):
    """Within: the perks of customers whose ledger changes are decided once, when the block ends (one pass
    per shop, three queries for all its customers: loyalty.services.perks.decide), not after every entry. For transactions that write
    many entries (the inbox's batches, maturity and expiry runs, the history import); an inner block joins
    the outermost. An exception leaves nothing to decide: the transaction rolls back."""
    if _DEFERRED in conn.info:
        yield
        return
    waiting, to_sync = conn.info[_DEFERRED], conn.info[_SYNC_DEFERRED] = {}, {}
    try:
        yield
    finally:
        # conn.info outlives the transaction (it is the pooled connection's)
        conn.info.pop(_DEFERRED, None), conn.info.pop(_SYNC_DEFERRED, None)
    for shop_id, changed in to_sync.items():
        # Not a customer the block itself erased since (a redaction, a merge): its row would have gone with it.
        alive = {row[0] for row in select_in(conn, "SELECT id FROM customers WHERE shop_id = {p} AND id {IN}",
                                             (shop_id,), sorted(changed))}
        _write_sync_marks(conn, shop_id, {c: at for c, at in changed.items() if c in alive})
    for shop_id, changed in waiting.items():
        perks.decide(conn, shop_id, changed)


def perks_once(function):
    """Decorator of a service `function(conn, ...)` that writes many entries: `perks_decided_once` around it."""
    @functools.wraps(function)
    def decided_once(conn: Connection, *args, **kwargs):
        with perks_decided_once(conn):
            return function(conn, *args, **kwargs)
    return decided_once


def _changed(conn: Connection, shop_id: int, customer_ids, now: datetime) -> None:
    """The customers' ledger changed: decide their perks now, or at the end of the current
    `perks_decided_once` block."""
    waiting = conn.info.get(_DEFERRED)
    if waiting is None:
        perks.decide(conn, shop_id, dict.fromkeys(customer_ids, now))
    else:
        waiting.setdefault(shop_id, {}).update(dict.fromkeys(customer_ids, now))


def order_holding(conn: Connection, order_id: int) -> OrderHolding:
    """Sum of an order's entries and their keys."""
    rows = conn.execute(_ORDER_ENTRIES, {"order_id": order_id}).all()
    return OrderHolding(
        pending=sum(r.pending for r in rows),
        available=sum(r.available for r in rows),
        keys=frozenset(r.idempotency_key for r in rows),
    )


def entries_of(conn: Connection, customer_id: int) -> list:
    """The customer's entries, oldest first."""
    return conn.execute(
        select(le).where(le.c.customer_id == customer_id).order_by(le.c.effective_at, le.c.id)
    ).all()
