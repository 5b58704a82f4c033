"""Points redeemed into a voucher (a single-use discount code) and cancelled vouchers credited back.

A redemption is two steps: (1) in one transaction, a voucher row and its `redeem` entry (the points are
spent at once, under a lock on the customer, so two redemptions cannot spend the same points); (2) the
code is created in Shopify. The code is derived from the request key, so a retried redemption finds the
code it already made instead of creating a second one. A code Shopify refuses gives the points back.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection

from db.tables import customers, ledger_entries, shops, vouchers
from loyalty.services import flow, ledger, notifications
from loyalty.domain import keys, money
from loyalty.defaults import CHECKOUT_GIVE_BACK_GRACE
from loyalty.domain.offers import Offer, conversion_offer, voucher_ends_at
from loyalty.services.shops import ShopRef, get_shop, programme
from loyalty.domain.errors import VoucherRefused


CODE_KINDS = ("discount", "free_shipping")
"""Vouchers that are discount codes: an order using one spends it; unused, it expires."""


def code_for(request_key: str, kind: str = "discount") -> str:
    """The code of a redemption request: stable, so retries reuse it. Gift card codes are 8-20 letters and
    digits; discount codes and donation receipts start with LOY-."""
    digest = hashlib.sha256(request_key.encode()).hexdigest()
    return "LOY" + digest[:13].upper() if kind == "gift_card" else "LOY-" + digest[:10].upper()


def find_request(conn: Connection, shop: ShopRef, request_key: str):
    """The voucher a redemption request already made, or None."""
    return conn.execute(select(vouchers).where(
        vouchers.c.request_key == keys.voucher_request(shop.id, request_key))).first()


def reserve(conn: Connection, shop: ShopRef, customer_id: int, offer: Offer | int, request_key: str,
            now: datetime):
    """Spend the points and record the voucher (status `creating`; a donation is `donated` at once);
    the same request returns the same row. An int offer is a conversion of that many points."""
    key = keys.voucher_request(shop.id, request_key)
    existing = find_request(conn, shop, request_key)
    if existing is not None:
        return existing
    if isinstance(offer, int):
        offer = conversion_offer(programme(conn, shop.id, shop.settings_version), offer)
    conn.execute(select(customers.c.id).where(customers.c.id == customer_id).with_for_update())
    available = ledger.balance(conn, customer_id).available if offer.points else 0
    if available < offer.points:
        raise VoucherRefused(f"not enough points: {available} available, {offer.points} asked",
                             "not_enough_points")
    donation = offer.kind == "donation"
    voucher_id = conn.execute(insert(vouchers).values(
        shop_id=shop.id, customer_id=customer_id, request_key=key, code=code_for(key, offer.kind),
        points=offer.points, amount=offer.amount, minimum_subtotal=offer.minimum_subtotal,
        collection_id=offer.collection_id, percentage=offer.percentage, variant_id=offer.variant_id,
        status="donated" if donation else "creating", kind=offer.kind, reward_key=offer.reward_key,
        ends_at=voucher_ends_at(offer, now), created_at=now, checkout=offer.checkout,
        reason=f"donation: {offer.title}" if donation else None,
    )).inserted_primary_key[0]
    if not offer.points:  # a gift (a birthday code, a referred friend's code): nothing spent, no entry
        return conn.execute(select(vouchers).where(vouchers.c.id == voucher_id)).one()
    ledger.write_entry(conn, shop_id=shop.id, customer_id=customer_id, kind="redeem", available=-offer.points,
                       key=keys.redeem(shop.id, voucher_id), effective_at=now, now=now,
                       settings_version=shop.settings_version,
                       reason=f"{offer.points} points redeemed for {_what(offer)}"
                              + (f" ({offer.title})" if offer.reward_key else ""))
    made = conn.execute(select(vouchers).where(vouchers.c.id == voucher_id)).one()
    if donation:  # made at once: no code to wait for
        flow.reward_redeemed(conn, made, now)
    return made


def _what(offer: Offer) -> str:
    """What the points bought, as the ledger's reason says it."""
    if offer.kind == "free_shipping":
        return "a free shipping code"
    if offer.kind == "store_credit":
        return f"{money.label(offer.amount)} store credit"
    if offer.percentage is not None:
        return f"a {offer.percentage.normalize():f} % voucher"
    return f"a {money.label(offer.amount)} " + {"discount": "voucher", "gift_card": "gift card", "donation": "donation"}[offer.kind]


