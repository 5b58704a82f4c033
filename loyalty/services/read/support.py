"""Read models for the merchant's admin: finding customers, a customer's whole record, the shop's vouchers.

Every query is bounded by the shop's id: one shop never sees another's customers or vouchers.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from db.tables import customers, ledger_entries as le, orders, vouchers
from loyalty.services.adjustments import adjustments
from loyalty.services.shops import ShopRef
from loyalty.services.read.views import customer_summary, iso
from loyalty.defaults import SUPPORT_PAGE_SIZE as PAGE_SIZE


def customer_of_shop(conn: Connection, shop: ShopRef, customer_id: int):
    """The customer row if it belongs to the shop, else None (another shop's id is simply unknown here)."""
    return conn.execute(select(customers).where(customers.c.id == customer_id,
                                                customers.c.shop_id == shop.id)).first()


def pending_lots(conn: Connection, customer_id: int) -> list[dict]:
    """Points still pending, per order, with the date they become available."""
    held = func.sum(le.c.pending).label("points")
    return [{"order": r.shopify_order_id, "name": r.name, "points": int(r.points),
             "pending_until": iso(r.pending_until)}
            for r in conn.execute(select(orders.c.shopify_order_id, orders.c.name, orders.c.pending_until, held)
                                  .join(le, le.c.order_id == orders.c.id)
                                  .where(orders.c.customer_id == customer_id)
                                  .group_by(orders.c.id, orders.c.shopify_order_id, orders.c.name,
                                            orders.c.pending_until)
                                  .having(held > 0).order_by(orders.c.pending_until))]


def voucher_dict(row) -> dict:
    """A voucher row, JSON-ready."""
    return {"code": row.code, "customer_id": row.customer_id, "kind": row.kind, "reward_key": row.reward_key,
            "points": row.points, "amount": str(row.amount), "status": row.status, "reason": row.reason,
            "ends_at": iso(row.ends_at), "created_at": iso(row.created_at),
            # What loyalty.services.use_cases.vouchers.cancel_voucher accepts: an issued gift card or a recorded donation cannot come back.
            "cancellable": row.status in ("creating", "active") and row.kind in ("discount", "free_shipping")}


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


def customer_detail(conn: Connection, shop: ShopRef, customer) -> dict:
    """Everything the admin shows of one customer: balances, pending points and when they become
    available, the full ledger with reasons (and who made each manual adjustment), and vouchers."""
    summary = customer_summary(conn, shop, customer)
    actors = {r.id: r.actor for r in adjustments(conn, shop, customer_id=customer.id, limit=10_000)}
    entries = [dict(e) for e in summary["entries"]]
    ids = conn.execute(select(le.c.id).where(le.c.customer_id == customer.id)
                       .order_by(le.c.effective_at, le.c.id)).scalars().all()
    for entry, entry_id in zip(entries, ids):
        entry["id"] = entry_id
        entry["actor"] = actors.get(entry_id)
    vouchers_of, _ = list_vouchers(conn, shop, customer_id=customer.id, per_page=500)
    return {**summary, "entries": entries, "customer": {"id": customer.id, **summary["customer"]},
            "pending_lots": pending_lots(conn, customer.id), "vouchers": vouchers_of}
