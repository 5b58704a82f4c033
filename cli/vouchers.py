"""`loyalty vouchers`: support and operators redeem points for a code, or cancel one."""
from __future__ import annotations

import json
import uuid

import click

from cli.common import context


def _describe(row) -> dict:
    return {"code": row.code, "status": row.status, "points": row.points, "amount": str(row.amount),
            "minimum_subtotal": str(row.minimum_subtotal) if row.minimum_subtotal is not None else None,
            "ends_at": row.ends_at.isoformat(), "shopify_discount_id": row.shopify_discount_id, "reason": row.reason}


@click.group()
def vouchers() -> None:
    """Vouchers: points turned into single-use discount codes."""


@vouchers.command("create")
@click.argument("shop")
@click.argument("customer")
@click.option("--points", type=int, required=True, help="Points to redeem.")
@click.option("--key", default=None, help="Idempotency key: repeating the command with it never spends twice.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def create(shop: str, customer: str, points: int, key: str | None, as_json: bool) -> None:
    """Redeem POINTS of CUSTOMER (email or Shopify id) for a discount code."""
    from jobs.vouchers import redeem
    from loyalty.vouchers import VoucherRefused

    try:
        row = redeem(context(), shop, customer, points, key or f"cli:{uuid.uuid4()}")
    except VoucherRefused as exc:
        raise click.ClickException(str(exc)) from None
    data = _describe(row)
    click.echo(json.dumps(data, indent=2) if as_json else f"{data['code']}: {data['status']}, {data['amount']}")
    if row.status == "refused":
        raise SystemExit(1)


@vouchers.command("cancel")
@click.argument("shop")
@click.argument("code")
def cancel_(shop: str, code: str) -> None:
    """Deactivate CODE in Shopify and credit its points back."""
    from jobs.vouchers import cancel
    from loyalty.vouchers import VoucherRefused

    try:
        row = cancel(context(), shop, code)
    except VoucherRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{row.code}: {row.status}, {row.points} points credited back")
