"""Read models: what support, the CLI and the storefront show of a customer."""
from __future__ import annotations



from sqlalchemy import select

from db.tables import orders, vouchers
from loyalty.domain.money import cents
from loyalty.domain.standing import standing as ladder_standing
from loyalty.domain.times import iso
from loyalty.services import ledger, tiers
from loyalty.services.shops import programme


def customer_summary(conn, shop, customer) -> dict:
    """The customer's balances and full history, JSON-ready (points are integers), with their VIP tier and
    its history (`tiers`: `current` None without a tier)."""
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
    prog = programme(conn, shop.id, shop.settings_version)
    standing = ladder_standing(prog, bal)
    return {
        "shop": shop.domain,
        "customer": {"shopify_customer_id": customer.shopify_customer_id, "email": customer.email},
        "available": bal.available, "pending": bal.pending, "lifetime": bal.lifetime,
        "standing": {
            "tier": standing.tier, "next_threshold": standing.next_threshold,
            "points_to_next": standing.points_to_next,
            "unlocked": [{"key": r.key, "title": r.title, "points": r.points} for r in standing.unlocked],
            "redeemable": [{"key": r.key, "title": r.title, "kind": r.kind, "points": r.points,
                            "affordable": r.points <= bal.available} for r in prog.redeemable],
            "conversion": ({"minimum_points": prog.conversion_minimum_points,
                            "value_per_point": str(prog.voucher_value_per_point)}
                           if prog.conversion_enabled else None),
        },
        "vouchers": [voucher_view(v) for v in conn.execute(select(vouchers).where(
            vouchers.c.customer_id == customer.id).order_by(vouchers.c.created_at, vouchers.c.id))],
        "entries": entries,
        "tiers": tiers.history_of(conn, customer.id),
    }


def voucher_view(row) -> dict:
    """A voucher, gift card or donation as support and the customer see it."""
    return {"code": row.code, "kind": row.kind, "reward": row.reward_key, "status": row.status,
            "points": row.points, "amount": cents(row.amount), "minimum_subtotal": cents(row.minimum_subtotal),
            "ends_at": iso(row.ends_at), "created_at": iso(row.created_at), "reason": row.reason,
            "percentage": f"{row.percentage.normalize():f}" if row.percentage is not None else None,
            "variant_id": row.variant_id}
