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
def inbox_failed() -> None:
    """List webhooks that failed for good, with their reason."""
    from sqlalchemy import select

    from db.tables import webhook_inbox as t

    with reading(context().engine) as conn:
        for row in conn.execute(select(t.c.id, t.c.webhook_id, t.c.shop_domain, t.c.topic, t.c.attempts,
                                       t.c.last_error).where(t.c.failed_at.is_not(None))):
            click.echo(json.dumps(dict(row._mapping)))


@inbox.command("retry")
@click.argument("inbox_id", type=int)
def inbox_retry(inbox_id: int) -> None:
    """Give a failed webhook another round of attempts."""
    from sqlalchemy import update

    from db.tables import webhook_inbox as t

    with context().engine.begin() as conn:
        n = conn.execute(update(t).where(t.c.id == inbox_id, t.c.processed_at.is_(None)).values(
            failed_at=None, attempts=0, lease_until=None, lease_owner=None)).rowcount
    if not n:
        raise click.ClickException(f"no unprocessed webhook with id {inbox_id}")
    click.echo("queued for retry; run `loyalty inbox process` or wait for the sweeper")


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
