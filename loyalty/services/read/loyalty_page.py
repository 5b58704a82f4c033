"""The loyalty page's read model: everything one customer of one shop sees, JSON-ready (the storefront's
HTML renders the same data). Reads only; every query is scoped to the shop and the customer."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, bindparam, func, select

from db.tables import ledger_entries as le, orders, vouchers
from loyalty.services import ledger
from loyalty.services.customers import find_customer
from loyalty.domain import money, offers, referrals, standing as ladder
from loyalty.domain.programme import Programme, Reward
from loyalty.domain.settings.tiers import Tiers
from loyalty.domain.tiers import Membership, may_redeem, multiplier, next_step, required_tier
from loyalty.services.schedule import expiry_of
from loyalty.services.tiers import tier_of
from loyalty.services.shops import ShopRef, latest_order_currency, programme
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.read import views
from loyalty.services.read.views import iso
from loyalty.defaults import STOREFRONT_HISTORY_LIMIT as HISTORY_LIMIT

DEFAULT_CURRENCY = "EUR"


_SHOP = bindparam("shop_id")
_CUSTOMER = bindparam("customer_id")
# The page's statements are built once (as loyalty.services.balances does): building them per request cost
# more Python than running them; SQLAlchemy caches their compiled form by structure.


def shop_currency(conn, shop: ShopRef) -> str:
    """The currency of the shop's latest order (amounts are in shop money), EUR before any order."""
    return latest_order_currency(conn, shop.id) or DEFAULT_CURRENCY


def reward_view(reward: Reward) -> dict:
    """A catalogue entry as the page shows it."""
    return {"key": reward.key, "kind": reward.kind, "points": reward.points, "title": reward.title,
            "description": reward.description, "amount": str(reward.amount) if reward.spends_points else None,
            "cause": reward.cause or None, "birthday": reward.birthday,
            "percentage": f"{reward.percentage.normalize():f}" if reward.kind == "percentage" else None,
            "customer_picks": reward.customer_picks}


def terms_of(prog: Programme, reward: Reward | None) -> dict | None:
    """What redeeming `reward` (None: converting points) commits to (loyalty.domain.offers.terms); a perk
    is not redeemed and has none."""
    return None if reward is not None and not reward.spends_points else offers.terms(prog, reward)


def programme_view(prog: Programme) -> dict:
    """The programme as an anonymous visitor sees it: the ladder of thresholds and the conversion terms."""
    return {
        "language": prog.language,
        "ladder": [{"points": t, "rewards": [{**reward_view(r), "tier": _exclusive_to(prog.tiers, r.key),
                                              "terms": terms_of(prog, r)}
                                             for r in prog.rewards if r.points == t]}
                   for t in prog.thresholds],
        "conversion": {
            "minimum_points": prog.conversion_minimum_points,
            "minimum_value": str(money.worth(prog.conversion_minimum_points, prog.voucher_value_per_point)),
            "value_per_point": str(prog.voucher_value_per_point),
            "minimum_subtotal": str(prog.voucher_minimum_subtotal),
            "validity_days": prog.voucher_validity_days,
            "terms": terms_of(prog, None),
        } if prog.conversion_enabled else None,
        "birthday_perk": any(r.birthday for r in prog.rewards),
    }


def page_of(shop: ShopRef, shopify_customer_id: int | None, uow: UnitOfWork) -> tuple[dict, Programme]:
    """The query behind GET /proxy: the page's data for the customer (None: an anonymous visitor), and the
    programme in force (the storefront's FAQ is written from it)."""
    with uow:
        return (loyalty_page(uow.conn, shop, shopify_customer_id, uow.now),
                programme(uow.conn, shop.id, shop.settings_version))


