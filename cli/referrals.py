"""`loyalty referrals`: the merchant's record of referrals, refusals included (rule and reason)."""
from __future__ import annotations

import json

import click

from cli.common import context, reads


@click.group()
def referrals() -> None:
    """Referrals: friends invited by customers, the referrers' rewards and the refusals."""


@referrals.command("list")
@click.argument("shop")
@click.option("--status", type=click.Choice(("invited", "attributed", "rewarded", "refused", "nothing")),
              default=None, help="Only referrals in this state (`refused`: the fraud rules' and caps' refusals).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
def list_referrals(shop: str, status: str | None, limit: int) -> None:
    """One JSON line per referral of SHOP, newest first: referrer, friend, code, status, the rule and reason
    of a refusal, the points earned."""
    from loyalty.services.errors import UnknownShop
    from loyalty.services.read.referrals import referrals_page

    try:
        rows, _ = referrals_page(shop, reads(context()), status, 1, limit)
    except UnknownShop as exc:
        raise click.ClickException(str(exc)) from None
    for row in rows:
        click.echo(json.dumps(row))
