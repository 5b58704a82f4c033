"""`loyalty shops`: install a shop the way a merchant-created custom app does (a pasted token)."""
from __future__ import annotations

import click

from cli.common import context, reads, unit_of_work


@click.group()
def shops() -> None:
    """Installed shops."""


@shops.command("add")
@click.argument("shop")
@click.option("--token", required=True, help="The shop's Admin API access token (stored encrypted).")
@click.option("--replace", is_flag=True, help="Replace the token of a shop that is installed already.")
@click.option("--import-history/--no-import-history", "queue_import", default=True, show_default=True,
              help="Queue the import of the shop's past orders.")
def add(shop: str, token: str, replace: bool, queue_import: bool) -> None:
    """Register SHOP (name.myshopify.com) with its Admin API access token (a custom app's `shpat_...`).
    A shop installed already keeps its token unless --replace is given: a pasted token must not silently
    take the place of one that works (the demo's, or an OAuth install's)."""
    from loyalty.domain.requests import RegisterShopToken
    from loyalty.domain.shops import valid_shop_domain
    from loyalty.services.errors import ShopTokenKept
    from loyalty.services.shop_identity import learn_shop_id
    from loyalty.services.use_cases.shops import register_shop_token

    if not valid_shop_domain(shop):
        raise click.BadParameter(f"{shop!r} is not a shop domain (expected name.myshopify.com)", param_hint="SHOP")
    try:
        ref = register_shop_token(RegisterShopToken(shop, token, replace, queue_import), unit_of_work(context()))
    except ShopTokenKept:
        raise click.ClickException(
            f"{shop} is installed already, with a token: nothing changed. Pass --replace to replace that "
            "token (the new one is used from then on; the current one, and any refresh token, are dropped)") from None
    click.echo(f"shop {ref.domain} installed (programme version {ref.settings_version})")
    shop_id = learn_shop_id(context(), ref.domain)
    click.echo(f"Shopify shop id {shop_id}" if shop_id is not None else
               "Shopify shop id not read (see the warning): webhooks are checked by shop domain until the "
               "daily reconciliation reads it")
    if queue_import:  # queued by the use case once the install committed
        click.echo(f"history import queued (loyalty import status {ref.domain})")


@shops.command("list")
def list_shops() -> None:
    """List shops with their install state."""
    from loyalty.services.read.shops import all_shops

    for row in all_shops(reads(context())):
        state = "uninstalled" if row.uninstalled_at else "installed"
        click.echo(f"{row.domain}\t{state}\tprogramme v{row.settings_version}")
