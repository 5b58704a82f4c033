"""Points redeemed into a voucher (a single-use discount code) and cancelled vouchers credited back.

A redemption is two steps: (1) in one transaction, a voucher row and its `redeem` entry (the points are
spent at once, under a lock on the customer, so two redemptions cannot spend the same points); (2) the
code is created in Shopify. The code is derived from the request key, so a retried redemption finds the
code it already made instead of creating a second one. A code Shopify refuses gives the points back.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from db.tables import customers, ledger_entries, shops, vouchers
from loyalty import ledger
from loyalty.shops import ShopRef, get_shop, programme


class VoucherRefused(ValueError):
    """The redemption cannot be made (not enough points, nothing to redeem); the message says why."""


def code_for(request_key: str) -> str:
    """The voucher code of a redemption request: stable, so retries reuse it."""
    return "LOY-" + hashlib.sha256(request_key.encode()).hexdigest()[:10].upper()


def reserve(conn: Connection, shop: ShopRef, customer_id: int, points: int, request_key: str, now: datetime):
    """Spend the points and record the voucher (status `creating`); the same request returns the same row."""
    key = f"{shop.id}:voucher-request:{request_key}"
    existing = conn.execute(select(vouchers).where(vouchers.c.request_key == key)).first()
    if existing is not None:
        return existing
    prog = programme(conn, shop.id, shop.settings_version)
    amount = (Decimal(points) * prog.voucher_value_per_point).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    if points <= 0 or amount <= 0:
        raise VoucherRefused(f"{points} points are worth nothing: nothing to redeem")
    conn.execute(select(customers.c.id).where(customers.c.id == customer_id).with_for_update())
    available = ledger.balance(conn, customer_id).available
    if available < points:
        raise VoucherRefused(f"not enough points: {available} available, {points} asked")
    voucher_id = conn.execute(insert(vouchers).values(
        shop_id=shop.id, customer_id=customer_id, request_key=key, code=code_for(key), points=points,
        amount=amount, minimum_subtotal=prog.voucher_minimum_subtotal or None, status="creating",
        ends_at=now + timedelta(days=prog.voucher_validity_days), created_at=now,
    )).inserted_primary_key[0]
    ledger.write_entry(conn, shop_id=shop.id, customer_id=customer_id, kind="redeem", available=-points,
                       key=f"{shop.id}:voucher:{voucher_id}:redeem", effective_at=now, now=now,
                       settings_version=shop.settings_version,
                       reason=f"{points} points redeemed for a {amount} voucher")
    return conn.execute(select(vouchers).where(vouchers.c.id == voucher_id)).one()


def activate(conn: Connection, voucher_id: int, discount_id: str) -> None:
    """Shopify made the code: the voucher is usable."""
    conn.execute(update(vouchers).where(vouchers.c.id == voucher_id, vouchers.c.status == "creating").values(
        status="active", shopify_discount_id=discount_id))


def give_back(conn: Connection, shop: ShopRef, voucher, status: str, reason: str, now: datetime) -> None:
    """The voucher will never be used (Shopify refused it, or it was cancelled): its points come back once."""
    conn.execute(update(vouchers).where(vouchers.c.id == voucher.id).values(status=status, reason=reason))
    if voucher.customer_id is None:
        return
    key = f"{shop.id}:voucher:{voucher.id}:recredit"
    if conn.execute(select(ledger_entries.c.id).where(ledger_entries.c.idempotency_key == key)).first() is None:
        ledger.write_entry(conn, shop_id=shop.id, customer_id=voucher.customer_id, kind="recredit",
                           available=voucher.points, key=key, effective_at=now, now=now,
                           reason=f"voucher {voucher.code} {status}: {reason}")


def find(conn: Connection, shop: ShopRef, code: str):
    """The voucher with that code in the shop, or None."""
    return conn.execute(select(vouchers).where(vouchers.c.shop_id == shop.id,
                                               vouchers.c.code == code.strip().upper())).first()


def mark_used(conn: Connection, shop: ShopRef, codes: tuple[str, ...], order_name: str | None) -> int:
    """An order used these codes: our vouchers among them are spent for good."""
    wanted = [c.strip().upper() for c in codes if c.strip()]
    if not wanted:
        return 0
    return conn.execute(update(vouchers).where(
        vouchers.c.shop_id == shop.id, vouchers.c.code.in_(wanted), vouchers.c.status.in_(("active", "creating")),
    ).values(status="used", reason=f"used on order {order_name or ''}".strip())).rowcount


def expire_unused(conn: Connection, as_of: datetime, now: datetime) -> int:
    """Active vouchers past their end date expire; their points come back where the shop says so."""
    count = 0
    for voucher in conn.execute(select(vouchers).where(vouchers.c.status == "active",
                                                       vouchers.c.ends_at <= as_of)).all():
        domain = conn.execute(select(shops.c.domain).where(shops.c.id == voucher.shop_id)).scalar()
        shop = get_shop(conn, domain, installed_only=False)
        if programme(conn, shop.id, shop.settings_version).voucher_expiry_returns_points:
            give_back(conn, shop, voucher, "expired", "expired unused", now)
        else:
            conn.execute(update(vouchers).where(vouchers.c.id == voucher.id).values(
                status="expired", reason="expired unused: points not returned (shop setting)"))
        count += 1
    return count
