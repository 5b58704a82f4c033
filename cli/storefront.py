"""`loyalty storefront url`: a loyalty-page URL signed as Shopify's app proxy signs it, to open the page
of a running app without a shop in front of it."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import click

from cli.common import local_app


@click.group()
def storefront() -> None:
    """The customers' loyalty page (app proxy)."""


@storefront.command("url")
@click.argument("shop")
@click.option("--customer", type=int, default=None, help="Shopify customer id of the logged-in customer.")
@click.option("--format", "fmt", type=click.Choice(["liquid", "html", "json"]), default="html", show_default=True)
@click.option("--base", default=None, help="Where the app runs [default: http://127.0.0.1:$PORT, else 8000].")
def url(shop: str, customer: int | None, fmt: str, base: str) -> None:
    """Print a signed /proxy URL for SHOP (valid 5 minutes), as Shopify forwards /apps/loyalty."""
    from loyalty.config import load_config
    from integrations.shopify.app_proxy import PROXY_PATH
    from integrations.shopify.app_proxy import sign

    secrets = load_config().api_secrets
    if not secrets:
        raise click.ClickException("SHOPIFY_API_SECRET is not set (make run writes it to var/local.env)")
    pairs = [("shop", shop), ("logged_in_customer_id", "" if customer is None else str(customer)),
             ("path_prefix", "/apps/loyalty"), ("timestamp", str(int(time.time())))]
    if fmt != "liquid":
        pairs.append(("format", fmt))
    click.echo(f"{(base or local_app()).rstrip('/')}{PROXY_PATH}?" + urlencode(pairs + [("signature", sign(secrets[0], pairs))]))
