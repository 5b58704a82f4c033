"""The support desk: everything support reads of one customer on one page, bounded at any shop size.

The customer (names, tags, birthday, opt-out), balances, expiry, VIP tier and perks with their dates, the
newest orders each with what it earned or why nothing (loyalty.domain.order_outcome), pending lots, emails
sent, vouchers and gift cards with their real terms, referrals made and received, and the newest ledger
entries. Every list is a page (`PAGE` rows, newest first, `has_more`): a customer with 400 orders and
1,000 entries costs a handful of indexed look-ups (customer id on orders, entries, notifications, vouchers,
perk grants, referrals; order id on entries; (shop, order) on refunds), whatever the shop's size.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from db.tables import (customers, ledger_entries as le, notifications, orders, perk_grants, referrals, refunds,
                       vouchers)
from loyalty.domain import order_outcome
from loyalty.domain.money import cents
from loyalty.domain.referrals import normalise_email as referral_key
from loyalty.services import balances
from loyalty.services.read.loyalty_page import tier_view
from loyalty.services.read.views import iso
from loyalty.services.schedule import expiry_of
from loyalty.services.shops import ShopRef, programme
from loyalty.services.tiers import tier_of

PAGE = 50
"""Rows of each list on the page, and of each further page (`/orders?page=`, `/entries?page=`)."""

ORDER_KINDS = ("earn", "mature", "claw_back", "void")
"""The entries that move an order's own points (a redemption or adjustment is the customer's, not the order's)."""


def _page(rows: list, page: int) -> tuple[list, bool]:
    return rows[:PAGE], len(rows) > PAGE


def _offset(page: int) -> int:
    return (max(page, 1) - 1) * PAGE


def customer_view(row) -> dict:
    """The customer's own fields (names and tags as Shopify last sent them; tags as a list)."""
    return {"id": row.id, "shopify_customer_id": row.shopify_customer_id, "email": row.email,
            "first_name": row.first_name, "last_name": row.last_name,
            "tags": [t.strip() for t in (row.tags or "").split(",") if t.strip()],
            "birthday": row.birthday.isoformat() if row.birthday else None,
            "accepts_loyalty_emails": bool(row.accepts_loyalty_emails), "created_at": iso(row.created_at)}


# -- orders -----------------------------------------------------------------------------------------

def orders_page(conn: Connection, shop: ShopRef, customer_id: int, page: int = 1) -> tuple[list, bool]:
    """The customer's orders, newest payment first (unpaid ones first of all), each with its outcome."""
    rows, more = _page(conn.execute(
        select(orders.c.id, orders.c.shopify_order_id, orders.c.name, orders.c.source_name, orders.c.currency,
               orders.c.merchandise, orders.c.non_earning_paid, orders.c.paid_at, orders.c.cancelled_at,
               orders.c.excluded_reason, orders.c.award, orders.c.capped, orders.c.pending_until)
        .where(orders.c.customer_id == customer_id)
        .order_by(orders.c.paid_at.desc().nulls_first(), orders.c.id.desc())
        .limit(PAGE + 1).offset(_offset(page))).all(), page)
    if not rows:
        return [], more
    held = {r.order_id: r for r in conn.execute(
        select(le.c.order_id, func.sum(le.c.pending + le.c.available).label("points"),
               func.sum(le.c.pending).label("pending"))
        .where(le.c.order_id.in_([r.id for r in rows]), le.c.kind.in_(ORDER_KINDS)).group_by(le.c.order_id))}
    refunded = dict(conn.execute(
        select(refunds.c.shopify_order_id, func.sum(refunds.c.merchandise))
        .where(refunds.c.shop_id == shop.id, refunds.c.shopify_order_id.in_([r.shopify_order_id for r in rows]))
        .group_by(refunds.c.shopify_order_id)).all())
    return [_order_view(r, held.get(r.id), refunded.get(r.shopify_order_id)) for r in rows], more


