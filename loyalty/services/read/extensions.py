"""What the UI extensions show beside the loyalty page (loyalty_page): an order's points on the thank-you
and order-status pages, and a customer at the point of sale. Reads only, scoped to the shop (and, for an
order, to the token's customer)."""
from __future__ import annotations

from sqlalchemy import func, select

from db.tables import ledger_entries, orders
from loyalty.services import ledger
from loyalty.services.customers import find_customer
from loyalty.services.read.loyalty_page import loyalty_page
from loyalty.services.shops import ShopRef
from loyalty.services.unit_of_work import UnitOfWork


def order_points(shop: ShopRef, shopify_customer_id: int, shopify_order_id: int, uow: UnitOfWork) -> dict | None:
    """The points an order earned for the customer: `pending` (not yet available, until `pending_until`),
    `available`, `none` (it earns nothing: excluded, cancelled, refunded) or `processing` (the order is not
    recorded yet: its webhook is on its way). None when the order is another customer's."""
    with uow:
        conn = uow.conn
        customer = find_customer(conn, shop.id, str(shopify_customer_id))
        bal = ledger.balance(conn, customer.id) if customer else ledger.Balance(0, 0, 0)
        order = conn.execute(select(orders.c.id, orders.c.name, orders.c.customer_id, orders.c.pending_until).where(
            orders.c.shop_id == shop.id, orders.c.shopify_order_id == shopify_order_id)).first()
        if order is None:
            return _order_view(None, "processing", 0, 0, None, bal)
        if customer is None or order.customer_id != customer.id:
            return None
        pending, available = conn.execute(select(
            func.coalesce(func.sum(ledger_entries.c.pending), 0), func.coalesce(func.sum(ledger_entries.c.available), 0),
        ).where(ledger_entries.c.order_id == order.id, ledger_entries.c.customer_id == customer.id)).one()
    status = "none" if pending + available <= 0 else "pending" if pending > 0 else "available"
    until = order.pending_until.date().isoformat() if pending > 0 and order.pending_until else None
    return _order_view(order.name, status, max(0, pending + available), max(0, available), until, bal)


def _order_view(name, status: str, points: int, available: int, until: str | None, bal) -> dict:
    return {"order": name, "status": status, "points": points, "pending_until": until, "available": available,
            "balance": {"available": bal.available, "pending": bal.pending}}


def pos_customer(shop: ShopRef, shopify_customer_id: int, uow: UnitOfWork) -> dict | None:
    """A customer as staff see them at the point of sale: balances, tier, perks (earned or ahead), standing,
    expiry; None for a customer the shop does not know."""
    with uow:
        if find_customer(uow.conn, shop.id, str(shopify_customer_id)) is None:
            return None
        customer = loyalty_page(uow.conn, shop, shopify_customer_id, uow.now)["customer"]
    return {"customer": {
        "available": customer["available"], "pending": customer["pending"], "lifetime": customer["lifetime"],
        "tier": customer["tier"],
        # a perk is earned on confirmed lifetime points (the page's `unlocked`): never a button at the till
        "perks": [{"key": p["key"], "title": p["title"], "state": "earned" if p["unlocked"] else "ahead"}
                  for p in customer["perks"]],
        "standing": customer["standing"], "expiry": customer.get("expiry"),
    }}
