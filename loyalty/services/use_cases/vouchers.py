"""Redeeming and cancelling vouchers: the ledger side (loyalty.services.vouchers) and the Shopify side
(integrations.shopify.discounts, gift_cards), in the order that keeps both consistent when anything fails.

Shopify is never asked inside a transaction: the points are reserved (committed), Shopify makes the code,
and a second transaction records its answer. So each use case opens several transactions of its unit of
work. `client_factory(ctx, shop, conn)` makes the Shopify client (the storefront's is quicker to give up).
What the offer needs from Shopify is asked before the points are reserved, outside any transaction too: the
app's full-price collection (made again if the merchant deleted it) and a picked free item's variant.
"""
from __future__ import annotations

from integrations.shopify import collections, discounts, gift_cards
from integrations.shopify.errors import ShopifyUserErrors
from loyalty.domain import offers
from loyalty.domain.requests import CancelVoucher, RedeemPoints, RedeemReward
from loyalty.services import audit, notifications, shop_collections, tiers, vouchers
from loyalty.services.customers import find_customer
from loyalty.services.events import shopify_client
from loyalty.services.shops import get_shop, programme
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases import store_credit


def redeem_points(request: RedeemPoints, uow: UnitOfWork, client_factory=shopify_client):
    """Convert points into a code (store B), or store credit when the programme says so; safe to retry with
    the same request_key. Returns the voucher."""
    return _redeem(uow, request.shop, request.customer, None, request.request_key, client_factory,
                   _where(request, lambda prog, full_price, _picked:
                          offers.conversion_offer(prog, request.points, full_price)))


def redeem_reward(request: RedeemReward, uow: UnitOfWork, client_factory=shopify_client):
    """Spend points on a catalogue reward: a code, a gift card, a donation or store credit; safe to retry
    with the same request_key. Returns the voucher row."""
    return _redeem(uow, request.shop, request.customer, request.reward_key, request.request_key, client_factory,
                   _where(request, lambda prog, full_price, picked:
                          offers.reward_offer(prog, request.reward_key, full_price, picked)),
                   request.variant_id)


def _where(request: RedeemPoints | RedeemReward, make_offer):
    """The offer maker for the request: at checkout, the offer as a short-lived code (offers.at_checkout)."""
    if not request.at_checkout:
        return make_offer
    return lambda prog, full_price, picked: offers.at_checkout(make_offer(prog, full_price, picked))


def _reserve(conn, shop, customer_id: int, prog, offer, request_key: str, now):
    """Spend the points on the offer (vouchers.reserve), once the customer's tier may have it."""
    tiers.check_exclusive(conn, shop.id, customer_id, prog, offer)
    return vouchers.reserve(conn, shop, customer_id, offer, request_key, now)


def _redeem(uow: UnitOfWork, shop_domain: str, customer: str, reward_key: str | None, request_key: str,
            client_factory, make_offer, variant_id: int | None = None):
    now = uow.now
    with uow:
        conn = uow.conn
        shop = get_shop(conn, shop_domain)
        row = find_customer(conn, shop.id, customer)
        if row is None or row.shopify_customer_id is None:
            raise vouchers.VoucherRefused(f"{customer}: no customer account in {shop_domain}", "no_account")
        voucher = vouchers.find_request(conn, shop, request_key)
        prog = programme(conn, shop.id, shop.settings_version)
        asks_shopify = voucher is None and _needs_shopify(prog, reward_key)
        if voucher is None and not asks_shopify:
            voucher = _reserve(conn, shop, row.id, prog, make_offer(prog, None, None), request_key, now)
        if voucher is not None and voucher.status != "creating":
            return voucher
        full_price = shop_collections.known(conn, shop)
        client = client_factory(uow.ctx, shop, conn)
    if asks_shopify:
        full_price, picked = _shopify_facts(uow, shop, prog, client, reward_key, variant_id, full_price)
        with uow:
            voucher = _reserve(uow.conn, shop, row.id, prog, make_offer(prog, full_price, picked), request_key, now)
        if voucher.status != "creating":
            return voucher
    return _make_code(uow, shop, voucher, row.shopify_customer_id, prog, client)


def issue_gift(voucher_id: int, uow: UnitOfWork, client_factory=shopify_client):
    """Make in Shopify a gift code reserved at no cost (a birthday gift: loyalty.services.birthdays), once;
    safe to repeat. Returns the voucher row."""
    with uow:
        conn = uow.conn
        found = vouchers.by_id(conn, voucher_id)
        if found is None or found.status != "creating":
            return found
        voucher, shopify_customer_id, domain = found, found.shopify_customer_id, found.domain
        shop = get_shop(conn, domain)
        prog = programme(conn, shop.id, shop.settings_version)
        client = client_factory(uow.ctx, shop, conn)
    return _make_code(uow, shop, voucher, shopify_customer_id, prog, client)


