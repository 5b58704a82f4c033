"""Every idempotency key of the app, built here and nowhere else.

A key is the promise "never twice": the database holds it under a UNIQUE constraint (ledger entries'
`idempotency_key`, notifications' `dedup_key`, vouchers' `request_key`), so whatever path writes the thing
it names - a webhook, a retry, the history import, a replay - the second write is refused or finds the
first. Each function says what its key makes unique. The formats are stored in existing databases: they
never change (tests/unit/test_keys.py pins each one byte for byte).
"""
from __future__ import annotations

from datetime import datetime

MOMENT = "%Y%m%dT%H%M%S"
"""How a moment is written inside a key (a last purchase): to the second, without offset (UTC)."""


# -- ledger entries (ledger_entries.idempotency_key) ------------------------------------------------------

def _order(shop_id: int, shopify_order_id: int) -> str:
    return f"{shop_id}:order:{shopify_order_id}"


def earn(shop_id: int, shopify_order_id: int) -> str:
    """An order earns once: its award, whether it arrives by webhook, by the history import or both."""
    return f"{_order(shop_id, shopify_order_id)}:earn"


def mature(shop_id: int, shopify_order_id: int) -> str:
    """An order's pending points become available once (the maturity run and the history import)."""
    return f"{_order(shop_id, shopify_order_id)}:mature"


def void(shop_id: int, shopify_order_id: int) -> str:
    """A cancelled order gives back what it still holds once."""
    return f"{_order(shop_id, shopify_order_id)}:void"


def claw_back(shop_id: int, shopify_refund_id: int) -> str:
    """A refund takes points back once (one entry per Shopify refund, whatever its order's other refunds)."""
    return f"{shop_id}:refund:{shopify_refund_id}"


def expire(shop_id: int, customer_id: int, last_purchase: datetime) -> str:
    """A customer's points expire once per last purchase: a new purchase makes a new key (live expiry and
    the history import's expiry of past gaps write the same one)."""
    return f"{shop_id}:customer:{customer_id}:expire:{last_purchase:{MOMENT}}"


def redeem(shop_id: int, voucher_id: int) -> str:
    """A voucher spends its points once."""
    return f"{shop_id}:voucher:{voucher_id}:redeem"


def recredit(shop_id: int, voucher_id: int) -> str:
    """A voucher that will never be used (refused, cancelled, expired) gives its points back once."""
    return f"{shop_id}:voucher:{voucher_id}:recredit"


def adjust(shop_id: int, client_token: str) -> str:
    """A manual adjustment is booked once per submitted form (its client token)."""
    return f"{shop_id}:adjust:{client_token}"


def signup(shop_id: int, shopify_customer_id: int) -> str:
    """A customer account earns its sign-up points once: keyed by the Shopify account, so a replayed
    customers/create or a guest record merged into the account later cannot credit it twice."""
    return f"{shop_id}:signup:{shopify_customer_id}"


def birthday_bonus(shop_id: int, customer_id: int, year: int) -> str:
    """A customer's birthday points come once a year."""
    return f"{shop_id}:customer:{customer_id}:birthday-bonus:{year}"


def action(shop_id: int, action_key: str, reference: str) -> str:
    """An action (a review, a Flow action) is awarded once per reference (the review's id, the Flow run)."""
    return f"{shop_id}:action:{action_key}:{reference}"


# -- redemption requests (vouchers.request_key) ------------------------------------------------------------

def voucher_request(shop_id: int, request_key: str) -> str:
    """A redemption request makes one voucher in its shop: a retry finds it (and its code) again."""
    return f"{shop_id}:voucher-request:{request_key}"


def storefront_request(customer_id: int, nonce: str, what: str) -> str:
    """The request key of a storefront redemption: one voucher per page nonce, customer and reward (or
    `convert`), so a double click or a resubmitted form redeems once."""
    return f"storefront:{customer_id}:{nonce}:{what}"


