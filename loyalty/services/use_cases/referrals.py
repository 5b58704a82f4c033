"""A referred friend's claim: the referral and its first-order code recorded (one transaction), the code
made in Shopify outside any transaction, then the code activated and emailed to the friend (another).
The same email always finds the same referral and code, so a replayed or repeated claim makes nothing twice
and finishes a code an earlier attempt left `creating`."""
from __future__ import annotations

from integrations.shopify import discounts
from integrations.shopify.errors import ShopifyUserErrors
from loyalty.domain.requests import InviteFriend
from loyalty.services import referrals, vouchers
from loyalty.services.events import shopify_client
from loyalty.services.shops import get_shop, programme
from loyalty.services.unit_of_work import UnitOfWork


def invite_friend(request: InviteFriend, uow: UnitOfWork, client_factory=shopify_client):
    """Record the friend's referral (or its refusal) and make their code; returns the referral row (with its
    `code` and `voucher_status`). ReferralRefused when it cannot be made at all."""
    now = uow.now
    with uow:
        conn = uow.conn
        shop = get_shop(conn, request.shop)
        referral = referrals.claim(conn, shop, request.code, request.email, now)
        if referral.status == "refused" or referral.voucher_status != "creating":
            return referral
        settings = programme(conn, shop.id, referral.settings_version).referrals
        voucher = vouchers.find(conn, shop, referral.code)
        client = client_factory(uow.ctx, shop, conn)
    terms = discounts.CodeTerms(
        code=voucher.code, title=f"Referral: first order {voucher.code}", amount=voucher.amount, customer_id=None,
        starts_at=voucher.created_at, ends_at=voucher.ends_at, minimum_subtotal=voucher.minimum_subtotal,
        percentage=settings.friend_value if settings.friend_discount == "percentage" else None)
    try:
        made_id = discounts.create_or_find_code(client, terms)
    except ShopifyUserErrors as exc:
        with uow:
            vouchers.give_back(uow.conn, shop, voucher, "refused", f"Shopify refused it: {exc}", now)
            return referrals.find(uow.conn, shop.id, referral.friend_key)
    except Exception as exc:  # Shopify unreachable...: the claim again finishes the same code
        with uow:
            vouchers.note_waiting(uow.conn, voucher.id, f"{type(exc).__name__}: {exc}")
        raise
    with uow:
        referrals.friend_code_ready(uow.conn, shop, referral, made_id, now)
        return referrals.find(uow.conn, shop.id, referral.friend_key)
