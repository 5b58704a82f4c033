"""`loyalty customer`: look a customer up."""
from __future__ import annotations

import json

import click

from cli.common import context, reads, refusals, unit_of_work


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


@click.group()
def points() -> None:
    """Points beyond a purchase: award a programme action (earning.actions)."""


@points.command("award")
@click.argument("shop")
@click.argument("customer")
@click.argument("action")
@click.option("--reference", required=True, help="What the action was (a review's id): awarded once per reference.")
@click.option("--reason", default="", help="Kept in the customer's history.")
def award(shop: str, customer: str, action: str, reference: str, reason: str) -> None:
    """Award ACTION's points to CUSTOMER (email or Shopify customer id), once per --reference."""
    from loyalty.domain.errors import ActionRefused
    from loyalty.domain.requests import AwardAction
    from loyalty.services.use_cases.earning import award_action

    with refusals():
        try:
            row, balance = award_action(AwardAction(shop, customer, action, reference, reason, actor="cli"),
                                        unit_of_work(context()))
        except ActionRefused as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{customer}: {row.points} of {row.asked} points for {action} ({row.reason}); "
               f"{balance.available} available")