def birthday_gift_request(customer_id: int, year: int) -> str:
    """The request key of a birthday gift code: one per customer and year."""
    return f"birthday:{customer_id}:{year}"


def tier_gift_request(customer_id: int, label: str) -> str:
    """The request key of a tier's free shipping code: one per customer and label (a tier entry, or a month
    or year: loyalty.domain.tiers.free_shipping_due)."""
    return f"tier-gift:{customer_id}:{label}"


def cli_request(unique: str) -> str:
    """The request key of a CLI redemption given no --key: one voucher per command run (`unique`: a UUID)."""
    return f"cli:{unique}"


# -- emails (notifications.dedup_key) ----------------------------------------------------------------------

def email(shop_id: int, event: str) -> str:
    """An email is recorded once per shop and event (`event`: one of the functions below)."""
    return f"{shop_id}:{event}"


def points_available_event(shopify_order_id: int) -> str:
    """One "points available" email per maturity run and customer, named by its first order (lowest id)."""
    return f"order:{shopify_order_id}:available"


def threshold_event(customer_id: int, perk_keys) -> str:
    """One "perks unlocked" email per customer and set of perks unlocked together (`perk_keys` in the
    email's order): a perk lost and unlocked again alone makes a new key."""
    return f"customer:{customer_id}:threshold:{'+'.join(perk_keys)}"


def voucher_event(voucher_id: int) -> str:
    """One "your voucher" email per voucher."""
    return f"voucher:{voucher_id}"


def voucher_cancelled_event(voucher_id: int) -> str:
    """One "your voucher was cancelled" email per voucher (a voucher is cancelled once)."""
    return f"voucher:{voucher_id}:cancelled"


def expiring_event(customer_id: int, last_purchase: datetime, days: int) -> str:
    """One "points expire in N days" email per customer, last purchase and notice (30, 7): a new purchase
    re-arms the notices."""
    return f"customer:{customer_id}:expiring:{last_purchase:{MOMENT}}:{days}"


def birthday_event(customer_id: int, perk_key: str, year: int) -> str:
    """One birthday email per customer, birthday perk and year."""
    return f"customer:{customer_id}:birthday:{perk_key}:{year}"


def tier_event(customer_id: int, tier: str | None, since: datetime) -> str:
    """One "your tier changed" email per customer and tier entry (`tier` None: left every tier; `since`: the
    moment of the change): re-entering a tier later is a new entry, a replayed recalculation is not."""
    return f"customer:{customer_id}:tier:{tier or '-'}:{since:{MOMENT}}"

def awarded_event(award_key: str) -> str:
    """One "points awarded" email per bonus award (its ledger key: sign-up, birthday, action)."""
    return f"awarded:{award_key}"


def birthday_gift_event(voucher_id: int) -> str:
    """One birthday gift email per gift code."""
    return f"birthday-gift:{voucher_id}"
# -- referrals ----------------------------------------------------------------------------------------------

def referral_reward(shop_id: int, referral_id: int) -> str:
    """A referral rewards its referrer once (the `bonus` entry), however many maturity runs see it."""
    return f"{shop_id}:referral:{referral_id}:reward"


def referral_friend_request(friend_email: str) -> str:
    """The request key of a referred friend's first-order code: one code per friend (normalised email)."""
    return f"referral:{friend_email}"


def referral_friend_event(referral_id: int) -> str:
    """One "your first-order code" email per referral."""
    return f"referral:{referral_id}:friend"


def referral_reward_event(referral_id: int) -> str:
    """One "your friend's order earned you points" email per referral."""
    return f"referral:{referral_id}:reward"
# -- Shopify Flow (flow_triggers.dedup_key) ----------------------------------------------------------------

def flow_trigger(shop_id: int, handle: str, event: str) -> str:
    """A trigger is sent to Flow once per event it announces (`event`: the key of the ledger entry, email
    or grant that records the event, or a caller's own event key)."""
    return f"{shop_id}:flow:{handle}:{event}"
