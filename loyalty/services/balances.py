"""The ledger's read side: a customer's balance, summed from their entries (loyalty.services.ledger writes
them). Apart from the writer so that what the writer calls (perks, and the emails they record) can read
balances too."""
from __future__ import annotations

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.engine import Connection

from db.tables import ledger_entries as le
from loyalty.domain.standing import Balance

NOT_LIFETIME = ("redeem", "expire", "recredit")
"""Kinds that move points without changing what the customer has earned over their lifetime."""

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