def _order_view(row, held, refunded) -> dict:
    recorded = order_outcome.RecordedOrder(
        paid_at=row.paid_at, cancelled_at=row.cancelled_at, excluded_reason=row.excluded_reason, award=row.award,
        capped=row.capped, merchandise=row.merchandise, non_earning_paid=row.non_earning_paid,
        pending_until=row.pending_until, refunded=Decimal(cents(refunded) or 0),
        points=int(held.points) if held else 0, pending=int(held.pending) if held else 0)
    found = order_outcome.outcome(recorded)
    return {"id": row.id, "shopify_order_id": row.shopify_order_id, "name": row.name, "source_name": row.source_name,
            "currency": row.currency, "merchandise": cents(row.merchandise),
            "non_earning_paid": cents(row.non_earning_paid), "paid_at": iso(row.paid_at),
            "cancelled_at": iso(row.cancelled_at), "refunded": cents(refunded) or "0.00",
            "points": found.points, "outcome": {"code": found.code, "params": _money_params(found.params)},
            "excluded_reason": row.excluded_reason}


def _money_params(params: dict) -> dict:
    """Amounts among an outcome's parameters at two places, like every amount of the API."""
    return {k: cents(v) if k in ("amount", "refunded") else v for k, v in params.items()}


# -- history ----------------------------------------------------------------------------------------

def entries_page(conn: Connection, customer_id: int, page: int = 1) -> tuple[list, bool]:
    """The customer's ledger entries, newest first, with their order and who made a manual adjustment."""
    rows, more = _page(conn.execute(
        select(le.c.id, le.c.kind, le.c.pending, le.c.available, le.c.reason, le.c.effective_at, le.c.created_at,
               le.c.actor, orders.c.shopify_order_id, orders.c.pending_until)
        .select_from(le.outerjoin(orders, orders.c.id == le.c.order_id))
        .where(le.c.customer_id == customer_id)
        .order_by(le.c.effective_at.desc(), le.c.id.desc()).limit(PAGE + 1).offset(_offset(page))).all(), page)
    return [{"id": e.id, "kind": e.kind, "points": e.pending + e.available, "pending": e.pending,
             "available": e.available, "reason": e.reason, "order": e.shopify_order_id,
             "effective_at": iso(e.effective_at), "recorded_at": iso(e.created_at),
             "pending_until": iso(e.pending_until) if e.kind == "earn" else None, "actor": e.actor}
            for e in rows], more


def pending_lots(conn: Connection, customer_id: int) -> list[dict]:
    """Points still pending, per order, soonest available first (the newest PAGE orders' at most)."""
    held = func.sum(le.c.pending).label("points")
    return [{"order": r.shopify_order_id, "name": r.name, "points": int(r.points),
             "pending_until": iso(r.pending_until)}
            for r in conn.execute(select(orders.c.shopify_order_id, orders.c.name, orders.c.pending_until, held)
                                  .join(le, le.c.order_id == orders.c.id)
                                  .where(orders.c.customer_id == customer_id)
                                  .group_by(orders.c.id, orders.c.shopify_order_id, orders.c.name,
                                            orders.c.pending_until)
                                  .having(held > 0).order_by(orders.c.pending_until).limit(PAGE))]


# -- perks, emails, vouchers, referrals ------------------------------------------------------------

def perks_of(conn: Connection, prog, customer_id: int) -> list[dict]:
    """The perks granted (status perks and each year's birthday present), newest first, with their dates."""
    titles = {r.key: r.title for r in prog.perks}
    return [{"key": r.reward_key, "title": titles.get(r.reward_key), "period": r.period or None, "tag": r.tag,
             "granted_at": iso(r.granted_at), "revoked_at": iso(r.revoked_at)}
            for r in conn.execute(select(perk_grants).where(perk_grants.c.customer_id == customer_id)
                                  .order_by(perk_grants.c.granted_at.desc(), perk_grants.c.id.desc()).limit(PAGE))]


def emails_of(conn: Connection, customer_id: int) -> tuple[list, bool]:
    """The loyalty emails of the customer, newest first: kind, subject, status, when sent, the last error."""
    rows, more = _page(conn.execute(
        select(notifications.c.id, notifications.c.kind, notifications.c.subject, notifications.c.status,
               notifications.c.created_at, notifications.c.sent_at, notifications.c.last_error)
        .where(notifications.c.customer_id == customer_id)
        .order_by(notifications.c.created_at.desc(), notifications.c.id.desc()).limit(PAGE + 1)).all(), 1)
    return [{"id": r.id, "kind": r.kind, "subject": r.subject, "status": r.status, "created_at": iso(r.created_at),
             "sent_at": iso(r.sent_at), "last_error": r.last_error} for r in rows], more


