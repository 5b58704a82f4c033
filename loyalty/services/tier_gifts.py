"""A VIP tier's free shipping codes (`tiers.levels[].free_shipping`): reserved at no cost for the members
they are due to, then made in Shopify after the transaction (loyalty.services.use_cases.vouchers.issue_gift,
as birthday gifts are) and emailed with the voucher email once made.

Here, not in loyalty.services.tiers: a reservation is a voucher (loyalty.services.vouchers), and vouchers
depend on the ledger, which decides tiers. So tier changes only record the membership; a pass run after
them (jobs.tiers.give_tier_gifts: scheduled, and after a recalculation) finds the members due a code. Which
code is due is loyalty.domain.tiers.free_shipping_due's rule; each is one voucher per customer and label
(its request key), so a pass run twice, or a replayed webhook, gives nothing more.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from db.tables import customers, tier_members, vouchers as voucher_rows
from loyalty.domain import keys
from loyalty.domain.offers import Offer
from loyalty.domain.programme import Programme
from loyalty.domain.settings.tiers import Tier
from loyalty.domain.tiers import Membership, free_shipping_due, gift_period_start
from loyalty.services import vouchers
from loyalty.services.notifications import TIER_GIFT
from loyalty.services.shops import ShopRef


def giving_tiers(prog: Programme) -> tuple[Tier, ...]:
    """The tiers of the programme that give free shipping codes (none when tiers are off)."""
    return tuple(t for t in prog.tiers.levels if t.free_shipping.every) if prog.tiers.enabled else ()


def reserve_due(conn: Connection, shop: ShopRef, prog: Programme, now: datetime, limit: int = 1000) -> int:
    """Reserve the free shipping codes due now to members of the shop's giving tiers who have a Shopify
    account (codes are bound to one) and no tier code since their period began; returns how many were
    reserved (call again while it is `limit`)."""
    reserved = 0
    # each customer's latest tier code, aggregated once and joined (not a subquery per member: SQLite would
    # scan the vouchers for each one)
    last = (select(voucher_rows.c.customer_id, func.max(voucher_rows.c.created_at).label("at"))
            .where(voucher_rows.c.shop_id == shop.id, voucher_rows.c.reward_key == TIER_GIFT)
            .group_by(voucher_rows.c.customer_id).subquery())
    for tier in giving_tiers(prog):
        every = tier.free_shipping.every
        since = tier_members.c.since if every == "entry" else gift_period_start(every, now)
        rows = conn.execute(
            select(tier_members.c.customer_id, tier_members.c.since, tier_members.c.until)
            .join(customers, customers.c.id == tier_members.c.customer_id)
            .outerjoin(last, last.c.customer_id == tier_members.c.customer_id)
            .where(tier_members.c.shop_id == shop.id, tier_members.c.tier == tier.key,
                   tier_members.c.since <= now,  # a pass as of an earlier moment gives nothing for a later entry
                   customers.c.shopify_customer_id.is_not(None), or_(last.c.at.is_(None), last.c.at < since))
            .order_by(tier_members.c.customer_id).limit(limit - reserved)).all()
        for row in rows:
            gift = free_shipping_due(prog.tiers, Membership(tier.key, row.since, row.until), now)
            vouchers.reserve(conn, shop, row.customer_id, _offer(prog, tier),
                             keys.tier_gift_request(row.customer_id, gift.label), now)
        reserved += len(rows)
        if reserved >= limit:
            break
    return reserved


def waiting(conn: Connection, shop_id: int) -> list[int]:
    """The shop's tier codes reserved but not yet made in Shopify (this pass's, and those an earlier one
    could not make)."""
    return conn.execute(select(voucher_rows.c.id).where(
        voucher_rows.c.shop_id == shop_id, voucher_rows.c.reward_key == TIER_GIFT,
        voucher_rows.c.status == "creating").order_by(voucher_rows.c.id)).scalars().all()


def _offer(prog: Programme, tier: Tier) -> Offer:
    return Offer(points=0, amount=Decimal(0), kind="free_shipping", title=f"{tier.name} free shipping",
                 validity_days=tier.free_shipping.validity_days, reward_key=TIER_GIFT,
                 combines=prog.voucher_combines_with_discounts)
