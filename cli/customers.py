"""`loyalty customer`: look a customer up."""
from __future__ import annotations

import json

import click

from cli.common import context, reads, refusals


@click.command()
@click.argument("shop")
@click.argument("email_or_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (balances and every ledger entry).")
def customer(shop: str, email_or_id: str, as_json: bool) -> None:
    """Show a customer's points by email or Shopify customer id."""
    from loyalty.services.read.customers import customer_by_reference

    with refusals():
        summary = customer_by_reference(shop, email_or_id, reads(context()))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    who = summary["customer"]["email"] or summary["customer"]["shopify_customer_id"]
    click.echo(f"{who}: {summary['available']} available, {summary['pending']} pending, "
               f"{summary['lifetime']} lifetime")
    for e in summary["entries"]:
        click.echo(f"  {e['effective_at'][:10]}  {e['kind']:<9} {e['points']:>+7}  {e['reason']}")
