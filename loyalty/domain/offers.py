"""What a redemption spends and makes (store B's conversion, the reward catalogue), what a conversion of a
balance would be worth, how long a code lasts, and which vouchers may be cancelled (their points then come
back, once: the ledger's `recredit` entry). Which collection a voucher is limited to (the app's full-price
collection or the merchant's), and whether a picked free item may be had."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from loyalty.domain import money
from loyalty.domain.store_credit import as_utc, credit_expires_at
from loyalty.domain.errors import VoucherRefused
from loyalty.domain.programme import Programme
from loyalty.defaults import CHECKOUT_CODE_LIFETIME, CHECKOUT_GIVE_BACK_GRACE


@dataclass(frozen=True)
class Offer:
    """What a redemption spends and what it makes: a discount code, a gift card or a donation."""

    points: int
    amount: Decimal
    kind: str
    """discount | gift_card | donation | free_shipping | store_credit (the vouchers.kind column)."""
    title: str
    validity_days: int
    reward_key: str | None = None
    minimum_subtotal: Decimal | None = None
    collection_id: int | None = None
    combines: bool = False
    percentage: Decimal | None = None
    """A percentage off (1-100) instead of `amount` off."""
    variant_id: int | None = None
    """A picked free item: the code is for this product variant only, worth its price (one unit)."""
    checkout: bool = False
    """A code made at checkout: it lasts CHECKOUT_CODE_LIFETIME and is given back unused (at_checkout)."""


@dataclass(frozen=True)
class PickedItem:
    """The product variant a customer picked for a free item, as Shopify describes it."""

    variant_id: int
    title: str
    price: Decimal
    in_selection: bool
    """The variant's product belongs to the reward's collection."""


def voucher_collection(prog: Programme, full_price_collection_id: int | None) -> int | None:
    """The collection vouchers are limited to: the app's full-price collection when the programme asks for it
    (`full_price.automatic`) and it is known, else the merchant's `voucher_collection_id` (None: everything)."""
    if prog.full_price.automatic and full_price_collection_id:
        return full_price_collection_id
    return prog.voucher_collection_id or None


def uses_voucher_collection(prog: Programme, reward_key: str | None) -> bool:
    """Whether a redemption (a conversion: no reward key) makes a code limited to the vouchers' collection, so
    the full-price collection must exist first."""
    if reward_key is None:
        return prog.conversion_enabled and prog.store_credit.conversion_target != "store_credit"
    reward = prog.reward(reward_key)
    return reward is not None and reward.kind in ("voucher", "percentage") and not reward.collection_id


def picks_item(prog: Programme, reward_key: str) -> bool:
    """Whether the reward is a free item the customer picks (its variant must be looked up first)."""
    reward = prog.reward(reward_key)
    return reward is not None and reward.kind == "free_item" and reward.customer_picks


def conversion_offer(prog: Programme, points: int, full_price_collection_id: int | None = None) -> Offer:
    """Any number of points into a voucher at the shop's rate (store B's conversion); into store credit of
    the same value when the programme's `store_credit.conversion_target` says so."""
    if not prog.conversion_enabled:
        raise VoucherRefused("this programme does not convert points into vouchers: choose a reward",
                             "no_conversion")
    if points < prog.conversion_minimum_points:
        raise VoucherRefused(f"at least {prog.conversion_minimum_points} points can be converted, {points} asked",
                             "below_minimum")
    amount = money.voucher_amount(points, prog.voucher_value_per_point)
    if amount <= 0:
        raise VoucherRefused(f"{points} points are worth nothing: nothing to redeem", "worthless")
    if prog.store_credit.conversion_target == "store_credit":
        return Offer(points=points, amount=amount, kind="store_credit", title=f"{points} points",
                     validity_days=prog.store_credit.expiry_days)
    return Offer(points=points, amount=amount, kind="discount", title=f"{points} points",
                 validity_days=prog.voucher_validity_days, minimum_subtotal=prog.voucher_minimum_subtotal or None,
                 collection_id=voucher_collection(prog, full_price_collection_id),
                 combines=prog.voucher_combines_with_discounts)


