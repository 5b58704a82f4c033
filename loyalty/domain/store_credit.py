"""Store credit rules: when a credit is sent to Shopify, how an earlier attempt's credit is recognised, and
what a credit's remaining amount says about it.

Shopify's `storeCreditAccountCredit` takes no idempotency key, so the app keeps its own: before asking, it
marks the attempt (`vouchers.credit_sent_at`, committed); an attempt that finds an earlier mark does not
know whether that one reached Shopify (a timeout, a crash between Shopify's answer and our commit), so once
the earlier attempt cannot still be running (`CREDIT_LEASE_SECONDS`) it looks for that credit among the
account's credits before it credits again (`matching_credit`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

SEND, WAIT, LOOK = "send", "wait", "look"
"""What an attempt does: credit at once (no earlier attempt), leave it (an earlier attempt may still be
running), or look for the earlier attempt's credit first."""

CLOCK_SKEW = timedelta(minutes=5)
"""Shopify's clock may differ from ours: a credit made by an attempt is looked for from this long before
the attempt's mark."""


@dataclass(frozen=True)
class CreditSeen:
    """One credit transaction of a customer's store credit account, as Shopify reports it."""

    id: str
    amount: Decimal
    currency: str
    created_at: datetime
    expires_at: datetime | None
    remaining: Decimal


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment read from the database as an aware UTC datetime (SQLite gives them back naive)."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def attempt(sent_at: datetime | None, now: datetime, lease: timedelta) -> str:
    """What an attempt to credit a voucher does given its earlier attempt's mark (`sent_at`): SEND when none
    was made; WAIT while the earlier one may still be talking to Shopify (within `lease`, longer than any
    request's timeout); LOOK after that, since its outcome is unknown."""
    if sent_at is None:
        return SEND
    return WAIT if now < as_utc(sent_at) + lease else LOOK


def credit_expires_at(now: datetime, expiry_days: int) -> datetime:
    """When a credit issued now expires: `expiry_days` later, to the second (Shopify keeps DateTimes to the
    second, and the expiry is part of how a credit is recognised)."""
    return (now + timedelta(days=expiry_days)).replace(microsecond=0)


def matching_credit(credits: list[CreditSeen], *, amount: Decimal, currency: str, expires_at: datetime,
                    sent_at: datetime, claimed: set[str]) -> str | None:
    """The id of the credit an earlier attempt made, or None: same amount and currency, same expiry to the
    second, made no earlier than the attempt's mark (less CLOCK_SKEW), and not already recorded as another
    voucher's credit (`claimed`). The expiry is chosen by the app to the second for each credit, so a
    merchant's own credit of the same amount is not taken for ours; two of ours are told apart by `claimed`.
    The earliest match is taken, so two looks at the same account agree."""
    wanted, sent_at = as_utc(expires_at).replace(microsecond=0), as_utc(sent_at)
    found = [c for c in credits
             if c.id not in claimed and c.amount == amount and c.currency == currency
             and c.expires_at is not None and c.expires_at.replace(microsecond=0) == wanted
             and c.created_at >= sent_at - CLOCK_SKEW]
    return min(found, key=lambda c: (c.created_at, c.id)).id if found else None


def settled_status(remaining: Decimal, expires_at: datetime, now: datetime) -> str:
    """A credited voucher's status from what is left of its credit: `used` when all of it is spent,
    `expired` once its expiry has passed (what was left is lost to the customer), else `active`."""
    if remaining <= 0:
        return "used"
    return "expired" if now >= as_utc(expires_at) else "active"


def outstanding(amount: Decimal, remaining: Decimal | None, status: str) -> Decimal:
    """What the merchant still owes on a credit: its remaining amount while it is active (the whole amount
    before any reconciliation), nothing once used, expired, refused or cancelled."""
    if status not in ("active", "creating"):
        return Decimal("0")
    return amount if remaining is None else remaining
