"""`loyalty shops`: install a shop the way a merchant-created custom app does (a pasted token)."""
from __future__ import annotations

from datetime import datetime, timezone

import click

from db.engine import reading
from cli.common import context


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
    from integrations.shopify.oauth import TokenGrant
    from loyalty.domain.shops import valid_shop_domain
    from loyalty.services.shops import has_token, install_shop
    from loyalty.services.tokens import store_grant
    from integrations.crypto import encrypt_token

    if not valid_shop_domain(shop):
        raise click.BadParameter(f"{shop!r} is not a shop domain (expected name.myshopify.com)", param_hint="SHOP")
    ctx = context()
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        if has_token(conn, shop) and not replace:
            raise click.ClickException(
                f"{shop} is installed already, with a token: nothing changed. Pass --replace to replace that "
                "token (the new one is used from then on; the current one, and any refresh token, are dropped)")
        ref = install_shop(conn, shop, encrypt_token(ctx.config.encryption_keys, token), now)
        # a custom app's token neither expires nor refreshes: whatever an OAuth install stored goes
        store_grant(conn, shop, TokenGrant(token), ctx.config.encryption_keys, now)
    click.echo(f"shop {ref.domain} installed (programme version {ref.settings_version})")
    from loyalty.services.shop_identity import learn_shop_id

    shop_id = learn_shop_id(ctx, ref.domain)
    click.echo(f"Shopify shop id {shop_id}" if shop_id is not None else
               "Shopify shop id not read (see the warning): webhooks are checked by shop domain until the "
               "daily reconciliation reads it")
    if queue_import:
        from jobs.history import queue_history_import

        queue_history_import(ctx, ref.domain)
        click.echo(f"history import queued (loyalty import status {ref.domain})")


@shops.command("list")
def list_shops() -> None:
    """List shops with their install state."""
    from sqlalchemy import select

    from db.tables import shops as t

    with reading(context().engine) as conn:
        for row in conn.execute(select(t.c.domain, t.c.installed_at, t.c.uninstalled_at, t.c.settings_version)):
            state = "uninstalled" if row.uninstalled_at else "installed"
            click.echo(f"{row.domain}\t{state}\tprogramme v{row.settings_version}")
