"""Read models: what support, the CLI and the storefront show of a customer."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from db.tables import orders
from loyalty import ledger


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def customer_summary(conn, shop, customer) -> dict:
    """The customer's balances and full history, JSON-ready (points are integers)."""
    bal = ledger.balance(conn, customer.id)
    customer_orders = {r.id: r for r in conn.execute(select(
        orders.c.id, orders.c.shopify_order_id, orders.c.pending_until).where(orders.c.customer_id == customer.id))}
    order_refs = {i: r.shopify_order_id for i, r in customer_orders.items()}
    pending_until = {i: r.pending_until for i, r in customer_orders.items()}
    entries = []
    for e in ledger.entries_of(conn, customer.id):
        entries.append({
            "kind": e.kind, "points": e.pending + e.available, "pending": e.pending, "available": e.available,
            "reason": e.reason, "order": order_refs.get(e.order_id), "effective_at": iso(e.effective_at),
            "recorded_at": iso(e.created_at),
            "pending_until": iso(pending_until.get(e.order_id)) if e.kind == "earn" else None,
        })
    return {
        "shop": shop.domain,
        "customer": {"shopify_customer_id": customer.shopify_customer_id, "email": customer.email},
        "available": bal.available, "pending": bal.pending, "lifetime": bal.lifetime,
        "entries": entries,
    }
