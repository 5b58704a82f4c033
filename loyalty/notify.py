"""The events customers are told about by email, each recorded in the outbox (loyalty.notifications) inside
the transaction of the event itself: points available, a perk unlocked, a voucher created, points about to
expire. (The birthday present is in loyalty.birthdays.)"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select

from db.tables import shops, vouchers
from loyalty import ledger
from loyalty.notifications import enqueue
from loyalty.programme import Programme, Reward
from loyalty.shops import programme

EXPIRY_NOTICE_DAYS = (30, 7)
"""Customers are told this many days before their points expire (store B: a month, then a week)."""


def points_available(conn, shop_id: int, customer_id: int, matured: list, now: datetime,
                     prog: Programme | None = None, currency: str | None = None) -> str | None:
    """Orders' points just became available (`matured`: rows with shopify_order_id, name, pending): one
    email with the new balance and what it can buy now. `prog` and `currency`: the shop's, if known (a
    maturity run looks them up once per shop)."""
    prog = prog or current_programme(conn, shop_id)
    available = ledger.balance(conn, customer_id).available
    first = min(matured, key=lambda row: row.shopify_order_id)
    return enqueue(conn, shop_id=shop_id, prog=prog, customer_id=customer_id, kind="points_available",
                   key=f"order:{first.shopify_order_id}:available", now=now, facts={
                       "points": sum(int(row.pending) for row in matured),
                       "orders": [row.name or str(row.shopify_order_id) for row in matured],
                       "available": available,
                       "redeemable": [_reward(r) for r in prog.redeemable if r.points <= available],
                       "conversion": _conversion(prog, available), "currency": currency})


def notify_perks_granted(conn, shop, prog: Programme, customer_id: int, granted, now: datetime) -> str | None:
    """Status perks were just unlocked (loyalty.perks.refresh_perks' `granted`): one email naming each perk
    and how to enjoy it (the seed: "Tu seras prévenu·e par mail")."""
    perks = sorted(granted, key=lambda r: (r.points, r.key))
    if not perks:
        return None
    return enqueue(conn, shop_id=shop.id, prog=prog, customer_id=customer_id, kind="threshold_reached",
                   key=f"customer:{customer_id}:threshold:{'+'.join(r.key for r in perks)}", now=now, facts={
                       "perks": [_reward(r) for r in perks],
                       "lifetime": ledger.balance(conn, customer_id).lifetime})


def voucher_created(conn, voucher_id: int, now: datetime) -> str | None:
    """A voucher became usable: its code, amount, minimum basket and end date."""
    voucher = conn.execute(select(vouchers).where(vouchers.c.id == voucher_id)).first()
    if voucher is None or voucher.customer_id is None:
        return None
    prog = current_programme(conn, voucher.shop_id)
    reward = prog.reward(voucher.reward_key) if voucher.reward_key else None
    ends_at = voucher.ends_at
    return enqueue(conn, shop_id=voucher.shop_id, prog=prog, customer_id=voucher.customer_id,
                   kind="voucher_created", key=f"voucher:{voucher.id}", now=now, facts={
                       "kind": voucher.kind, "code": voucher.code, "points": voucher.points,
                       "amount": voucher.amount, "minimum_subtotal": voucher.minimum_subtotal,
                       "title": reward.title if reward else None,
                       # the code works until ends_at: the last whole day it can be used
                       "ends_on": (ends_at - timedelta(microseconds=1)).date()})


def points_expiring(conn, as_of: datetime, now: datetime) -> int:
    """Daily: tell customers whose points expire within 30 days, then within 7 (the most urgent notice
    due, once each per last purchase: a new purchase pushes the expiry back and re-arms the notices)."""
    from loyalty.schedule import expiring_balances

    count = 0
    for shop in conn.execute(select(shops.c.id, shops.c.settings_version).where(shops.c.uninstalled_at.is_(None))):
        prog = programme(conn, shop.id, shop.settings_version)
        if prog.expiry != "after_last_purchase":
            continue
        for held in expiring_balances(conn, shop.id, prog):
            due = [d for d in EXPIRY_NOTICE_DAYS if held.expires_at - timedelta(days=d) <= as_of < held.expires_at]
            if not due:
                continue
            days = min(due)
            status = enqueue(conn, shop_id=shop.id, prog=prog, customer_id=held.customer_id, kind="points_expiring",
                             key=f"customer:{held.customer_id}:expiring:{held.last_purchase:%Y%m%dT%H%M%S}:{days}",
                             now=now, facts={
                                 "available": held.available, "days_left": max(1, (held.expires_at - as_of).days),
                                 "expires_on": _last_day(held.expires_at), "months": prog.expiry_months,
                                 "last_purchase_on": held.last_purchase.date(),
                                 "conversion": _conversion(prog, held.available)})
            count += status is not None
    return count


def current_programme(conn, shop_id: int) -> Programme:
    """The programme the shop runs now."""
    version = conn.execute(select(shops.c.settings_version).where(shops.c.id == shop_id)).scalar_one()
    return programme(conn, shop_id, version)


def _reward(reward: Reward) -> dict:
    return {"key": reward.key, "title": reward.title, "description": reward.description, "points": reward.points,
            "birthday": reward.birthday}


def _conversion(prog: Programme, available: int) -> dict | None:
    """What a conversion of every available point would be worth (store B), when the shop offers one."""
    if not prog.conversion_enabled or available < prog.conversion_minimum_points:
        return None
    value = (Decimal(available) * prog.voucher_value_per_point).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    return {"value": value, "minimum_points": prog.conversion_minimum_points}


def _last_day(moment: datetime) -> date:
    """The last whole day before `moment` (points expiring at midnight are usable the day before)."""
    return (moment - timedelta(microseconds=1)).date()
