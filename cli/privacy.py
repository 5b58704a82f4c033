"""`loyalty privacy`: retrieve the exports produced for customers/data_request."""
from __future__ import annotations

import click

from cli.common import context, reads, refusals


@click.group()
def privacy() -> None:
    """Privacy compliance: customer data exports."""


@privacy.command("export")
@click.argument("shop")
@click.option("--request-id", type=int, default=None, help="Only the export for this Shopify data request.")
def export(shop: str, request_id: int | None) -> None:
    """Print the stored customer data exports of SHOP (one JSON document a line)."""
    from loyalty.services.read.privacy import data_exports_of

    with refusals():
        bodies = data_exports_of(shop, request_id, reads(context()))
    if not bodies:
        raise click.ClickException(f"no data export for {shop}")
    for body in bodies:
        click.echo(body)
