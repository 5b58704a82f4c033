"""Helpers shared by the CLI commands."""
from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, timezone

import click

from loyalty.services.context import Context, get_context
from loyalty.services.errors import UnknownCustomer, UnknownShop
from loyalty.services.unit_of_work import ReadOnlyUnitOfWork, UnitOfWork


def local_app(path: str = "") -> str:
    """Where `make run`'s app listens on this machine: its PORT (from the environment), else 8000."""
    return f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}{path}"


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


def unit_of_work(ctx: Context) -> UnitOfWork:
    """A unit of work for the command's use case, on the real clock."""
    return UnitOfWork(ctx)


def reads(ctx: Context) -> ReadOnlyUnitOfWork:
    """A read-only unit of work for the command's query."""
    return ReadOnlyUnitOfWork(ctx)


@contextmanager
def refusals():
    """An unknown shop or customer named on the command line, said as the command's error."""
    try:
        yield
    except UnknownShop as exc:
        raise click.ClickException(f"shop {exc.args[0]} is not installed (see `loyalty shops add`)") from None
    except UnknownCustomer as exc:
        raise click.ClickException(str(exc)) from None
