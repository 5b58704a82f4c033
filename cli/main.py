"""`loyalty`: operator commands. Each translates arguments and calls one service, nothing more."""
from __future__ import annotations

import json
from datetime import datetime

import click

from db.engine import reading
from cli.common import Iso8601, context
from cli.customers import customer
from cli.demo import demo
from cli.dev import webhook
from cli.notifications import birthdays, notifications
from cli.imports import import_, reconcile
from cli.privacy import privacy
from cli.programme import programme
from cli.shops import shops
from cli.storefront import storefront
from cli.vouchers import vouchers


@click.group()
def main() -> None:
    """Loyalty points for Shopify stores: operator commands (each has --help)."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database (DATABASE_URL) to the latest schema."""
    from db.migrate import upgrade

    upgrade(context().config.database_url)
    click.echo("database is at the latest revision")


@main.command()
@click.option("--as-of", type=Iso8601(), default=None, help="Instant to mature as of (ISO 8601); default now.")
def mature(as_of: datetime | None) -> None:
    """Make pending points available for orders whose pending period has ended."""
    from jobs.scheduled import mature_points

    click.echo(f"{mature_points(as_of, context())} orders matured")


@main.command()
@click.option("--as-of", type=Iso8601(), default=None, help="Instant to expire as of (ISO 8601); default now.")
def expire(as_of: datetime | None) -> None:
    """Apply each shop's expiry policy."""
    from jobs.scheduled import expire_points

    click.echo(f"{expire_points(as_of, context())} customers' points expired")


@main.group()
def inbox() -> None:
    """Recorded webhooks: status, failures, retries."""


@inbox.command("status")
def inbox_status() -> None:
    """Counts of processed, waiting and failed webhooks."""
    from jobs.scheduled import inbox_counts

    click.echo(json.dumps(inbox_counts(context())))


@inbox.command("process")
def inbox_process() -> None:
    """Apply every waiting webhook now, in this process (no worker needed)."""
    from jobs.inbox import process_inbox

    click.echo(f"{process_inbox()} webhooks applied")


@inbox.command("failed")
@click.option("--shop", default=None, help="Only this shop's webhooks.")
def inbox_failed(shop: str | None) -> None:
    """List webhooks that failed for good, with their reason."""
    from jobs.failures import failed_webhooks

    with reading(context().engine) as conn:
        for row in failed_webhooks(conn, shop):
            click.echo(json.dumps({k: v for k, v in row._mapping.items() if k not in ("received_at", "failed_at")}))


@inbox.command("retry")
@click.argument("inbox_id", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Retry every failed webhook (of --shop, if given).")
@click.option("--shop", default=None, help="With --all: only this shop's webhooks.")
def inbox_retry(inbox_id: int | None, every: bool, shop: str | None) -> None:
    """Give a failed webhook (or --all of them) another round of attempts."""
    from jobs.failures import retry

    if (inbox_id is None) == (not every):
        raise click.UsageError("give either INBOX_ID or --all")
    with context().engine.begin() as conn:
        n = retry(conn, inbox_id, shop)
    if not n and inbox_id is not None:
        raise click.ClickException(f"no failed webhook with id {inbox_id}")
    click.echo(f"{n} queued for retry; run `loyalty inbox process` or wait for the sweeper")


main.add_command(shops)
main.add_command(customer)
main.add_command(programme)
main.add_command(webhook)
main.add_command(privacy)
main.add_command(vouchers)
main.add_command(demo)
main.add_command(storefront)
main.add_command(notifications)
main.add_command(birthdays)
main.add_command(import_)
main.add_command(reconcile)