def _make_code(uow: UnitOfWork, shop, voucher, shopify_customer_id: int, prog, client):
    """Ask Shopify for the voucher's code (or gift card, or store credit), outside any transaction, and record
    the answer."""
    if voucher.kind == "store_credit":  # no code: Shopify credits the customer's account
        return store_credit.send_credit(uow, shop, voucher, shopify_customer_id, client)
    now = uow.now
    try:
        if voucher.kind == "gift_card":
            made_id = gift_cards.create_gift_card(client, gift_cards.GiftCardTerms(
                code=voucher.code, value=voucher.amount, customer_id=shopify_customer_id,
                note=f"Loyalty reward {voucher.reward_key or ''}: {voucher.points} points".strip()))
        else:
            terms = discounts.CodeTerms(
                code=voucher.code, title=f"Loyalty voucher {voucher.code}", amount=voucher.amount,
                customer_id=shopify_customer_id, starts_at=voucher.created_at, ends_at=voucher.ends_at,
                minimum_subtotal=voucher.minimum_subtotal, collection_id=voucher.collection_id,
                combines=prog.voucher_combines_with_discounts, percentage=voucher.percentage,
                variant_id=voucher.variant_id)
            create = (discounts.create_free_shipping_code if voucher.kind == "free_shipping"
                      else discounts.create_code)
            made_id = discounts.create_or_find_code(client, terms, create)  # made by an earlier attempt?
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


def _needs_shopify(prog, reward_key: str | None) -> bool:
    """Whether the offer needs Shopify first: the full-price collection, or a picked item's variant."""
    if prog.full_price.automatic and offers.uses_voucher_collection(prog, reward_key):
        return True
    return reward_key is not None and offers.picks_item(prog, reward_key)


def _shopify_facts(uow: UnitOfWork, shop, prog, client, reward_key: str | None, variant_id: int | None,
                   full_price: int | None):
    """What the offer needs from Shopify: the full-price collection's id (made, or made again, when the
    programme limits vouchers to it) and the picked free item's variant (None when not a picked item)."""
    if prog.full_price.automatic and offers.uses_voucher_collection(prog, reward_key):
        full_price = ensure_full_price_collection(uow, shop, prog, client, full_price)
    picked = None  # a picked item without its variant is refused by the offer (pick_required)
    if reward_key is not None and offers.picks_item(prog, reward_key) and variant_id:
        reward = prog.reward(reward_key)
        picked = collections.picked_variant(client, variant_id, reward.collection_id)
        if picked is None:
            raise vouchers.VoucherRefused(f"no such item in {reward.title}: choose another", "not_in_selection")
    return full_price, picked


def ensure_full_price_collection(uow: UnitOfWork, shop, prog, client, known: int | None) -> int:
    """The shop's full-price smart collection: the one recorded if Shopify still has it, else a new one
    (recorded). Shopify is asked outside any transaction."""
    if known and collections.collection_exists(client, known):
        return known
    made = collections.create_full_price_collection(client, prog.full_price.title)
    with uow:
        shop_collections.remember(uow.conn, shop, made, uow.now)
    return made


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
        refusal = offers.cancel_refusal(voucher.code, voucher.kind, voucher.status,
                                        credit_sent=voucher.credit_sent_at is not None)
        if refusal is not None:
            raise refusal
        client = client_factory(uow.ctx, shop, conn) if voucher.kind != "store_credit" else None
    if client is not None:  # store credit never sent has nothing in Shopify to undo
        _end_in_shopify(client, voucher)
    with uow:
        first = vouchers.lock(uow.conn, voucher.id).status != "cancelled"  # a racing cancel is audited once
        vouchers.give_back(uow.conn, shop, voucher, "cancelled", request.reason, uow.now)
        notifications.voucher_cancelled(uow.conn, voucher.id, uow.now)  # the customer is told, points back
        if first:
            audit.record(uow.conn, shop.id, action="voucher_cancelled", at=uow.now, actor=request.actor,
                         customer_id=voucher.customer_id, subject=voucher.code,
                         summary=f"voucher {voucher.code} cancelled, {voucher.points or 0} points credited back: "
                                 f"{request.reason}{audit.by(request.actor)}",
                         details={"code": voucher.code, "kind": voucher.kind, "points": voucher.points,
                                  "reason": request.reason})
        return vouchers.find(uow.conn, shop, voucher.code)


def _end_in_shopify(client, voucher) -> None:
    """Deactivate the voucher's code in Shopify (found by its code when its id was never recorded)."""
    discount_id = voucher.shopify_discount_id or discounts.find_code(client, voucher.code)
    if discount_id:
        discounts.deactivate_code(client, discount_id)


def give_back_checkout_code(voucher_id: int, uow: UnitOfWork, client_factory=shopify_client):
    """A code made at checkout and still unused past its end (offers.checkout_give_back_due): deactivated in
    Shopify, then its points re-credited, once (the `recredit` entry's key), recorded in the history. A code
    an order used meanwhile is `used` and never given back. Returns the voucher row (None: no such voucher)."""
    with uow:
        voucher = vouchers.by_id(uow.conn, voucher_id)
        if voucher is None or not voucher.checkout or voucher.status != "active":
            return voucher
        shop = get_shop(uow.conn, voucher.domain, installed_only=False)
        client = client_factory(uow.ctx, shop, uow.conn)
    _end_in_shopify(client, voucher)
    with uow:
        current = vouchers.lock(uow.conn, voucher_id)
        if current.status == "active" and offers.checkout_give_back_due(current.ends_at, uow.now):
            vouchers.give_back(uow.conn, shop, current, "expired", "made at checkout, unused: points given back",
                               uow.now)
        return vouchers.by_id(uow.conn, voucher_id)
