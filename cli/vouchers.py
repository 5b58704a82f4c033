"""`loyalty vouchers`: support and operators redeem points for a code, or cancel one."""
from __future__ import annotations

import json
import uuid

import click

from cli.common import context, refusals, unit_of_work
from loyalty.domain import keys


def _describe(row) -> dict:
    from loyalty.services.read.views import voucher_view

    return {**voucher_view(row), "shopify_id": row.shopify_discount_id}


@click.group()
def vouchers() -> None:
    """Vouchers: points turned into single-use discount codes."""


@vouchers.command("create")
@click.argument("shop")
@click.argument("customer")
@click.option("--points", type=int, default=None, help="Points to convert into a voucher.")
@click.option("--reward", default=None, help="Or: the key of a catalogue reward (gift card, free item, donation).")
@click.option("--key", default=None, help="Idempotency key: repeating the command with it never spends twice.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def create(shop: str, customer: str, points: int | None, reward: str | None, key: str | None,
           as_json: bool) -> None:
    """Redeem points of CUSTOMER (email or Shopify id): --points N converts them into a discount code,
    --reward KEY spends them on a reward of the catalogue."""
    from integrations.shopify.errors import ShopifyError
    from loyalty.domain.errors import VoucherRefused
    from loyalty.domain.requests import RedeemPoints, RedeemReward
    from loyalty.services.use_cases.vouchers import redeem_points, redeem_reward

    if (points is None) == (reward is None):
        raise click.UsageError("give either --points N or --reward KEY")
    key = key or keys.cli_request(str(uuid.uuid4()))
    try:
        with refusals():
            if reward is not None:
                row = redeem_reward(RedeemReward(shop, customer, reward, key), unit_of_work(context()))
            else:
                row = redeem_points(RedeemPoints(shop, customer, points, key), unit_of_work(context()))
    except VoucherRefused as exc:
        raise click.ClickException(str(exc)) from None
    except ShopifyError as exc:
        raise click.ClickException(f"{exc}. The points are reserved for this voucher; finish it with the same "
                                   f"command and --key {key} (nothing is spent twice)") from None
    data = _describe(row)
    click.echo(json.dumps(data, indent=2) if as_json else f"{data['code']}: {data['status']}, {data['amount']}")
    if row.status == "refused":
        raise SystemExit(1)


@vouchers.command("cancel")
@click.argument("shop")
@click.argument("code")
def cancel_(shop: str, code: str) -> None:
    """Deactivate CODE in Shopify and credit its points back."""
    from integrations.shopify.errors import ShopifyError
    from loyalty.domain.errors import VoucherRefused
    from loyalty.domain.requests import CancelVoucher
    from loyalty.services.use_cases.vouchers import cancel_voucher

    try:
        with refusals():
            row = cancel_voucher(CancelVoucher(shop, code), unit_of_work(context()))
    except (VoucherRefused, ShopifyError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{row.code}: {row.status}, {row.points} points credited back")


@vouchers.command("check-store-credit")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check_store_credit(as_json: bool) -> None:
    """Run the scheduled store credit job now: finish credits whose attempt died (looking for them in
    Shopify first) and read back what customers spent of their store credit."""
    from jobs.store_credit import check_store_credit as check

    counts = check(context())
    click.echo(json.dumps(counts) if as_json else ", ".join(f"{k}: {v}" for k, v in counts.items()))