def reward_offer(prog: Programme, reward_key: str, full_price_collection_id: int | None = None,
                 picked: PickedItem | None = None) -> Offer:
    """A catalogue reward that spends points; perks (unlocked, not bought) are refused. A free item the
    customer picks needs the `picked` variant: of the selection, at most the reward's price cap."""
    reward = prog.reward(reward_key)
    if reward is None:
        raise VoucherRefused(f"no reward {reward_key!r} in this programme", "unknown_reward")
    if not reward.spends_points:
        raise VoucherRefused(f"{reward.title} is a status perk, unlocked at {reward.points} points: "
                             "it is not redeemed", "not_redeemable")
    common = dict(points=reward.points, amount=reward.amount, title=reward.title, reward_key=reward.key,
                  validity_days=prog.voucher_validity_days, combines=prog.voucher_combines_with_discounts)
    if reward.kind in ("voucher", "percentage"):
        collection = reward.collection_id or voucher_collection(prog, full_price_collection_id)
        percentage = reward.percentage if reward.kind == "percentage" else None
        return Offer(kind="discount", minimum_subtotal=prog.voucher_minimum_subtotal or None,
                     collection_id=collection, percentage=percentage, **common)
    if reward.kind == "free_item" and reward.customer_picks:
        return _picked_offer(reward, picked, common)
    if reward.kind == "free_item":
        return Offer(kind="discount", collection_id=reward.collection_id, **common)
    if reward.kind == "free_shipping":
        return Offer(kind="free_shipping", **common)
    if reward.kind == "store_credit":
        return Offer(kind="store_credit", **{**common, "validity_days": prog.store_credit.expiry_days})
    return Offer(kind=reward.kind, **common)  # gift_card, donation


def _picked_offer(reward, picked: PickedItem | None, common: dict) -> Offer:
    """A code for exactly the picked variant, worth its price: one unit free, the rest of the cart unchanged."""
    if picked is None:
        raise VoucherRefused(f"{reward.title}: choose the item you want from the selection", "pick_required")
    if not picked.in_selection:
        raise VoucherRefused(f"{picked.title} is not part of the selection for {reward.title}", "not_in_selection")
    if picked.price <= 0:
        raise VoucherRefused(f"{picked.title} is already free: choose another item", "worthless")
    if reward.amount and picked.price > reward.amount:
        raise VoucherRefused(f"{picked.title} costs more than this reward covers: choose another item",
                             "too_expensive")
    return Offer(kind="discount", variant_id=picked.variant_id,
                 **{**common, "amount": picked.price, "title": f"{reward.title}: {picked.title}"})


def conversion_facts(prog: Programme, available: int) -> dict | None:
    """What a conversion of every available point would be worth (store B), when the shop offers one."""
    if not prog.conversion_enabled or available < prog.conversion_minimum_points:
        return None
    return {"value": money.voucher_amount(available, prog.voucher_value_per_point), "minimum_points": prog.conversion_minimum_points}


def voucher_ends_at(offer: Offer, now: datetime) -> datetime:
    """A code made now works until this moment (store B: one month, `voucher_validity_days`); store credit
    until its expiry, to the second (loyalty.domain.store_credit.credit_expires_at)."""
    if offer.kind == "store_credit":
        return credit_expires_at(now, offer.validity_days)
    if offer.checkout:
        return now + CHECKOUT_CODE_LIFETIME
    return now + timedelta(days=offer.validity_days)


CHECKOUT_KINDS = ("discount", "free_shipping")
"""What a checkout can apply: a discount code (an amount, a percentage, a free item) or free shipping."""


