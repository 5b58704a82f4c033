"""`loyalty customer`: look a customer up."""
from __future__ import annotations

import json

import click

from db.engine import reading
from cli.common import context, shop_or_fail


@click.command()
@click.argument("shop")
@click.argument("email_or_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (balances and every ledger entry).")
def customer(shop: str, email_or_id: str, as_json: bool) -> None:
    """Show a customer's points by email or Shopify customer id."""
    from loyalty.services.customers import find_customer
    from loyalty.services.read.views import customer_summary

    with reading(context().engine) as conn:
        shop_ref = shop_or_fail(conn, shop)
        row = find_customer(conn, shop_ref.id, email_or_id)
        if row is None:
            raise click.ClickException(f"no customer {email_or_id} in {shop}")
        summary = customer_summary(conn, shop_ref, row)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    who = summary["customer"]["email"] or summary["customer"]["shopify_customer_id"]
    click.echo(f"{who}: {summary['available']} available, {summary['pending']} pending, "
               f"{summary['lifetime']} lifetime")
    for e in summary["entries"]:
        click.echo(f"  {e['effective_at'][:10]}  {e['kind']:<9} {e['points']:>+7}  {e['reason']}")