def activate(conn: Connection, voucher_id: int, discount_id: str | None, now: datetime | None = None,
             notify: bool = True) -> None:
    """Shopify made the code (or the gift card): the voucher is usable, and its customer gets it by email
    (unless `notify` is False: the caller sends its own, e.g. a referred friend's code)."""
    if conn.execute(update(vouchers).where(vouchers.c.id == voucher_id, vouchers.c.status == "creating").values(
            status="active", shopify_discount_id=discount_id, reason=None)).rowcount:
        now = now or datetime.now(timezone.utc)
        if notify:
            notifications.voucher_created(conn, voucher_id, now)
        voucher = conn.execute(select(vouchers).where(vouchers.c.id == voucher_id)).one()
        if voucher.points:  # a redemption (a gift that spent no points redeemed nothing)
            flow.reward_redeemed(conn, voucher, now)


def note_waiting(conn: Connection, voucher_id: int, reason: str) -> None:
    """Shopify could not be asked to make the code (unreachable, throttled, token refused): the voucher stays
    `creating`, its points held, with the reason shown among the failures until the redemption is sent
    again or cancelled."""
    conn.execute(update(vouchers).where(vouchers.c.id == voucher_id, vouchers.c.status == "creating").values(
        reason=f"waiting on Shopify: {reason}"[:2000]))


def give_back(conn: Connection, shop: ShopRef, voucher, status: str, reason: str, now: datetime) -> None:
    """The voucher will never be used (Shopify refused it, or it was cancelled): its points come back once."""
    conn.execute(update(vouchers).where(vouchers.c.id == voucher.id).values(status=status, reason=reason))
    if voucher.customer_id is None or not voucher.points:  # a gift gives nothing back
        return
    key = keys.recredit(shop.id, voucher.id)
    if conn.execute(select(ledger_entries.c.id).where(ledger_entries.c.idempotency_key == key)).first() is None:
        ledger.write_entry(conn, shop_id=shop.id, customer_id=voucher.customer_id, kind="recredit",
                           available=voucher.points, key=key, effective_at=now, now=now,
                           reason=f"voucher {voucher.code} {status}: {reason}")


def by_id(conn: Connection, voucher_id: int):
    """The voucher with its customer's Shopify id and its shop's domain, or None."""
    return conn.execute(select(vouchers, customers.c.shopify_customer_id, shops.c.domain)
                        .join(customers, customers.c.id == vouchers.c.customer_id)
                        .join(shops, shops.c.id == vouchers.c.shop_id)
                        .where(vouchers.c.id == voucher_id)).first()


def lock(conn: Connection, voucher_id: int):
    """The voucher row, locked until the transaction ends (PostgreSQL; SQLite writes one at a time)."""
    return conn.execute(select(vouchers).where(vouchers.c.id == voucher_id).with_for_update()).one()


def checkout_codes_due(conn: Connection, as_of: datetime, limit: int) -> list[int]:
    """Codes made at checkout, still active, whose give-back is due at `as_of` (offers.checkout_give_back_due),
    oldest end first: the ids, at most `limit`."""
    return list(conn.execute(select(vouchers.c.id).where(
        vouchers.c.checkout.is_(True), vouchers.c.status == "active",
        vouchers.c.ends_at <= as_of - CHECKOUT_GIVE_BACK_GRACE).order_by(vouchers.c.ends_at).limit(limit)).scalars())


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
        vouchers.c.shop_id == shop.id, vouchers.c.code.in_(wanted), vouchers.c.kind.in_(CODE_KINDS),
        vouchers.c.status.in_(("active", "creating")),
    ).values(status="used", reason=f"used on order {order_name or ''}".strip())).rowcount


_MARK_USED = update(vouchers).where(
    vouchers.c.shop_id == bindparam("b_shop"), vouchers.c.code == bindparam("b_code"),
    or_(*(vouchers.c.kind == kind for kind in CODE_KINDS)),  # no IN (...): it runs as an executemany
    or_(vouchers.c.status == "active", vouchers.c.status == "creating"),
).values(status="used", reason=bindparam("b_reason"))
"""mark_used for one code, built once: run with many codes at a time (mark_many_used)."""


def mark_many_used(conn: Connection, shop: ShopRef, uses: list[tuple[tuple[str, ...], str | None]]) -> None:
    """mark_used for many orders, as (codes, order name) in the order they are applied, in one statement.
    Only a code's first use can change its voucher (it is then used), so only that one is sent."""
    first: dict[str, str] = {}
    for codes, name in uses:
        for code in (c.strip().upper() for c in codes if c.strip()):
            first.setdefault(code, f"used on order {name or ''}".strip())
    if first:
        conn.execute(_MARK_USED, [{"b_shop": shop.id, "b_code": code, "b_reason": reason}
                                  for code, reason in first.items()])


@ledger.perks_once
def expire_unused(conn: Connection, as_of: datetime, now: datetime) -> int:
    """Active vouchers past their end date expire; their points come back where the shop says so."""
    count = 0
    # Codes made at checkout are not here: unused, they are always given back (give_back_checkout_code).
    for voucher in conn.execute(select(vouchers).where(vouchers.c.status == "active", vouchers.c.kind.in_(CODE_KINDS),
                                                       vouchers.c.checkout.is_(False),
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
