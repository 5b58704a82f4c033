"""Redeeming and cancelling vouchers: the ledger side (loyalty.services.vouchers) and the Shopify side
(integrations.shopify.discounts, gift_cards), in the order that keeps both consistent when anything fails.

Shopify is never asked inside a transaction: the points are reserved (committed), Shopify makes the code,
and a second transaction records its answer. So each use case opens several transactions of its unit of
work. `client_factory(ctx, shop, conn)` makes the Shopify client (the storefront's is quicker to give up).
"""
from __future__ import annotations

from integrations.shopify import discounts, gift_cards
from integrations.shopify.errors import ShopifyUserErrors
from loyalty.domain import offers
from loyalty.domain.requests import CancelVoucher, RedeemPoints, RedeemReward
from loyalty.services import vouchers
from loyalty.services.customers import find_customer
from loyalty.services.events import shopify_client
from loyalty.services.shops import get_shop, programme
from loyalty.services.unit_of_work import UnitOfWork


def redeem_points(request: RedeemPoints, uow: UnitOfWork, client_factory=shopify_client):
    """Convert points into a code (store B); safe to retry with the same request_key. Returns the voucher."""
    return _redeem(uow, request.shop, request.customer, lambda prog: offers.conversion_offer(prog, request.points),
                   request.request_key, client_factory)


def redeem_reward(request: RedeemReward, uow: UnitOfWork, client_factory=shopify_client):
    """Spend points on a catalogue reward: a code, a gift card or a donation; safe to retry with the same
    request_key. Returns the voucher row."""
    return _redeem(uow, request.shop, request.customer, lambda prog: offers.reward_offer(prog, request.reward_key),
                   request.request_key, client_factory)


def _redeem(uow: UnitOfWork, shop_domain: str, customer: str, make_offer, request_key: str, client_factory):
    now = uow.now
    with uow:
        conn = uow.conn
        shop = get_shop(conn, shop_domain)
        row = find_customer(conn, shop.id, customer)
        if row is None or row.shopify_customer_id is None:
            raise vouchers.VoucherRefused(f"{customer}: no customer account in {shop_domain}", "no_account")
        voucher = vouchers.find_request(conn, shop, request_key)
        if voucher is None:
            offer = make_offer(programme(conn, shop.id, shop.settings_version))
            voucher = vouchers.reserve(conn, shop, row.id, offer, request_key, now)
        if voucher.status != "creating":
            return voucher
        prog = programme(conn, shop.id, shop.settings_version)
        client = client_factory(uow.ctx, shop, conn)
    try:
        if voucher.kind == "gift_card":
            made_id = gift_cards.create_gift_card(client, gift_cards.GiftCardTerms(
                code=voucher.code, value=voucher.amount, customer_id=row.shopify_customer_id,
                note=f"Loyalty reward {voucher.reward_key or ''}: {voucher.points} points".strip()))
        else:
            terms = discounts.CodeTerms(
                code=voucher.code, title=f"Loyalty voucher {voucher.code}", amount=voucher.amount,
                customer_id=row.shopify_customer_id, starts_at=voucher.created_at, ends_at=voucher.ends_at,
                minimum_subtotal=voucher.minimum_subtotal, collection_id=voucher.collection_id,
                combines=prog.voucher_combines_with_discounts)
            made_id = discounts.create_or_find_code(client, terms)  # made by an earlier attempt?
    except ShopifyUserErrors as exc:
        with uow:
            vouchers.give_back(uow.conn, shop, voucher, "refused", f"Shopify refused it: {exc}", now)
            return vouchers.find(uow.conn, shop, voucher.code)
    except Exception as exc:  # Shopify unreachable, token refused...: the points stay held, the reason shown
        with uow:  # among the failures (loyalty.services.failures) until the redemption is sent again
            vouchers.note_waiting(uow.conn, voucher.id, f"{type(exc).__name__}: {exc}")
        raise
    with uow:
        vouchers.activate(uow.conn, voucher.id, made_id, now)
        return vouchers.find(uow.conn, shop, voucher.code)


def cancel_voucher(request: CancelVoucher, uow: UnitOfWork, client_factory=shopify_client):
    """Deactivate the code in Shopify, then credit the points back (once). Returns the voucher row."""
    with uow:
        conn = uow.conn
        shop = get_shop(conn, request.shop)
        voucher = vouchers.find(conn, shop, request.code)
        if voucher is None:
            raise vouchers.VoucherRefused(f"no voucher {request.code} in {request.shop}", "unknown_voucher")
        if voucher.status in ("refused", "cancelled"):
            return voucher
        refusal = offers.cancel_refusal(voucher.code, voucher.kind, voucher.status)
        if refusal is not None:
            raise refusal
        client = client_factory(uow.ctx, shop, conn)
    discount_id = voucher.shopify_discount_id or discounts.find_code(client, voucher.code)
    if discount_id:
        discounts.deactivate_code(client, discount_id)
    with uow:
        vouchers.give_back(uow.conn, shop, voucher, "cancelled", request.reason, uow.now)
        return vouchers.find(uow.conn, shop, voucher.code)
