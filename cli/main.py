"""`loyalty`: operator commands. Each translates arguments and calls one service, nothing more."""
from __future__ import annotations

import json
from datetime import datetime

import click

from cli.common import Iso8601, context, reads, unit_of_work
from cli.customers import customer, points
from cli.demo import demo
from cli.dev import webhook
from cli.failures import failures
from cli.flow import flow
from cli.notifications import birthdays, notifications
from cli.imports import import_, reconcile
from cli.privacy import privacy
from cli.programme import programme
from cli.referrals import referrals
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
    from loyalty.services.schema import upgrade_schema

    upgrade_schema(context())
    click.echo("database is at the latest revision")


@main.command()
@click.option("--as-of", type=Iso8601(), default=None, help="Instant to mature as of (ISO 8601); default now.")
def mature(as_of: datetime | None) -> None:
    """Make pending points available for orders whose pending period has ended."""
    from jobs.scheduled import mature_points

    click.echo(f"{mature_points(as_of, context())} orders matured")  # referrals settle with them


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
    """Counts of processed, waiting and failed webhooks; of the waiting ones, how many wait for another
    attempt after a failure (`retrying`), and why (`retrying_reasons`, the commonest first)."""
    from jobs.scheduled import inbox_counts
    from loyalty.services.read.failures import retrying_reasons

    counts = inbox_counts(context())
    reasons = retrying_reasons(reads(context()))
    counts["retrying"] = sum(reasons.values())
    if reasons:
        counts["retrying_reasons"] = dict(reasons.most_common(5))
    click.echo(json.dumps(counts))


@inbox.command("process")
def inbox_process() -> None:
    """Apply every waiting webhook now, in this process (no worker needed); those waiting for another
    attempt after a failure keep their time (`loyalty inbox status`)."""
    from jobs.inbox import apply_every_waiting

    click.echo(f"{apply_every_waiting(context())} webhooks applied")


@inbox.command("failed")
@click.option("--shop", default=None, help="Only this shop's webhooks.")
def inbox_failed(shop: str | None) -> None:
    """List webhooks that failed for good (`"state": "failed"`, `loyalty inbox retry`) and those waiting
    for another attempt after a failure (`"state": "retrying"`), each with its reason."""
    from loyalty.services.read.failures import webhook_troubles

    for state, row in webhook_troubles(shop, reads(context())):
        next_attempt = getattr(row, "lease_until", None)
        click.echo(json.dumps({"id": row.id, "state": state, "webhook_id": row.webhook_id, "shop_domain": row.shop,
                               "topic": row.topic, "attempts": row.attempts, "last_error": row.last_error,
                               "next_attempt_at": next_attempt.isoformat() if next_attempt else None}))


@inbox.command("retry")
@click.argument("inbox_id", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Retry every failed webhook (of --shop, if given).")
@click.option("--shop", default=None, help="With --all: only this shop's webhooks.")
def inbox_retry(inbox_id: int | None, every: bool, shop: str | None) -> None:
    """Give a failed webhook (or --all of them) another round of attempts."""
    from loyalty.domain.requests import RetryFailedWebhooks
    from loyalty.services.use_cases.failures import retry_failed_webhooks

    if (inbox_id is None) == (not every):
        raise click.UsageError("give either INBOX_ID or --all")
    # no wake-up: the operator applies them (`loyalty inbox process`) or the sweeper does
    n = retry_failed_webhooks(RetryFailedWebhooks(inbox_id, shop, wake_worker=False), unit_of_work(context()))
    if not n and inbox_id is not None:
        raise click.ClickException(f"no failed webhook with id {inbox_id}")
    click.echo(f"{n} queued for retry; run `loyalty inbox process` or wait for the sweeper")


main.add_command(shops)
main.add_command(flow)
main.add_command(customer)
main.add_command(points)
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
main.add_command(failures)
main.add_command(referrals)
