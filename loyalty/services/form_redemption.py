"""A redemption a shopper sends from a form: the app-proxy page (storefront) or a UI extension (the
customer-account page, checkout). The form's token (loyalty.services.form_tokens) is the idempotency key; one
redemption per customer at a time; refusals become an Outcome the entrypoint words in the shop's language."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from integrations.shopify.errors import ShopifyError
from integrations.single_flight import one_at_a_time
from loyalty.defaults import REDEEM_LOCK_SECONDS, STOREFRONT_SHOPIFY_ATTEMPTS, STOREFRONT_SHOPIFY_TIMEOUT
from loyalty.domain.errors import VoucherRefused
from loyalty.domain.requests import RedeemPoints, RedeemReward
from loyalty.domain import form_tokens as forms
from loyalty.services.context import Context
from loyalty.services.errors import DatabaseBusy, ShopGone
from loyalty.services.events import shopify_client
from loyalty.services.shops import ShopRef
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.vouchers import redeem_points, redeem_reward

log = logging.getLogger(__name__)
RETRY_FIELDS = ("token", "reward", "points", "variant")
"""The form fields sent again when a redemption is retried."""
REFUSALS = {"not_enough_points": "error.not_enough", "tier_required": "error.tier_required"}
"""Refusals the page words itself (storefront.texts); any other shows the domain's message."""


def in_request_client(ctx, shop, conn):
    """The Shopify client for a redemption made while the shopper waits: short timeout, few retries."""
    return shopify_client(ctx, shop, conn, timeout=STOREFRONT_SHOPIFY_TIMEOUT,
                          max_attempts=STOREFRONT_SHOPIFY_ATTEMPTS)


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
    reason: str | None = None
    """The domain's refusal reason (`not_enough_points`, `not_a_code`...), for an API's error key."""


def redeem(ctx: Context, shop: ShopRef, customer_id: int, form: dict, now: datetime, client_factory,
           at_checkout: bool = False) -> Outcome:
    """Redeem `form["reward"]`, or convert `form["points"]` (store B). The form's token is the idempotency
    key: the same token and reward always give the same voucher, spent once. `at_checkout`: a code for the
    checkout in progress, with a short life (loyalty.domain.offers.at_checkout), given back unused."""
    try:
        nonce = forms.check(ctx.config.api_secrets, form.get("token"), shop.domain, customer_id, now)
    except forms.BadToken as exc:
        log.info("redeem refused for %s: %s", shop.domain, exc)
        return Outcome(error="error.token")
    # One redemption per customer at a time (whatever its token): while one waits on Shopify, a replayed or
    # second form is answered at once instead of holding a worker for as long as Shopify is slow.
    with one_at_a_time(ctx.redis, f"loyalty:redeem:{shop.domain}:{customer_id}", REDEEM_LOCK_SECONDS) as mine:
        if not mine:
            log.info("redeem for %s customer %s: another one is in progress", shop.domain, customer_id)
            return Outcome(error="error.in_progress", retry={k: form.get(k) for k in RETRY_FIELDS})
        return _redeem(ctx, shop, customer_id, form, nonce, now, client_factory, at_checkout)


def _redeem(ctx: Context, shop: ShopRef, customer_id: int, form: dict, nonce: str, now: datetime,
            client_factory, at_checkout: bool) -> Outcome:
    """The redemption itself, once the customer's lock is held."""
    reward = str(form.get("reward") or "").strip()
    prefix = "checkout:" if at_checkout else ""  # a checkout code is another voucher than the page's
    uow = UnitOfWork(ctx, clock=lambda: now)
    try:
        if reward:
            variant = form.get("variant")
            voucher = redeem_reward(RedeemReward(shop.domain, str(customer_id), reward,
                                                 forms.request_key(customer_id, nonce, prefix + reward),
                                                 variant_id=int(variant) if variant else None,
                                                 at_checkout=at_checkout), uow, client_factory)
        else:
            points = int(form.get("points") or 0)
            voucher = redeem_points(RedeemPoints(shop.domain, str(customer_id), points,
                                                 forms.request_key(customer_id, nonce, prefix + "convert"),
                                                 at_checkout=at_checkout), uow, client_factory)
    except VoucherRefused as exc:
        return Outcome(error=REFUSALS.get(exc.reason, str(exc)), facts=exc.facts or None, reason=exc.reason)
    except (TypeError, ValueError):  # points that are not a number
        return Outcome(error="error.points", reason="bad_points")
    except (ShopifyError, ShopGone, OSError, DatabaseBusy) as exc:  # Shopify slow, or the database busy
        # The points are reserved under this token; submitting it again finishes the same voucher.
        log.warning("redeem for %s waits on Shopify: %s", shop.domain, exc)
        return Outcome(error="creating", retry={k: form.get(k) for k in RETRY_FIELDS})
    return Outcome(voucher=voucher)
