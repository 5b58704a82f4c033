"""`loyalty webhook send`: sign a JSON file like Shopify does and POST it to the running app."""
from __future__ import annotations

import json
import uuid

import click

from cli.common import local_app


@click.group()
def webhook() -> None:
    """Send webhooks to a running app (for trying it out locally)."""


@webhook.command("send")
@click.argument("shop")
@click.argument("topic")
@click.argument("payload", type=click.File("rb"))
@click.option("--url", default=None, help="Where the app listens [default: http://127.0.0.1:$PORT/webhooks, PORT "
              "as `make run` uses it, else 8000]")
@click.option("--webhook-id", default=None, help="Reuse an id to see deduplication at work.")
def send(shop: str, topic: str, payload, url: str, webhook_id: str | None) -> None:
    """Sign PAYLOAD (a JSON file; {"order": {...}} wrappers are unwrapped) with SHOPIFY_API_SECRET and POST it."""
    import requests

    from loyalty.config import load_config
    from loyalty.defaults import WEBHOOK_OUTCOME_HEADER as OUTCOME_HEADER
    from integrations.shopify.webhook_signature import sign

    data = json.load(payload)
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), dict):
        data = next(iter(data.values()))
    body = json.dumps(data).encode()
    secrets = load_config().api_secrets
    if not secrets:
        raise click.ClickException("SHOPIFY_API_SECRET is not set (make run writes it to var/local.env)")
    url = url or local_app("/webhooks")
    try:
        response = requests.post(url, data=body, timeout=10, headers={
            "Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()), "X-Shopify-Hmac-Sha256": sign(secrets[0], body),
            "X-Shopify-API-Version": "2025-10",
        })
    except requests.RequestException as exc:
        raise click.ClickException(f"could not reach the app at {url} ({type(exc).__name__}); is `make run` "
                                   "running (and on which PORT)?") from None
    click.echo(f"{response.status_code} {response.headers.get(OUTCOME_HEADER) or response.text.strip()}")