def at_checkout(offer: Offer) -> Offer:
    """The offer as a code for the checkout in progress: it lasts CHECKOUT_CODE_LIFETIME (hours, not the
    programme's days) and, unused by then, its points come back (checkout_give_back_due), whatever the
    programme says of expired vouchers: the customer never chose to let it lapse. A gift card, a donation or
    store credit is no code to apply: refused (`not_a_code`)."""
    if offer.kind not in CHECKOUT_KINDS:
        raise VoucherRefused(f"{offer.title} cannot be applied at checkout: redeem it from the account page",
                             "not_a_code")
    return replace(offer, checkout=True)


def checkout_give_back_due(ends_at: datetime, as_of: datetime) -> bool:
    """A checkout code still active at this moment is given back: its end is CHECKOUT_GIVE_BACK_GRACE past
    (an order that used it before its end has been applied by then, and marked it used)."""
    return as_utc(ends_at) + CHECKOUT_GIVE_BACK_GRACE <= as_of


def cancel_refusal(code: str, kind: str, status: str, credit_sent: bool = False) -> VoucherRefused | None:
    """Why a voucher cannot be cancelled (its points given back), or None when it can. A code already used or
    expired is spent; a donation is recorded; an issued gift card may be spent already; store credit once
    credited may be spent, and once sent to Shopify (`credit_sent`) may have been credited."""
    if status in ("used", "expired"):
        return VoucherRefused(f"voucher {code} is {status}: nothing to cancel", "not_cancellable")
    if kind == "donation":
        return VoucherRefused(f"{code} is a donation already recorded: it cannot be cancelled", "not_cancellable")
    if kind == "gift_card" and status == "active":
        return VoucherRefused(f"gift card {code} is issued and may be spent: deactivate it in Shopify admin, then "
                              "adjust the points if they should come back", "not_cancellable")
    if kind == "store_credit" and (status == "active" or credit_sent):
        return VoucherRefused(f"store credit {code} is or may be credited, and may be spent: debit it in Shopify "
                              "admin, then adjust the points if they should come back", "not_cancellable")
    return None


CODE_KINDS = ("voucher", "percentage", "free_item", "free_shipping")
"""Rewards that make a discount code (used at checkout, once, before it expires)."""


def terms(prog: Programme, reward=None) -> dict:
    """The conditions a shopper accepts when they redeem `reward` (None: a conversion of points), as the page
    states them beside the button: how long the result lasts (None: a gift card or a donation, no end date),
    the basket it needs, whether it excludes discounted products, one code per order, whether an unused
    code's points are lost, whether it combines with other discounts. From the same settings the offer is
    made with (`conversion_offer`, `reward_offer`), so what is promised is what is made."""
    kind = "voucher" if reward is None else reward.kind
    if reward is None and prog.store_credit.conversion_target == "store_credit":
        kind = "store_credit"
    if kind in CODE_KINDS:
        discount = kind in ("voucher", "percentage")
        limited = discount and not (reward is not None and reward.collection_id) and bool(
            prog.full_price.automatic or prog.voucher_collection_id)
        minimum = prog.voucher_minimum_subtotal if discount and prog.voucher_minimum_subtotal > 0 else None
        return {"validity_days": prog.voucher_validity_days,
                "minimum_subtotal": f"{minimum:.2f}" if minimum is not None else None,
                "full_price_only": limited, "one_per_order": not prog.voucher_combines_with_discounts,
                "points_lost_if_unused": not prog.voucher_expiry_returns_points,
                "combines_with_discounts": prog.voucher_combines_with_discounts}
    # Store credit lasts `store_credit.expiry_days` and what is left then is lost; a gift card never ends;
    # a donation is given at once. None of them is a discount code.
    credit = kind == "store_credit"
    return {"validity_days": prog.store_credit.expiry_days if credit else None, "minimum_subtotal": None,
            "full_price_only": False, "one_per_order": False, "points_lost_if_unused": credit,
            "combines_with_discounts": kind != "donation"}
