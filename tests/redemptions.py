"""Test helper: redeeming and cancelling with only a process Context at hand; each call builds
the request and a unit of work and runs its use case (loyalty.services.use_cases.vouchers, where the
redemption itself is written)."""
from __future__ import annotations

from datetime import datetime

from loyalty.domain.requests import CancelVoucher, RedeemPoints, RedeemReward
from loyalty.services.context import Context
from loyalty.services.events import shopify_client
from loyalty.services.unit_of_work import UnitOfWork, utc_now
from loyalty.services.use_cases import vouchers as use_cases


def _unit(ctx: Context, now: datetime | None) -> UnitOfWork:
    return UnitOfWork(ctx, clock=(lambda: now) if now else utc_now)


def redeem(ctx: Context, shop_domain: str, customer: str, points: int, request_key: str,
           now: datetime | None = None, client_factory=shopify_client):
    """Convert points into a code (store B); safe to retry with the same request_key. Returns the voucher."""
    return use_cases.redeem_points(RedeemPoints(shop_domain, customer, points, request_key), _unit(ctx, now),
                                   client_factory)


def redeem_reward(ctx: Context, shop_domain: str, customer: str, reward_key: str, request_key: str, *,
                  now: datetime | None = None, client_factory=shopify_client):
    """Spend points on a catalogue reward; safe to retry with the same request_key. Returns the voucher row."""
    return use_cases.redeem_reward(RedeemReward(shop_domain, customer, reward_key, request_key), _unit(ctx, now),
                                   client_factory)


def cancel(ctx: Context, shop_domain: str, code: str, reason: str = "cancelled by support",
           now: datetime | None = None, client_factory=shopify_client):
    """Deactivate the code in Shopify, then credit the points back (once). Returns the voucher row."""
    return use_cases.cancel_voucher(CancelVoucher(shop_domain, code, reason), _unit(ctx, now), client_factory)
