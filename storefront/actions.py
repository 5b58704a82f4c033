"""What a customer can do from the loyalty page: redeem a reward (or convert points, store B) and give
their birthday. Each turns a verified form into one call of the voucher jobs or the domain."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import OperationalError

from integrations.shopify.errors import ShopifyError
from loyalty.services import redemptions as voucher_jobs
from loyalty.services.events import ShopGone
from loyalty.services.customers import BirthdayRefused, find_customer, resolve_customer, set_birthday
from loyalty.domain.numbers import parse_int
from loyalty.services.shops import ShopRef
from loyalty.services.vouchers import VoucherRefused
from loyalty.services.context import Context
from integrations.single_flight import one_at_a_time
from storefront import forms
from loyalty.defaults import REDEEM_LOCK_SECONDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """The result shown on the page: a voucher, or a message saying why not."""

    voucher: object | None = None
    error: str | None = None
    """A text key (`error.token`) or a refusal message from the domain."""
    retry: dict | None = None
    """The form to submit again (same token) when the code is still being created."""


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
            return Outcome(error="error.in_progress", retry={k: form.get(k) for k in ("token", "reward", "points")})
        return _redeem(ctx, shop, customer_id, form, nonce, now, client_factory)


def _redeem(ctx: Context, shop: ShopRef, customer_id: int, form: dict, nonce: str, now: datetime,
            client_factory) -> Outcome:
    """The redemption itself, once the customer's lock is held."""
    reward = (form.get("reward") or "").strip()
    try:
        if reward:
            voucher = voucher_jobs.redeem_reward(
                ctx, shop.domain, str(customer_id), reward, forms.request_key(customer_id, nonce, reward),
                now=now, client_factory=client_factory)
        else:
            points = int(form.get("points") or 0)
            voucher = voucher_jobs.redeem(ctx, shop.domain, str(customer_id), points,
                                          forms.request_key(customer_id, nonce, "convert"), now=now,
                                          client_factory=client_factory)
    except VoucherRefused as exc:
        return Outcome(error="error.not_enough" if exc.reason == "not_enough_points" else str(exc))
    except ValueError:  # points that are not a number
        return Outcome(error="error.points")
    except (ShopifyError, ShopGone, OSError, OperationalError) as exc:  # Shopify slow, or the database busy
        # The points are reserved under this token; submitting it again finishes the same voucher.
        log.warning("storefront redeem for %s waits on Shopify: %s", shop.domain, exc)
        return Outcome(error="creating", retry={k: form.get(k) for k in ("token", "reward", "points")})
    return Outcome(voucher=voucher)


def birthday(ctx: Context, shop: ShopRef, customer_id: int, form: dict, now: datetime) -> Outcome:
    """Record the customer's birthday (day and month), once."""
    try:
        forms.check(ctx.config.api_secrets, form.get("token"), shop.domain, customer_id, now)
    except forms.BadToken:
        return Outcome(error="error.token")
    month = parse_int((form.get("month") or "").strip(), 1, 12)
    day_of_month = parse_int((form.get("day") or "").strip(), 1, 31)
    try:
        day = date(2000, month or 0, day_of_month or 0)
    except ValueError:  # 31 April, or a field that is no number (0): a huge one was an OverflowError, a 500
        return Outcome(error="error.birthday")
    try:
        with ctx.engine.begin() as conn:
            row = find_customer(conn, shop.id, str(customer_id))
            record = row.id if row else resolve_customer(conn, shop.id, customer_id, None, now)
            set_birthday(conn, shop.id, record, day)
    except BirthdayRefused as exc:
        return Outcome(error=str(exc))
    return Outcome()
