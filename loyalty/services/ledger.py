"""The points ledger: immutable entries with unique idempotency keys, and balances derived from them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, insert, select
from sqlalchemy.engine import Connection

from db.rows import upsert_rows
from db.tables import customer_sync, ledger_entries as le

NOT_LIFETIME = ("redeem", "expire", "recredit")
"""Kinds that move points without changing what the customer has earned over their lifetime."""


@dataclass(frozen=True)
class Balance:
    """A customer's points, derived from their entries."""

    available: int
    pending: int
    lifetime: int


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
_ORDER_ENTRIES = select(le.c.idempotency_key, le.c.pending, le.c.available).where(le.c.order_id == bindparam("order_id"))
_MARK_FOR_SYNC: dict = {}
"""Per dialect: the customer_sync upsert, built once (it is run for every entry)."""


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


def mark_for_sync(conn: Connection, shop_id: int, customer_id: int, now: datetime) -> None:
    """Queue the customer's balance for write-back to Shopify (one row per customer: bursts coalesce)."""
    statement = _MARK_FOR_SYNC.get(conn.dialect.name)
    if statement is None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        statement = upsert(customer_sync)
        statement = _MARK_FOR_SYNC[conn.dialect.name] = statement.on_conflict_do_update(
            index_elements=[customer_sync.c.customer_id], set_={"changed_at": statement.excluded.changed_at})
    conn.execute(statement, {"customer_id": customer_id, "shop_id": shop_id, "changed_at": now})


def mark_many_for_sync(conn: Connection, shop_id: int, customer_ids, now: datetime) -> None:
    """mark_for_sync for many customers in one statement."""
    upsert_rows(conn, customer_sync, ("customer_id", "shop_id", "changed_at"),
                [(c, shop_id, now) for c in sorted(set(customer_ids))], key="customer_id", update=("changed_at",))


def order_holding(conn: Connection, order_id: int) -> OrderHolding:
    """Sum of an order's entries and their keys."""
    rows = conn.execute(_ORDER_ENTRIES, {"order_id": order_id}).all()
    return OrderHolding(
        pending=sum(r.pending for r in rows),
        available=sum(r.available for r in rows),
        keys=frozenset(r.idempotency_key for r in rows),
    )


_SUMS = (func.coalesce(func.sum(le.c.available), 0), func.coalesce(func.sum(le.c.pending), 0),
         func.coalesce(func.sum(case((le.c.kind.in_(NOT_LIFETIME), 0), else_=le.c.pending + le.c.available)), 0))
_BALANCE = select(*_SUMS).where(le.c.customer_id == bindparam("customer_id"))
_BALANCES = (select(le.c.customer_id, *_SUMS).where(le.c.customer_id.in_(bindparam("ids", expanding=True)))
             .group_by(le.c.customer_id))


def balance(conn: Connection, customer_id: int) -> Balance:
    """The customer's available, pending and lifetime points, summed from the ledger."""
    row = conn.execute(_BALANCE, {"customer_id": customer_id}).one()
    return Balance(available=int(row[0]), pending=int(row[1]), lifetime=int(row[2]))


def balances(conn: Connection, customer_ids: list[int]) -> dict[int, Balance]:
    """`balance` of several customers in one query (a customer without entries has zeros)."""
    found = {row[0]: Balance(available=int(row[1]), pending=int(row[2]), lifetime=int(row[3]))
             for row in conn.execute(_BALANCES, {"ids": list(customer_ids)})} if customer_ids else {}
    return {cid: found.get(cid, Balance(0, 0, 0)) for cid in customer_ids}


def entries_of(conn: Connection, customer_id: int) -> list:
    """The customer's entries, oldest first."""
    return conn.execute(
        select(le).where(le.c.customer_id == customer_id).order_by(le.c.effective_at, le.c.id)
    ).all()
