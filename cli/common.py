"""Helpers shared by the CLI commands."""
from __future__ import annotations

from datetime import datetime, timezone

import click

from loyalty.services.context import Context, get_context


def context() -> Context:
    """The process context; a clear message when the database is not migrated."""
    return get_context()


def utc_now() -> datetime:
    """The real clock, in UTC."""
    return datetime.now(timezone.utc)



class Iso8601(click.ParamType):
    """An ISO 8601 instant; a time without offset is taken as UTC."""

    name = "ISO8601"

    def convert(self, value, param, ctx):
        """Parse the text into an aware UTC datetime."""
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time (e.g. 2026-01-31T00:00:00Z)", param, ctx)
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def shop_or_fail(conn, domain: str):
    """The installed shop, or a clear error naming it."""
    from loyalty.services.shops import UnknownShop, get_shop

    try:
        return get_shop(conn, domain)
    except UnknownShop:
        raise click.ClickException(f"shop {domain} is not installed (see `loyalty shops add`)") from None
