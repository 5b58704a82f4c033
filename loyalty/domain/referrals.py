"""Referral rules, pure: personal codes, how emails, addresses and phones are compared, the fraud rules
that refuse a referral (each with a rule name and a reason for the merchant), the caps, and what the
referrer earns from the friend's first order.

Emails are compared normalised: trimmed, lower-case, a `+tag` dropped from the local part, and for Gmail
(gmail.com, googlemail.com) the dots dropped too. Addresses are compared on their street lines, postal code
and country (case, spaces and punctuation ignored); phones on their last 9 digits (so `+33 6 12 34 56 78`
and `06 12 34 56 78` are the same phone). Only digests of these are stored (`digest`).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction

from loyalty.domain.settings.referrals import ReferralSettings

GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
PHONE_DIGITS = 9
"""Phones are the same when their last 9 digits are: national prefixes (`0`, `+33`) differ, numbers not."""

# The rules that refuse a referral; the names are stored (referrals.rule) and shown to the merchant.
SELF_CUSTOMER = "self_referral_customer"
SELF_EMAIL = "self_referral_email"
SAME_ADDRESS = "same_shipping_address"
SAME_PHONE = "same_phone"
NOT_NEW = "friend_not_new"
CAP_PERIOD = "cap_per_period"
CAP_TOTAL = "cap_total"
REFUSAL_RULES = (SELF_CUSTOMER, SELF_EMAIL, SAME_ADDRESS, SAME_PHONE, NOT_NEW, CAP_PERIOD, CAP_TOTAL)


def normalise_email(email: str | None) -> str | None:
    """The email as referrals compare it (see the module); None for blank or no `@`."""
    text = (email or "").strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return None
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else None


def address_key(address: dict | None) -> str | None:
    """A shipping address as compared: street lines, postal code and country, letters and digits only."""
    if not isinstance(address, dict):
        return None
    parts = [str(address.get(k) or "") for k in ("address1", "address2", "zip", "country_code")]
    if not (parts[0] or parts[1]):
        return None
    return "|".join(re.sub(r"[^0-9a-z]", "", p.lower()) for p in parts)


def phone_key(phone) -> str | None:
    """A phone as compared: its last PHONE_DIGITS digits; None when it has fewer."""
    digits = re.sub(r"\D", "", str(phone or ""))
    return digits[-PHONE_DIGITS:] if len(digits) >= PHONE_DIGITS else None


def digest(kind: str, value: str | None) -> str | None:
    """What is stored of a compared value: a SHA-256 digest, so no address or phone is kept."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32] if value else None


@dataclass(frozen=True)
class Contact:
    """What an order (or a referral claim) tells of its buyer, as digests."""

    customer_id: int | None = None
    email: str | None = None
    addresses: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()


def contact(customer_id: int | None, email: str | None, addresses=(), phones=()) -> Contact:
    """The digests of a buyer's email, addresses (address_key) and phones (phone_key)."""
    return Contact(customer_id, digest("email", normalise_email(email)),
                   frozenset(d for d in (digest("address", a) for a in addresses) if d),
                   frozenset(d for d in (digest("phone", p) for p in phones) if d))


@dataclass(frozen=True)
class Refusal:
    """Why a referral earns nothing: the rule (one of REFUSAL_RULES) and the reason shown to the merchant."""

    rule: str
    reason: str


def claim_refusal(referrer: Contact, referrer_known: list[Contact], friend_email: str,
                  friend_has_ordered: bool) -> Refusal | None:
    """Why a friend's claim on the referral page is refused, or None: the referrer's own email
    (normalised), or a friend who has ordered in the shop already."""
    friend = digest("email", normalise_email(friend_email))
    if friend is not None and friend in {c.email for c in [referrer, *referrer_known]}:
        return Refusal(SELF_EMAIL, "the friend's email is the referrer's own (normalised)")
    if friend_has_ordered:
        return Refusal(NOT_NEW, "the friend has ordered in this shop before")
    return None


def order_refusal(referrer: Contact, referrer_known: list[Contact], friend_order: Contact,
                  earlier_orders: bool) -> Refusal | None:
    """Why the friend's first order earns the referrer nothing, or None: it is the referrer's own
    (same customer, same normalised email, same shipping address or phone as the referrer's known orders
    and profile), or the friend is no new customer (an earlier order in the shop)."""
    known = [referrer, *referrer_known]
    if friend_order.customer_id is not None and friend_order.customer_id == referrer.customer_id:
        return Refusal(SELF_CUSTOMER, "the friend's order was placed by the referrer")
    if friend_order.email is not None and friend_order.email in {c.email for c in known}:
        return Refusal(SELF_EMAIL, "the friend's order uses the referrer's email (normalised)")
    if friend_order.addresses & frozenset().union(*(c.addresses for c in known)):
        return Refusal(SAME_ADDRESS, "the friend's order ships to an address of the referrer")
    if friend_order.phones & frozenset().union(*(c.phones for c in known)):
        return Refusal(SAME_PHONE, "the friend's order has a phone of the referrer")
    if earlier_orders:
        return Refusal(NOT_NEW, "the friend had ordered in this shop before this order")
    return None


def cap_period_of(settings: ReferralSettings, moment: datetime) -> tuple[datetime, datetime]:
    """The cap period a reward dated `moment` falls in: its calendar month or year (UTC), [start, end)."""
    moment = moment.astimezone(timezone.utc)
    if settings.cap_period == "month":
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        return start, end
    start = moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, start.replace(year=start.year + 1)


def cap_refusal(settings: ReferralSettings, rewarded_in_period: int, rewarded_total: int) -> Refusal | None:
    """Why the referrer may earn no more (a cap reached), or None."""
    if settings.cap_total and rewarded_total >= settings.cap_total:
        return Refusal(CAP_TOTAL, f"the referrer reached the cap of {settings.cap_total} rewarded referrals")
    if settings.cap_per_period and rewarded_in_period >= settings.cap_per_period:
        return Refusal(CAP_PERIOD, f"the referrer reached the cap of {settings.cap_per_period} rewarded "
                                   f"referrals per {settings.cap_period}")
    return None


def referrer_reward(points: int, merchandise: Decimal | None, refunded: Decimal, cancelled: bool) -> int:
    """What the referrer earns from the friend's matured first order: `points` less the share refunded
    (`floor(points x (M - R) / M)`, as an order's own claw-back), nothing if cancelled or fully refunded."""
    if cancelled:
        return 0
    if not merchandise or merchandise <= 0:
        return points if refunded <= 0 else 0
    kept = max(Fraction(0), Fraction(merchandise - min(refunded, merchandise)) / Fraction(merchandise))
    return int(points * kept)


def code_for(shop_id: int, customer_id: int) -> str:
    """A customer's personal referral code: their record's number (base 36) and a check of shop and number,
    so a mistyped code names no one (`R2S-7F3A`)."""
    return f"R{_base36(customer_id)}-{_check(shop_id, customer_id)}"


def customer_of(shop_id: int, code: str | None) -> int | None:
    """The customer record a referral code names in this shop, or None for a malformed or foreign code."""
    text = (code or "").strip().upper()
    match = re.fullmatch(r"R([0-9A-Z]{1,12})-([0-9A-F]{4})", text)
    if not match:
        return None
    customer_id = int(match.group(1), 36)
    return customer_id if _check(shop_id, customer_id) == match.group(2) else None


def _check(shop_id: int, customer_id: int) -> str:
    return hashlib.sha256(f"referral:{shop_id}:{customer_id}".encode()).hexdigest()[:4].upper()


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out
