"""Redeeming and cancelling vouchers: the ledger side (loyalty.vouchers) and the Shopify side
(integrations.shopify.discounts), in the order that keeps both consistent when anything fails."""
from __future__ import annotations

from datetime import datetime, timezone

from integrations.shopify import discounts
from integrations.shopify.errors import ShopifyUserErrors
from jobs.handlers import shopify_client
from loyalty import vouchers
from loyalty.customers import find_customer
from loyalty.shops import get_shop, programme
from runtime.context import Context


def redeem(ctx: Context, shop_domain: str, customer: str, points: int, request_key: str,
           now: datetime | None = None, client_factory=shopify_client):
    """Turn points into a code; safe to retry with the same request_key. Returns the voucher row."""
    now = now or datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        shop = get_shop(conn, shop_domain)
        row = find_customer(conn, shop.id, customer)
        if row is None or row.shopify_customer_id is None:
            raise vouchers.VoucherRefused(f"{customer}: no customer account in {shop_domain}")
        voucher = vouchers.reserve(conn, shop, row.id, points, request_key, now)
        prog = programme(conn, shop.id, shop.settings_version)
        client = client_factory(ctx, shop, conn)
    if voucher.status != "creating":
        return voucher
    terms = discounts.CodeTerms(
        code=voucher.code, title=f"Loyalty voucher {voucher.code}", amount=voucher.amount,
        customer_id=row.shopify_customer_id, starts_at=voucher.created_at, ends_at=voucher.ends_at,
        minimum_subtotal=voucher.minimum_subtotal, collection_id=prog.voucher_collection_id or None)
    try:
        discount_id = discounts.create_code(client, terms)
    except ShopifyUserErrors as exc:
        discount_id = discounts.find_code(client, voucher.code)  # made by an earlier attempt of this request?
        if discount_id is None:
            with ctx.engine.begin() as conn:
                vouchers.give_back(conn, shop, voucher, "refused", f"Shopify refused the code: {exc}", now)
                return vouchers.find(conn, shop, voucher.code)
    with ctx.engine.begin() as conn:
        vouchers.activate(conn, voucher.id, discount_id)
        return vouchers.find(conn, shop, voucher.code)


def cancel(ctx: Context, shop_domain: str, code: str, reason: str = "cancelled by support",
           now: datetime | None = None, client_factory=shopify_client):
    """Deactivate the code in Shopify, then credit the points back (once). Returns the voucher row."""
    now = now or datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        shop = get_shop(conn, shop_domain)
        voucher = vouchers.find(conn, shop, code)
        if voucher is None:
            raise vouchers.VoucherRefused(f"no voucher {code} in {shop_domain}")
        if voucher.status in ("refused", "cancelled"):
            return voucher
        if voucher.status in ("used", "expired"):
            raise vouchers.VoucherRefused(f"voucher {voucher.code} is {voucher.status}: nothing to cancel")
        client = client_factory(ctx, shop, conn)
    discount_id = voucher.shopify_discount_id or discounts.find_code(client, voucher.code)
    if discount_id:
        discounts.deactivate_code(client, discount_id)
    with ctx.engine.begin() as conn:
        vouchers.give_back(conn, shop, voucher, "cancelled", reason, now)
        return vouchers.find(conn, shop, voucher.code)
