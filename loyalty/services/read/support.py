"""Read models for the merchant's admin: finding customers, a customer's whole record, the shop's vouchers.

Every query is bounded by the shop's id: one shop never sees another's customers or vouchers.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from db.tables import customers, ledger_entries as le, orders, vouchers
from loyalty.services.shops import ShopRef
from loyalty.services.read import support_desk
from loyalty.services.read.views import iso
from loyalty.defaults import SUPPORT_PAGE_SIZE as PAGE_SIZE


def customer_of_shop(conn: Connection, shop: ShopRef, customer_id: int):
    """The customer row if it belongs to the shop, else None (another shop's id is simply unknown here)."""
    return conn.execute(select(customers).where(customers.c.id == customer_id,
                                                customers.c.shop_id == shop.id)).first()


def voucher_dict(row) -> dict:
    """A voucher row, JSON-ready."""
    return {"code": row.code, "customer_id": row.customer_id, "kind": row.kind, "reward_key": row.reward_key,
            "points": row.points, "amount": str(row.amount), "status": row.status, "reason": row.reason,
            "ends_at": iso(row.ends_at), "created_at": iso(row.created_at),
            "cancellable": support_desk.cancellable(row)}


def list_vouchers(conn: Connection, shop: ShopRef, *, status: str | None = None, customer_id: int | None = None,
                  page: int = 1, per_page: int = PAGE_SIZE) -> tuple[list[dict], bool]:
    """The shop's vouchers, newest first, optionally of one status or customer; (page, has_more)."""
    query = select(vouchers, customers.c.email).select_from(
        vouchers.outerjoin(customers, customers.c.id == vouchers.c.customer_id)).where(vouchers.c.shop_id == shop.id)
    if status:
        query = query.where(vouchers.c.status == status)
    if customer_id is not None:
        query = query.where(vouchers.c.customer_id == customer_id)
    rows = conn.execute(query.order_by(vouchers.c.created_at.desc(), vouchers.c.id.desc())
                        .limit(per_page + 1).offset((max(page, 1) - 1) * per_page)).all()
    return [{**voucher_dict(r), "email": r.email} for r in rows[:per_page]], len(rows) > per_page


def customer_detail(conn: Connection, shop: ShopRef, customer, now) -> dict:
    """Everything the admin shows of one customer, bounded (loyalty.services.read.support_desk)."""
    return support_desk.desk(conn, shop, customer, now)
