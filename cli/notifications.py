"""`loyalty notifications` and `loyalty birthdays`: the customer email outbox and birthday presents."""
from __future__ import annotations

import json
from datetime import datetime

import click

from cli.common import Iso8601, context, reads, refusals, unit_of_work


@click.group()
def notifications() -> None:
    """Customer emails: outbox status, failures, retries, captured mail."""


@notifications.command("status")
def status() -> None:
    """Counts of pending, sent, failed and skipped emails."""
    from loyalty.services.read.notifications import email_counts

    click.echo(json.dumps(email_counts(reads(context()))))


@notifications.command("list")
@click.argument("shop")
@click.option("--status", "only", type=click.Choice(["pending", "sent", "failed", "skipped"]), default=None)
@click.option("--limit", type=int, default=20, show_default=True)
def list_(shop: str, only: str | None, limit: int) -> None:
    """The shop's latest emails, newest first (one JSON object a line); `show ID` prints one."""
    from loyalty.services.read.notifications import emails

    with refusals():
        listed = emails(reads(context()), shop, only, limit)
    for item in listed:
        click.echo(json.dumps(item, ensure_ascii=False))


@notifications.command("show")
@click.argument("notification_id", type=int)
@click.option("--html", is_flag=True, help="Print the HTML version instead of the text.")
def show(notification_id: int, html: bool) -> None:
    """Print one email: headers and body."""
    from loyalty.services.read.notifications import email

    row = email(notification_id, reads(context()))
    if row is None:
        raise click.ClickException(f"no email {notification_id}")
    click.echo(f"To: {row.to_address}\nSubject: {row.subject}\nStatus: {row.status}"
               + (f" ({row.last_error})" if row.last_error else "") + "\n")
    click.echo((row.body_html if html else row.body_text) or "")


@notifications.command("failed")
def failed() -> None:
    """Emails given up on, with their last error."""
    from loyalty.services.read.notifications import emails

    for item in emails(reads(context()), status="failed", limit=1000):
        click.echo(json.dumps(item, ensure_ascii=False))


@notifications.command("retry")
@click.argument("notification_id", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Retry every failed email.")
def retry(notification_id: int | None, every: bool) -> None:
    """Give a failed email (or --all) a new round of attempts."""
    from jobs.notify import retry as retry_failed

    if notification_id is None and not every:
        raise click.UsageError("give an email id or --all")
    n = retry_failed(context(), None if every else notification_id)
    if not n:
        raise click.ClickException("no failed email to retry")
    click.echo(f"{n} emails queued again; run `loyalty notifications send` or wait for the scheduler")


@notifications.command("send")
def send() -> None:
    """Send every due email now, in this process (SMTP_URL, or captured under var/mail/)."""
    from jobs.notify import send_notifications

    click.echo(f"{send_notifications(context())} emails sent")


@notifications.command("expiring")
@click.option("--as-of", type=Iso8601(), default=None, help="Instant to look from (ISO 8601); default now.")
def expiring(as_of: datetime | None) -> None:
    """Record the notices of points expiring within 30 and 7 days (the daily job)."""
    from jobs.scheduled import warn_expiring_points

    click.echo(f"{warn_expiring_points(as_of, context())} expiry notices recorded")


@notifications.command("opt-out")
@click.argument("shop")
@click.argument("customer")
@click.option("--in", "opt_in", is_flag=True, help="Opt back in instead.")
def opt_out(shop: str, customer: str, opt_in: bool) -> None:
    """Stop (or, with --in, resume) loyalty emails to CUSTOMER (email or Shopify id)."""
    from loyalty.domain.requests import SetAcceptsEmails
    from loyalty.services.use_cases.customers import set_accepts_emails

    with refusals():
        set_accepts_emails(SetAcceptsEmails(shop, customer, opt_in), unit_of_work(context()))
    click.echo(f"{customer}: loyalty emails {'on' if opt_in else 'off'}")


@click.group()
def birthdays() -> None:
    """Birthdays and the yearly birthday present."""


@birthdays.command("set")
@click.argument("shop")
@click.argument("customer")
@click.argument("birthday", type=click.DateTime(formats=["%Y-%m-%d"]))
def set_(shop: str, customer: str, birthday: datetime) -> None:
    """Record CUSTOMER's BIRTHDAY (YYYY-MM-DD; the day and month are kept, once)."""
    from loyalty.domain.errors import BirthdayRefused
    from loyalty.domain.requests import SetBirthday
    from loyalty.services.use_cases.customers import set_birthday

    with refusals():
        try:
            set_birthday(SetBirthday(shop, customer, birthday.date()), unit_of_work(context()))
        except BirthdayRefused as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{customer}: birthday {birthday:%d %B}")


@birthdays.command("give")
@click.option("--as-of", type=Iso8601(), default=None, help="The day to celebrate (ISO 8601); default today.")
def give(as_of: datetime | None) -> None:
    """Give today's birthday presents (the daily job; once a year per customer and perk)."""
    from jobs.scheduled import give_birthday_perks

    click.echo(f"{give_birthday_perks(as_of, context())} birthday presents given")
