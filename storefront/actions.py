"""What a customer can do from the loyalty page: redeem a reward or convert points (store B; the redemption
itself is loyalty.services.form_redemption, shared with the UI extensions' API), give their birthday, invite
a friend. Each turns a verified form into one request and calls its use case."""
from __future__ import annotations

import logging
from datetime import datetime

from integrations.shopify.errors import ShopifyError
from loyalty.domain.errors import BirthdayRefused, ReferralRefused
from loyalty.domain.requests import GiveOwnBirthday, InviteFriend, birthday_from_form
from loyalty.domain import form_tokens as forms
from loyalty.services.context import Context
from loyalty.services.errors import DatabaseBusy, ShopGone
from loyalty.services.form_redemption import Outcome, redeem  # noqa: F401 (the proxy's redeem action)
from loyalty.services.shops import ShopRef
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.customers import give_own_birthday
from loyalty.services.use_cases.referrals import invite_friend

log = logging.getLogger(__name__)


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
