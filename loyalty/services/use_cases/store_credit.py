"""Store credit: crediting a reserved redemption in Shopify safely (Shopify's storeCreditAccountCredit has
no idempotency key), and reading back what customers spent of their credits (a scheduled job).

Crediting, in the order that never credits twice: (1) one transaction marks the attempt
(loyalty.services.store_credit.claim_attempt); (2) outside any transaction, when an earlier attempt's
outcome is unknown, the customer's credits are searched for its credit, and only if none is found is the
credit sent, once (no resend on a timeout); (3) a second transaction records the credit, or gives the
points back when Shopify refused it. A crash or a timeout anywhere leaves the voucher `creating` with its
mark, and the next attempt (the same redemption sent again, or the scheduled job) looks before it credits.
"""
from __future__ import annotations

import logging
from datetime import datetime

from integrations.shopify import store_credit as shopify_credit
from integrations.shopify.errors import ShopifyError, ShopifyUserErrors
from loyalty.defaults import STORE_CREDIT_CHECK_BATCH
from loyalty.domain import store_credit as rules
from loyalty.services import store_credit, vouchers
from loyalty.services.errors import ShopGone, UnknownShop
from loyalty.services.events import shopify_client
from loyalty.services.shops import ShopRef, get_shop
from loyalty.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def send_credit(uow: UnitOfWork, shop: ShopRef, voucher, shopify_customer_id: int, client):
    """Credit a reserved store-credit voucher in Shopify (see the module). Returns the voucher row: active,
    refused (points given back), or still creating when another attempt may be running. Raises the
    ShopifyError that left the outcome open (the voucher stays creating, its reason shown)."""
    now = uow.now
    with uow:
        step = store_credit.claim_attempt(uow.conn, voucher.id, now)
        claimed = store_credit.claimed_ids(uow.conn, shop.id) if step == rules.LOOK else set()
    if step == rules.WAIT:
        with uow:
            return vouchers.find(uow.conn, shop, voucher.code)
    try:
        currency = shopify_credit.shop_currency(client)
        made = None
        expires_at = rules.as_utc(voucher.ends_at)
        if step == rules.LOOK:  # the earlier attempt may have credited: find its credit first
            sent_at = rules.as_utc(voucher.credit_sent_at)
            made = rules.matching_credit(
                list(shopify_credit.credits(client, shopify_customer_id, newest_first=True,
                                            until=sent_at - rules.CLOCK_SKEW)),
                amount=voucher.amount, currency=currency, expires_at=expires_at, sent_at=sent_at, claimed=claimed)
        if made is None:
            made = shopify_credit.credit(client, shopify_credit.CreditTerms(
                customer_id=shopify_customer_id, amount=voucher.amount, currency=currency, expires_at=expires_at))
    except ShopifyUserErrors as exc:  # refused: nothing was credited
        with uow:
            vouchers.give_back(uow.conn, shop, voucher, "refused", f"Shopify refused it: {exc}", now)
            return vouchers.find(uow.conn, shop, voucher.code)
    except Exception as exc:  # unreachable, timed out, token refused: the next attempt looks before crediting
        with uow:
            vouchers.note_waiting(uow.conn, voucher.id, f"{type(exc).__name__}: {exc}")
        raise
    with uow:
        store_credit.activate(uow.conn, voucher.id, made, now)
        return vouchers.find(uow.conn, shop, voucher.code)


def check_store_credit(uow: UnitOfWork, client_factory=shopify_client, *, now: datetime | None = None,
                       batch: int = STORE_CREDIT_CHECK_BATCH) -> dict:
    """The scheduled store credit job: finish the credits whose attempt died (looking before crediting),
    then read back what customers spent of their active credits (online or at the point of sale) and
    record it, per shop, `batch` customers at a time (those checked longest ago first). Returns counts."""
    now = now or uow.now
    counts = {"finished": 0, "checked": 0, "changed": 0, "failed": 0}
    with uow:
        pending = store_credit.unfinished(uow.conn, now, batch)
    for voucher in pending:
        try:
            with uow:
                shop = _shop_of(uow, voucher.shop_id)
                client = client_factory(uow.ctx, shop, uow.conn)
            send_credit(uow, shop, voucher, voucher.shopify_customer_id, client)
            counts["finished"] += 1
        except (ShopifyError, ShopGone, UnknownShop, OSError) as exc:
            log.warning("store credit %s still waiting on Shopify: %s", voucher.code, exc)
            counts["failed"] += 1
    with uow:
        shop_ids = store_credit.shops_with_open_credit(uow.conn)
    for shop_id in shop_ids:
        try:
            with uow:
                shop = _shop_of(uow, shop_id)
                client = client_factory(uow.ctx, shop, uow.conn)
                holders = store_credit.customers_to_check(uow.conn, shop_id, batch)
            for customer_id, shopify_customer_id in holders:
                seen = {c.id: c for c in shopify_credit.credits(client, shopify_customer_id)}
                with uow:
                    counts["changed"] += store_credit.record_remaining(uow.conn, customer_id, seen, now)
                counts["checked"] += 1
        except (ShopifyError, ShopGone, UnknownShop, OSError) as exc:
            log.warning("store credit of shop %s not read back: %s", shop_id, exc)
            counts["failed"] += 1
    return counts


def _shop_of(uow: UnitOfWork, shop_id: int) -> ShopRef:
    return get_shop(uow.conn, store_credit.shop_domain(uow.conn, shop_id))
