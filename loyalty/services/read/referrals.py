"""The merchant's list of referrals: who referred whom, the friend's code and first order, and the outcome
(rewarded with its points, or refused with the rule and reason), newest first."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased

from db.tables import customers, referrals, vouchers
from loyalty.services.shops import get_shop
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.read.views import iso

STATUSES = ("invited", "attributed", "rewarded", "refused", "nothing")


def referrals_page(shop: str, uow: UnitOfWork, status: str | None = None, page: int = 1,
                   size: int = 50) -> tuple[list[dict], bool]:
    """One page of the installed shop's referrals (UnknownShop), of one status when given; and whether
    more follow."""
    referrer = aliased(customers)
    with uow:
        shop_id = get_shop(uow.conn, shop).id
        query = (select(referrals, referrer.c.email.label("referrer_email"),
                        referrer.c.shopify_customer_id.label("referrer_shopify_id"), vouchers.c.code)
                 .join(referrer, referrer.c.id == referrals.c.referrer_id)
                 .outerjoin(vouchers, vouchers.c.id == referrals.c.voucher_id)
                 .where(referrals.c.shop_id == shop_id))
        if status:
            query = query.where(referrals.c.status == status)
        rows = uow.conn.execute(query.order_by(referrals.c.id.desc()).limit(size + 1)
                                .offset((page - 1) * size)).all()
    return [referral_view(r) for r in rows[:size]], len(rows) > size


def referral_view(row) -> dict:
    """One referral, JSON-ready."""
    return {"id": row.id, "referrer": {"email": row.referrer_email, "shopify_customer_id": row.referrer_shopify_id},
            "friend_email": row.friend_email, "code": row.code, "status": row.status, "rule": row.rule,
            "reason": row.reason, "points": row.points, "order": row.shopify_order_id,
            "created_at": iso(row.created_at), "settled_at": iso(row.settled_at)}