def voucher_terms(row) -> dict:
    """A voucher, gift card or donation with its real terms: a discount's amount or percentage, minimum
    basket and collection, and its end date; a gift card or a donation has no end date (`ends_at` null)."""
    dated = row.kind not in ("gift_card", "donation")
    return {"code": row.code, "kind": row.kind, "reward_key": row.reward_key, "status": row.status,
            "points": row.points, "amount": cents(row.amount),
            "percentage": f"{row.percentage.normalize():f}" if row.percentage is not None else None,
            "minimum_subtotal": cents(row.minimum_subtotal), "collection_id": row.collection_id,
            "variant_id": row.variant_id, "ends_at": iso(row.ends_at) if dated else None,
            "created_at": iso(row.created_at), "reason": row.reason, "cancellable": cancellable(row)}


def cancellable(row) -> bool:
    """What loyalty.services.use_cases.vouchers.cancel_voucher accepts: an issued gift card or a recorded
    donation cannot come back."""
    return row.status in ("creating", "active") and row.kind in ("discount", "free_shipping")


def vouchers_of(conn: Connection, customer_id: int) -> tuple[list, bool]:
    """The customer's codes, gift cards and donations, newest first."""
    rows, more = _page(conn.execute(select(vouchers).where(vouchers.c.customer_id == customer_id)
                                    .order_by(vouchers.c.created_at.desc(), vouchers.c.id.desc())
                                    .limit(PAGE + 1)).all(), 1)
    return [voucher_terms(r) for r in rows], more


def _referral(row) -> dict:
    return {"id": row.id, "friend_email": row.friend_email, "status": row.status, "rule": row.rule,
            "reason": row.reason, "points": row.points, "order": row.shopify_order_id,
            "created_at": iso(row.created_at), "settled_at": iso(row.settled_at)}


def referrals_of(conn: Connection, shop: ShopRef, customer) -> dict:
    """Referrals the customer made (newest first) and the one that brought them (by their email)."""
    made = conn.execute(select(referrals).where(referrals.c.referrer_id == customer.id)
                        .order_by(referrals.c.id.desc()).limit(PAGE + 1)).all()
    key = referral_key(customer.email)
    received = None
    if key is not None:
        received = conn.execute(select(referrals, customers.c.email.label("referrer_email"))
                                .join(customers, customers.c.id == referrals.c.referrer_id)
                                .where(referrals.c.shop_id == shop.id, referrals.c.friend_key == key)).first()
    return {"made": [_referral(r) for r in made[:PAGE]], "made_has_more": len(made) > PAGE,
            "received": ({**_referral(received), "referrer_id": received.referrer_id,
                          "referrer_email": received.referrer_email} if received else None)}


# -- the whole page ---------------------------------------------------------------------------------

def customer_row(conn: Connection, shop: ShopRef, customer_id: int):
    """The customer if they are the shop's, else None (another shop's id is unknown here)."""
    return conn.execute(select(customers).where(customers.c.id == customer_id, customers.c.shop_id == shop.id)).first()


def desk(conn: Connection, shop: ShopRef, customer, now: datetime) -> dict:
    """The support desk's page of one customer as of `now`."""
    prog = programme(conn, shop.id, shop.settings_version)
    bal = balances.balance(conn, customer.id)
    tier = None
    if prog.tiers.enabled:
        held, figure = tier_of(conn, shop.id, prog.tiers, customer.id, now)
        view = tier_view(prog.tiers, held, figure)
        tier = {"key": view["key"], "title": view["name"], "since": iso(held.since) if view["key"] else None,
                "until": view["until"], "progress": {k: view[k] for k in ("basis", "window", "figure", "next")}}
    order_rows, orders_more = orders_page(conn, shop, customer.id)
    entries, entries_more = entries_page(conn, customer.id)
    emails, emails_more = emails_of(conn, customer.id)
    codes, codes_more = vouchers_of(conn, customer.id)
    return {
        "shop": shop.domain, "customer": customer_view(customer),
        "available": bal.available, "pending": bal.pending, "lifetime": bal.lifetime,
        "expiry": expiry_of(conn, shop.id, prog, customer.id, bal.available),
        "tier": tier, "perks": perks_of(conn, prog, customer.id),
        "orders": order_rows, "orders_has_more": orders_more,
        "pending_lots": pending_lots(conn, customer.id),
        "emails": emails, "emails_has_more": emails_more,
        "vouchers": codes, "vouchers_has_more": codes_more,
        "referrals": referrals_of(conn, shop, customer),
        "entries": entries, "entries_has_more": entries_more,
    }
