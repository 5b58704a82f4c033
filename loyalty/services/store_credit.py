"""Store credit on the ledger side: the attempt mark that makes crediting safe to retry, the credit
recorded once Shopify made it, and what is left of each credit as read back from Shopify.

A store-credit redemption is a voucher of kind `store_credit` reserved like any other
(loyalty.services.vouchers.reserve: the points spent in the same transaction); the rules deciding when a
credit may be sent and which of Shopify's credits is ours are in loyalty.domain.store_credit.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection

from db.tables import customers, shops, vouchers
from loyalty.defaults import STORE_CREDIT_LEASE_SECONDS
from loyalty.domain import keys, money, store_credit
from loyalty.domain.times import last_day
from loyalty.services.shops import shop_zone
from loyalty.services import notifications

LEASE = timedelta(seconds=STORE_CREDIT_LEASE_SECONDS)


def claim_attempt(conn: Connection, voucher_id: int, now: datetime) -> str:
    """Mark an attempt to credit the voucher (committed before Shopify is asked) and say what it does:
    SEND, LOOK (an earlier attempt's outcome is unknown) or WAIT (another attempt may be running, or the
    voucher is no longer being created). A compare-and-set on the mark, so of two racing attempts one
    proceeds."""
    row = conn.execute(select(vouchers.c.status, vouchers.c.credit_sent_at)
                       .where(vouchers.c.id == voucher_id)).one()
    step = store_credit.attempt(row.credit_sent_at, now, LEASE)
    if row.status != "creating" or step == store_credit.WAIT:
        return store_credit.WAIT
    same_mark = (vouchers.c.credit_sent_at.is_(None) if row.credit_sent_at is None
                 else vouchers.c.credit_sent_at == row.credit_sent_at)
    taken = conn.execute(update(vouchers).where(vouchers.c.id == voucher_id, vouchers.c.status == "creating",
                                                same_mark).values(credit_sent_at=now)).rowcount
    return step if taken else store_credit.WAIT


def claimed_ids(conn: Connection, shop_id: int) -> set[str]:
    """The Shopify credit transactions already recorded as one of the shop's store-credit vouchers."""
    return set(conn.execute(select(vouchers.c.shopify_discount_id).where(
        vouchers.c.shop_id == shop_id, vouchers.c.kind == "store_credit",
        vouchers.c.shopify_discount_id.is_not(None))).scalars())


def activate(conn: Connection, voucher_id: int, transaction_id: str, now: datetime) -> None:
    """Shopify credited the customer: the voucher is active with the credit's transaction id, all of it
    left, and the customer gets the "store credit issued" email (once)."""
    if conn.execute(update(vouchers).where(vouchers.c.id == voucher_id, vouchers.c.status == "creating").values(
            status="active", shopify_discount_id=transaction_id, reason=None, remaining_amount=vouchers.c.amount,
            store_credit_checked_at=now)).rowcount:
        issued(conn, voucher_id, now)


def issued(conn: Connection, voucher_id: int, now: datetime) -> str | None:
    """The "store credit issued" email: the amount, where it can be spent and until when."""
    voucher = conn.execute(select(vouchers).where(vouchers.c.id == voucher_id)).one()
    prog = notifications.current_programme(conn, voucher.shop_id)
    reward = prog.reward(voucher.reward_key) if voucher.reward_key else None
    return notifications.enqueue(conn, shop_id=voucher.shop_id, prog=prog, customer_id=voucher.customer_id,
                                 kind="store_credit_issued", key=keys.voucher_event(voucher.id), now=now, facts={
                                     "points": voucher.points, "amount": voucher.amount,
                                     "title": reward.title if reward else None,
                                     "ends_on": last_day(voucher.ends_at, shop_zone(conn, voucher.shop_id))})


def unfinished(conn: Connection, now: datetime, limit: int) -> list:
    """Store-credit vouchers still being created whose last attempt is over (or never made): the
    scheduled job finishes them (with their customer's Shopify id)."""
    return conn.execute(
        select(vouchers, customers.c.shopify_customer_id)
        .join(customers, customers.c.id == vouchers.c.customer_id)
        .where(vouchers.c.kind == "store_credit", vouchers.c.status == "creating",
               or_(vouchers.c.credit_sent_at.is_(None), vouchers.c.credit_sent_at <= now - LEASE))
        .order_by(vouchers.c.id).limit(limit)).all()


def customers_to_check(conn: Connection, shop_id: int, limit: int) -> list:
    """(customer id, Shopify customer id) of the shop's customers holding active store credit, those checked
    longest ago first."""
    oldest = func.min(func.coalesce(vouchers.c.store_credit_checked_at, vouchers.c.created_at))
    return conn.execute(
        select(customers.c.id, customers.c.shopify_customer_id)
        .join(vouchers, and_(vouchers.c.customer_id == customers.c.id, vouchers.c.kind == "store_credit",
                             vouchers.c.status == "active", vouchers.c.shop_id == shop_id))
        .where(customers.c.shopify_customer_id.is_not(None))
        .group_by(customers.c.id, customers.c.shopify_customer_id)
        .order_by(oldest, customers.c.id).limit(limit)).all()


def shop_domain(conn: Connection, shop_id: int) -> str:
    return conn.execute(select(shops.c.domain).where(shops.c.id == shop_id)).scalar_one()


def shops_with_open_credit(conn: Connection) -> list[int]:
    """Shops with store credit still active or being created."""
    return list(conn.execute(select(vouchers.c.shop_id).where(
        vouchers.c.kind == "store_credit", vouchers.c.status.in_(("creating", "active"))).distinct()).scalars())


def record_remaining(conn: Connection, customer_id: int, seen: dict, now: datetime) -> int:
    """Record what Shopify says is left of each of the customer's active credits (`seen`: transaction id ->
    CreditSeen); a credit spent in full becomes `used`, one past its expiry `expired`. Returns how many
    vouchers changed."""
    changed = 0
    for voucher in conn.execute(select(vouchers).where(
            vouchers.c.customer_id == customer_id, vouchers.c.kind == "store_credit",
            vouchers.c.status == "active")).all():
        credit = seen.get(voucher.shopify_discount_id)
        if credit is None:
            continue  # not listed (an account Shopify no longer shows): left as it was
        status = store_credit.settled_status(credit.remaining, voucher.ends_at, now)
        reason = {"used": "store credit spent", "expired": f"store credit expired, {money.label(credit.remaining)} unspent"}
        if credit.remaining != voucher.remaining_amount or status != voucher.status:
            changed += 1
        conn.execute(update(vouchers).where(vouchers.c.id == voucher.id).values(
            remaining_amount=credit.remaining, status=status, store_credit_checked_at=now,
            reason=reason.get(status, voucher.reason)))
    return changed
