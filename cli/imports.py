"""`loyalty import history|status` and `loyalty reconcile`: past and missed orders into the ledger."""
from __future__ import annotations

import json
from datetime import datetime

import click

from cli.common import Iso8601, context, reads, refusals


@click.group("import")
def import_() -> None:
    """Orders placed before the programme (history import)."""


@import_.command("history")
@click.argument("shop")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A bulk-operation JSONL file of orders, instead of asking Shopify for one.")
@click.option("--dry-run", is_flag=True, help="Show what would be credited, per customer; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def history(shop: str, file: str | None, dry_run: bool, as_json: bool) -> None:
    """Import SHOP's past orders by the programme's rules (resumes an import that did not finish)."""
    from jobs.history import ImportBusy, import_history

    from loyalty.services.read.shops import installed_shop

    with refusals():
        installed_shop(shop, reads(context()))
    try:
        result = import_history(shop, file=file, dry_run=dry_run, ctx=context())
    except ImportBusy as exc:
        raise click.ClickException(str(exc)) from None
    _print(result, as_json, "would credit {points_credited} points on {orders_credited} of {orders} orders"
           if dry_run else "import {status}: {orders_done} orders, {points_credited} points credited")


@import_.command("status")
@click.argument("shop")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(shop: str, as_json: bool) -> None:
    """The latest history import of SHOP: status, progress, figures."""
    from loyalty.services.read.imports import latest_import

    with refusals():
        run = latest_import(shop, reads(context()))
    if run is None:
        raise click.ClickException(f"no history import for {shop} yet (loyalty import history {shop})")
    _print(run, as_json, "import {status}: {orders_done} orders, {points_credited} points "
                                       "credited, line {lines_done} of the file")


@click.command()
@click.argument("shop")
@click.option("--since", type=Iso8601(), default=None, help="Orders updated since (ISO 8601); default: the "
                                                            "last reconciliation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def reconcile(shop: str, since: datetime | None, as_json: bool) -> None:
    """Apply SHOP's orders and refunds that webhooks missed (orders updated since the last run)."""
    from jobs.reconcile import reconcile as run_reconcile
    from loyalty.services.read.shops import installed_shop

    with refusals():
        installed_shop(shop, reads(context()))
    _print(run_reconcile(shop, since=since, ctx=context()), as_json,
           "reconciled {orders_done} orders updated since {source}; {points_credited} points credited")


def _print(result: dict, as_json: bool, template: str) -> None:
    click.echo(json.dumps(result, indent=2, default=str) if as_json else template.format(**result))
