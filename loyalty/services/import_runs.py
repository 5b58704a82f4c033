"""Bookkeeping of history imports and reconciliations (`import_runs`): start or resume, progress, end."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from db.engine import reading
from db.tables import import_runs as runs
from loyalty.services.history import ImportTotals
from loyalty.services.wakeups import wake_sync
from loyalty.services.errors import MissingScope, ShopGone
from integrations.shopify.errors import ShopifyGraphQLError, ShopifyUnauthorized
from loyalty.services.tokens import TokenUnavailable, what_to_do


def resumable(conn: Connection, shop_id: int, kind: str):
    """The shop's latest run of `kind` if it did not complete (crashed or failed), else None."""
    row = conn.execute(select(runs).where(runs.c.shop_id == shop_id, runs.c.kind == kind)
                       .order_by(runs.c.id.desc()).limit(1)).first()
    return row if row is not None and row.status != "completed" else None


def latest(conn: Connection, shop_id: int, kind: str, status: str | None = None):
    """The shop's latest run of `kind` (with that status, when given), or None."""
    query = select(runs).where(runs.c.shop_id == shop_id, runs.c.kind == kind)
    if status:
        query = query.where(runs.c.status == status)
    return conn.execute(query.order_by(runs.c.id.desc()).limit(1)).first()


def start(conn: Connection, shop_id: int, kind: str, now: datetime, **values) -> int:
    """A new running run; the partial unique index refuses a second running one for the shop."""
    return conn.execute(insert(runs).values(shop_id=shop_id, kind=kind, status="running", started_at=now,
                                            updated_at=now, **values)).inserted_primary_key[0]


def reopen(conn: Connection, run_id: int, now: datetime) -> None:
    """Mark a crashed or failed run running again."""
    conn.execute(update(runs).where(runs.c.id == run_id).values(status="running", error=None, updated_at=now))


def set_values(conn: Connection, run_id: int, now: datetime, **values) -> None:
    """Record facts about the run (its source, bulk operation, watermark)."""
    conn.execute(update(runs).where(runs.c.id == run_id).values(updated_at=now, **values))


def progress(conn: Connection, run_id: int, totals: ImportTotals, now: datetime, **position) -> None:
    """Add a committed chunk's figures and where it ended; call in the chunk's own transaction."""
    conn.execute(update(runs).where(runs.c.id == run_id).values(
        orders_done=runs.c.orders_done + totals.orders, orders_credited=runs.c.orders_credited + totals.credited,
        points_credited=runs.c.points_credited + totals.points, updated_at=now, **position))


def finish(conn: Connection, run_id: int, now: datetime, error: str | None = None) -> None:
    """Completed, or failed with its reason (a failed run is resumed by the next one)."""
    conn.execute(update(runs).where(runs.c.id == run_id).values(
        status="failed" if error else "completed", error=error[:2000] if error else None, updated_at=now,
        finished_at=None if error else now))


def as_dict(row) -> dict:
    """A run as JSON-ready data."""
    data = dict(row._mapping)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


@contextmanager
def failing_with_reason(ctx, run_id: int, shop_domain: str | None = None):
    """Around a run's work: anything raised marks the run failed with its reason (the next run resumes it),
    then goes on up. With the shop's domain, a token Shopify will not take is explained: what the merchant
    or operator must do (token_trouble)."""
    try:
        yield
    except BaseException as exc:
        reason = (token_trouble(ctx, shop_domain, exc) if shop_domain else None) or f"{type(exc).__name__}: {exc}"
        with ctx.engine.begin() as conn:
            finish(conn, run_id, datetime.now(timezone.utc), error=reason)
        raise


def token_trouble(ctx, shop_domain: str, exc: BaseException) -> str | None:
    """When `exc` says the shop's token cannot be used (refused, expired past refreshing, a scope missing),
    what to do about it for the kind of token the shop holds, then the error itself; None for anything else."""
    scope = exc.scope if isinstance(exc, MissingScope) else _access_denied_scope(exc)
    if scope is None and not isinstance(exc, (ShopGone, TokenUnavailable, ShopifyUnauthorized)):
        return None
    if isinstance(exc, TokenUnavailable):
        return str(exc)  # it says what to do already (loyalty.services.tokens.what_to_do)
    with reading(ctx.engine) as conn:
        advice = what_to_do(conn, shop_domain, scope)
    return f"{advice} ({type(exc).__name__}: {exc})"


def _access_denied_scope(exc: BaseException) -> str | None:
    """The scope named by a GraphQL ACCESS_DENIED error ("Required access: `read_orders` access scope")."""
    if not isinstance(exc, ShopifyGraphQLError):
        return None
    for error in exc.errors:
        if isinstance(error, dict) and (error.get("extensions") or {}).get("code") == "ACCESS_DENIED":
            named = re.search(r"`(\w+)` access scope", str(error.get("message", "")))
            return named.group(1) if named else "read_orders"
    return None


def completed(ctx, run_id: int) -> dict:
    """After a finished run: queue the balance write-back for what it credited; the run as JSON-ready data."""
    wake_sync(ctx)
    with reading(ctx.engine) as conn:
        return as_dict(conn.execute(select(runs).where(runs.c.id == run_id)).one())
