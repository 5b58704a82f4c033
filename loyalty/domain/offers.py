"""What a redemption spends and makes (store B's conversion, the reward catalogue), what a conversion of a
balance would be worth, how long a code lasts, and which vouchers may be cancelled (their points then come
back, once: the ledger's `recredit` entry)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from loyalty.domain import money
from loyalty.domain.store_credit import credit_expires_at
from loyalty.domain.errors import VoucherRefused
from loyalty.domain.programme import Programme


@dataclass(frozen=True)
class Offer:
    """What a redemption spends and what it makes: a discount code, a gift card or a donation."""

    points: int
    amount: Decimal
    kind: str
    """discount | gift_card | donation | store_credit (the vouchers.kind column)."""
    title: str
    validity_days: int
    reward_key: str | None = None
    minimum_subtotal: Decimal | None = None
    collection_id: int | None = None
    combines: bool = False


def conversion_offer(prog: Programme, points: int) -> Offer:
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
                 collection_id=prog.voucher_collection_id or None, combines=prog.voucher_combines_with_discounts)


def reward_offer(prog: Programme, reward_key: str) -> Offer:
    """A catalogue reward that spends points; perks (unlocked, not bought) are refused."""
    reward = prog.reward(reward_key)
    if reward is None:
        raise VoucherRefused(f"no reward {reward_key!r} in this programme", "unknown_reward")
    if not reward.spends_points:
        raise VoucherRefused(f"{reward.title} is a status perk, unlocked at {reward.points} points: "
                             "it is not redeemed", "not_redeemable")
    common = dict(points=reward.points, amount=reward.amount, title=reward.title, reward_key=reward.key,
                  validity_days=prog.voucher_validity_days, combines=prog.voucher_combines_with_discounts)
    if reward.kind == "voucher":
        return Offer(kind="discount", minimum_subtotal=prog.voucher_minimum_subtotal or None,
                     collection_id=reward.collection_id or prog.voucher_collection_id or None, **common)
    if reward.kind == "free_item":
        return Offer(kind="discount", collection_id=reward.collection_id, **common)
    if reward.kind == "store_credit":
        return Offer(kind="store_credit", **{**common, "validity_days": prog.store_credit.expiry_days})
    return Offer(kind=reward.kind, **common)  # gift_card, donation


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
    return now + timedelta(days=offer.validity_days)


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
