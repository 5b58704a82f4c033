"""`loyalty failures [SHOP] [--json]`: every background failure of every shop (or one), with its reason."""
from __future__ import annotations

import json

import click

from cli.common import context, reads


@click.command("failures")
@click.argument("shop", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: counts per kind and the failures.")
@click.option("--limit", default=200, show_default=True, help="At most this many of each kind.")
def failures(shop: str | None, as_json: bool, limit: int) -> None:
    """List what failed in the background, with the reason: webhooks (failed, or waiting for another
    attempt), history imports, reconciliations, balance write-backs set aside, emails, vouchers waiting
    on Shopify. Kinds with a next attempt are retried by the app itself."""
    from loyalty.services.read.failures import failures as failures_of

    counts, found = failures_of(shop, reads(context()), limit=limit)
    if as_json:
        click.echo(json.dumps({"counts": counts, "failures": [f.as_dict() for f in found]}))
        return
    if not found:
        click.echo("nothing failed" + (f" in {shop}" if shop else ""))
        return
    click.echo("  ".join(f"{kind}: {n}" for kind, n in counts.items()))
    for f in found:
        retry = f"next attempt {f.as_dict()['next_attempt_at']}" if f.next_attempt_at else "waits for a retry or a fix"
        tries = f", {f.attempts} attempts" if f.attempts is not None else ""
        click.echo(f"{f.kind}\t{f.shop}\t#{f.id} {f.subject}{tries}, {retry}\n\t{f.reason}")