def loyalty_page(conn, shop: ShopRef, shopify_customer_id: int | None, now: datetime) -> dict:
    """The page's data as of `now` (the VIP tier's window); `customer` is None for an anonymous visitor."""
    prog = programme(conn, shop.id, shop.settings_version)
    page = {"shop": shop.domain, "currency": shop_currency(conn, shop), "programme": programme_view(prog),
            "branding": prog.branding.view(), "customer": None}
    if shopify_customer_id is None:
        return page
    row = find_customer(conn, shop.id, str(shopify_customer_id))
    bal = ledger.balance(conn, row.id) if row else ledger.Balance(0, 0, 0)
    standing = ladder.standing(prog, bal)
    unlocked = {r.key for r in standing.unlocked}
    held, figure = (tier_of(conn, shop.id, prog.tiers, row.id, now) if prog.tiers.enabled and row
                    else (Membership(), Decimal(0)))
    locked = {r.key: _exclusive_to(prog.tiers, r.key) for r in prog.redeemable
              if not may_redeem(prog.tiers, r.key, held.tier)}
    page["customer"] = {
        "shopify_customer_id": shopify_customer_id,
        "available": bal.available, "pending": bal.pending, "lifetime": bal.lifetime,
        "ladder_points": ladder.confirmed_lifetime(bal),
        "standing": {"tier": standing.tier, "next_threshold": standing.next_threshold,
                     "points_to_next": standing.points_to_next},
        "perks": [perk_view(r, r.key in unlocked, ladder.confirmed_lifetime(bal)) for r in prog.perks],
        "unlocked_perks": [reward_view(r) for r in standing.unlocked],
        "rewards": [redeemable_view(prog, r, bal.available, locked.get(r.key)) for r in prog.redeemable],
        "expiry": (expiry_of(conn, shop.id, prog, row.id, bal.available) if row
                   else {"policy": prog.expiry, "date": None, "points": 0}),
        "locked_rewards": locked,
        "tier": tier_view(prog.tiers, held, figure),
        "birthday": ({"day": row.birthday.day, "month": row.birthday.month}
                     if row is not None and row.birthday else None),
        **(_activity(conn, shop, row.id) if row else {"pending_points": [], "history": [], "vouchers": []}),
        "referral": referral_view(prog, shop, row),
    }
    return page


def perk_view(perk: Reward, unlocked: bool, ladder_points: int) -> dict:
    """A status perk: `earned` once reached on confirmed lifetime points (never spent, never a button), else
    `ahead` with the points still to go."""
    return {**reward_view(perk), "unlocked": unlocked, "state": "earned" if unlocked else "ahead",
            "points_to_go": 0 if unlocked else max(0, perk.points - ladder_points)}


def redeemable_view(prog: Programme, reward: Reward, available: int, tier_required: str | None) -> dict:
    """A reward that spends points, judged on AVAILABLE points only (never lifetime ones): `redeemable`,
    `short` of `missing` points, or `tier_locked` to members of `tier_required`."""
    affordable = available >= reward.points
    state = "tier_locked" if tier_required else "redeemable" if affordable else "short"
    return {**reward_view(reward), "affordable": affordable, "missing": max(0, reward.points - available),
            "tier_required": tier_required, "state": state, "terms": terms_of(prog, reward)}


def tier_view(tiers: Tiers, held: Membership, figure: Decimal) -> dict | None:
    """The customer's VIP tier (None when the programme has no tiers): its name and earn multiplier, until when
    it is kept, and the next tier with what it still needs (loyalty.domain.tiers.next_step), in the basis'
    unit (points, amount spent in shop money, orders) over the window."""
    if not tiers.enabled:
        return None
    tier = tiers.tier(held.tier)
    step = next_step(tiers, tier.key if tier else None, figure)
    return {
        "key": tier.key if tier else None, "name": tier.name if tier else None,
        "multiplier": f"{multiplier(tiers, held.tier).normalize():f}",
        "until": iso(held.until) if tier else None,
        "basis": tiers.basis, "window": tiers.window, "figure": _in_unit(tiers, figure),
        "next": ({"key": step.tier.key, "name": step.tier.name, "threshold": _in_unit(tiers, step.tier.threshold),
                  "remaining": _in_unit(tiers, step.remaining)} if step else None),
    }


def _in_unit(tiers: Tiers, value: Decimal) -> str | int:
    """A tier figure as the page shows it: an amount (a string, 2 places) or a whole count."""
    return f"{value:.2f}" if tiers.basis == "spent" else int(value)


def _exclusive_to(tiers: Tiers, reward_key: str) -> str | None:
    """The name of the lowest tier a reward is exclusive to, or None (a reward for everyone)."""
    needed = required_tier(tiers, reward_key)
    return needed.name if needed else None


def referral_view(prog: Programme, shop: ShopRef, row) -> dict | None:
    """The customer's personal referral code (their link is `/apps/loyalty/referral?ref=CODE`) and what a
    referral earns; None when the shop has no referral programme."""
    if not prog.referrals.enabled or row is None:
        return None
    return {"code": referrals.code_for(shop.id, row.id), "points": prog.referrals.referrer_points}


