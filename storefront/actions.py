"""What a customer can do from the loyalty page: redeem a reward (or convert points, store B) and give
their birthday. Each turns a verified form into one request and calls its use case."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from integrations.shopify.errors import ShopifyError
from loyalty.domain.errors import BirthdayRefused, ReferralRefused, VoucherRefused
from loyalty.domain.requests import GiveOwnBirthday, InviteFriend, RedeemPoints, RedeemReward, birthday_from_form
from loyalty.services.context import Context
from loyalty.services.errors import DatabaseBusy, ShopGone
from loyalty.services.shops import ShopRef
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.customers import give_own_birthday
from loyalty.services.use_cases.referrals import invite_friend
from loyalty.services.use_cases.vouchers import redeem_points, redeem_reward
from integrations.single_flight import one_at_a_time
from storefront import forms
from loyalty.defaults import REDEEM_LOCK_SECONDS

log = logging.getLogger(__name__)
RETRY_FIELDS = ("token", "reward", "points", "variant")
"""The form fields sent again when a redemption is retried."""
REFUSALS = {"not_enough_points": "error.not_enough", "tier_required": "error.tier_required"}
"""Refusals the page words itself (storefront.texts); any other shows the domain's message."""


@dataclass(frozen=True)
class Outcome:
    """The result shown on the page: a voucher, or a message saying why not."""

    voucher: object | None = None
    error: str | None = None
    """A text key (`error.token`) or a refusal message from the domain."""
    retry: dict | None = None
    """The form to submit again (same token) when the code is still being created."""
    facts: dict | None = None
    """What the error's text names (`error.tier_required`: the tier)."""


def redeem(ctx: Context, shop: ShopRef, customer_id: int, form: dict, now: datetime, client_factory) -> Outcome:
    """Redeem `form["reward"]`, or convert `form["points"]` (store B). The form's token is the idempotency
    key: the same token and reward always give the same voucher, spent once."""
    try:
        nonce = forms.check(ctx.config.api_secrets, form.get("token"), shop.domain, customer_id, now)
    except forms.BadToken as exc:
        log.info("storefront redeem refused for %s: %s", shop.domain, exc)
        return Outcome(error="error.token")
    # One redemption per customer at a time (whatever its token): while one waits on Shopify, a replayed or
    # second form is answered at once instead of holding a worker for as long as Shopify is slow.
    with one_at_a_time(ctx.redis, f"loyalty:redeem:{shop.domain}:{customer_id}", REDEEM_LOCK_SECONDS) as mine:
        if not mine:
            log.info("storefront redeem for %s customer %s: another one is in progress", shop.domain, customer_id)
            return Outcome(error="error.in_progress", retry={k: form.get(k) for k in RETRY_FIELDS})
        return _redeem(ctx, shop, customer_id, form, nonce, now, client_factory)


def _redeem(ctx: Context, shop: ShopRef, customer_id: int, form: dict, nonce: str, now: datetime,
            client_factory) -> Outcome:
    """The redemption itself, once the customer's lock is held."""
    reward = (form.get("reward") or "").strip()
    uow = UnitOfWork(ctx, clock=lambda: now)
    try:
        if reward:
            variant = form.get("variant")
            voucher = redeem_reward(RedeemReward(shop.domain, str(customer_id), reward,
                                                 forms.request_key(customer_id, nonce, reward),
                                                 variant_id=int(variant) if variant else None), uow, client_factory)
        else:
            points = int(form.get("points") or 0)
            voucher = redeem_points(RedeemPoints(shop.domain, str(customer_id), points,
                                                 forms.request_key(customer_id, nonce, "convert")), uow, client_factory)
    except VoucherRefused as exc:
        return Outcome(error=REFUSALS.get(exc.reason, str(exc)), facts=exc.facts or None)
    except ValueError:  # points that are not a number
        return Outcome(error="error.points")
    except (ShopifyError, ShopGone, OSError, DatabaseBusy) as exc:  # Shopify slow, or the database busy
        # The points are reserved under this token; submitting it again finishes the same voucher.
        log.warning("storefront redeem for %s waits on Shopify: %s", shop.domain, exc)
        return Outcome(error="creating", retry={k: form.get(k) for k in RETRY_FIELDS})
    return Outcome(voucher=voucher)


def birthday(ctx: Context, shop: ShopRef, customer_id: int, form: dict, now: datetime) -> Outcome:
    """Record the customer's birthday (day and month), once."""
    try:
        forms.check(ctx.config.api_secrets, form.get("token"), shop.domain, customer_id, now)
    except forms.BadToken:
        return Outcome(error="error.token")
    day = birthday_from_form(form.get("day"), form.get("month"))
    if day is None:  # 31 April, or a field that is no number (a huge one was an OverflowError, a 500)
        return Outcome(error="error.birthday")
    try:
        give_own_birthday(GiveOwnBirthday(shop.domain, customer_id, day), UnitOfWork(ctx, clock=lambda: now))
    except BirthdayRefused as exc:
        return Outcome(error=str(exc))
    return Outcome()


def invite(ctx: Context, shop: ShopRef, form: dict, now: datetime, client_factory) -> dict:
    """A referred friend gives their email (`email`) on the referral link (`ref`): their code is made and
    emailed, once per email. Returns the outcome shown: `sent`, `refused` (a fraud rule, recorded for the
    merchant), `creating` (Shopify slow: the same form again finishes it) or an `error` text key."""
    try:
        referral = invite_friend(InviteFriend(shop.domain, str(form.get("ref") or ""), str(form.get("email") or "")),
                                 UnitOfWork(ctx, clock=lambda: now), client_factory)
    except ReferralRefused as exc:
        return {"error": "error.referral_email" if exc.reason == "bad_email" else "error.referral"}
    except (ShopifyError, ShopGone, OSError, DatabaseBusy) as exc:
        log.warning("referral code for %s waits on Shopify: %s", shop.domain, exc)
        return {"error": "creating"}
    if referral.status == "refused":
        return {"refused": True}
    return {"sent": True} if referral.voucher_status == "active" else {"error": "creating"}
