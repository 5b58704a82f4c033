"""`loyalty privacy`: retrieve the exports produced for customers/data_request."""
from __future__ import annotations

import click

from cli.common import context, shop_or_fail
from db.engine import reading


@click.group()
def privacy() -> None:
    """Privacy compliance: customer data exports."""


@privacy.command("export")
@click.argument("shop")
@click.option("--request-id", type=int, default=None, help="Only the export for this Shopify data request.")
def export(shop: str, request_id: int | None) -> None:
    """Print the stored customer data exports of SHOP (one JSON document a line)."""
    from sqlalchemy import select

    from db.tables import data_exports as t

    with reading(context().engine) as conn:
        ref = shop_or_fail(conn, shop)
        query = select(t.c.body).where(t.c.shop_id == ref.id).order_by(t.c.id)
        if request_id is not None:
            query = query.where(t.c.data_request_id == request_id)
        bodies = conn.execute(query).scalars().all()
    if not bodies:
        raise click.ClickException(f"no data export for {shop}")
    for body in bodies:
        click.echo(body)