def _activity_statements():
    """The reads of `_activity`, for a `shop_id` and a `customer_id` (and the held orders' `ids`) given when
    run."""
    own_order = and_(orders.c.id == le.c.order_id, orders.c.shop_id == _SHOP, orders.c.customer_id == _CUSTOMER)
    held = (select(le.c.order_id, func.sum(le.c.pending).label("points"))
            .where(le.c.customer_id == _CUSTOMER, le.c.order_id.is_not(None))
            .group_by(le.c.order_id).having(func.sum(le.c.pending) > 0)  # the ledger alone, summed
            .order_by(func.min(le.c.effective_at), func.min(le.c.id)))  # first seen first, as the ledger runs
    # The held orders by primary key: joined in one statement, PostgreSQL (which expects a customer to have a
    # few orders) read all of a 400-order customer's orders to hash-join the few still holding points.
    held_orders = select(orders.c.id, orders.c.name, orders.c.shopify_order_id, orders.c.pending_until).where(
        orders.c.id.in_(bindparam("ids", expanding=True)), orders.c.shop_id == _SHOP, orders.c.customer_id == _CUSTOMER)
    recent = (select(le.c.kind, le.c.pending, le.c.available, le.c.effective_at, orders.c.id.label("order_id"),
                     orders.c.name, orders.c.shopify_order_id)
              .select_from(le.outerjoin(orders, own_order)).where(le.c.customer_id == _CUSTOMER)
              .order_by(le.c.effective_at.desc(), le.c.id.desc()).limit(HISTORY_LIMIT))
    own_vouchers = (select(vouchers).where(vouchers.c.shop_id == _SHOP, vouchers.c.customer_id == _CUSTOMER)
                    .order_by(vouchers.c.id.desc()))
    return held, held_orders, recent, own_vouchers


_HELD, _HELD_ORDERS, _RECENT, _VOUCHERS = _activity_statements()


def _pending_lots(conn, params: dict) -> list[dict]:
    """The customer's orders still holding pending points, with their points and date (soonest first; the
    ledger's order among equal dates): the points summed from the ledger, then those orders of the shop and
    customer by primary key (an order that is not theirs shows nothing, as an inner join)."""
    held = conn.execute(_HELD, params).all()
    if not held:
        return []
    found = {o.id: o for o in conn.execute(_HELD_ORDERS, {**params, "ids": [h.order_id for h in held]})}
    lots = ({"order": _order_name(o), "points": int(h.points), "pending_until": iso(o.pending_until)}
            for h in held if (o := found.get(h.order_id)) is not None)
    return sorted(lots, key=lambda p: p["pending_until"] or "")


def _activity(conn, shop: ShopRef, customer_id: int) -> dict:
    """Pending points by order with their dates, recent history (newest first), vouchers. Two bounded reads
    of the ledger, however long the customer's history: the pending points summed by the database (only
    orders still holding some come back), and the newest HISTORY_LIMIT entries."""
    params = {"shop_id": shop.id, "customer_id": customer_id}
    history = [{"kind": e.kind, "points": e.pending + e.available, "pending": e.pending, "available": e.available,
                "effective_at": iso(e.effective_at), "order": _order_name(e) if e.order_id is not None else None}
               for e in conn.execute(_RECENT, params)]
    return {"pending_points": _pending_lots(conn, params), "history": history,
            "vouchers": [voucher_view(v) for v in conn.execute(_VOUCHERS, params)]}


def voucher_view(v) -> dict:
    """A voucher as the customer sees it: support's view, without a code for a donation or store credit
    (nothing to enter) and without internal reasons except Shopify's refusal."""
    view = views.voucher_view(v)
    return {**view, "code": v.code if v.kind not in ("donation", "store_credit") else None,
            "reason": view["reason"] if v.status == "refused" else None}


def _order_name(order) -> str | None:
    if order is None:
        return None
    return order.name or f"#{order.shopify_order_id}"


def customer_voucher(shop: ShopRef, shopify_customer_id: int, voucher_id: int, uow: UnitOfWork) -> dict | None:
    """The query behind a form's outcome (storefront.notices): the customer's voucher with that row id as the
    page shows it, with the reward's cause and title; None when it is not this customer's."""
    with uow:
        row = find_customer(uow.conn, shop.id, str(shopify_customer_id))
        voucher = row and uow.conn.execute(select(vouchers).where(
            vouchers.c.id == voucher_id, vouchers.c.shop_id == shop.id, vouchers.c.customer_id == row.id)).first()
        if not voucher:
            return None
        reward = programme(uow.conn, shop.id, shop.settings_version).reward(voucher.reward_key or "")
    return {"voucher": voucher_view(voucher), "cause": reward.cause if reward else None,
            "item": reward.title if reward else ""}
