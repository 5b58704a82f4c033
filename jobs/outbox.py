"""What the outbox senders share (jobs.notify for emails, jobs.flow_triggers for Flow triggers): rows that
wait with a status, attempts, a next attempt and a lease, claimed in a short transaction, finished only by
the lease holder, retried with backoff, given a new round on demand."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Table, and_, or_, select, update

from loyalty.services.context import Context


def claim(conn, table: Table, owner: str, now: datetime, size: int, lease: timedelta) -> bool:
    """Lease up to `size` due `pending` rows of `table` to `owner`, oldest first, in `conn`'s transaction;
    False when none was due. The caller then reads the rows whose lease_owner is `owner`."""
    c = table.c
    free = and_(c.status == "pending", c.next_attempt_at <= now, or_(c.lease_until.is_(None), c.lease_until < now))
    ids = conn.execute(select(c.id).where(free).order_by(c.next_attempt_at, c.id).limit(size)).scalars().all()
    if not ids:
        return False
    # `free` again in the UPDATE: a row another worker claimed meanwhile is not taken twice
    conn.execute(update(table).where(c.id.in_(ids), free).values(lease_owner=owner, lease_until=now + lease))
    return True


def finish(ctx: Context, table: Table, row, owner: str, **values) -> int:
    """Update the row while this worker still holds it; returns 1, or 0 when the lease was lost."""
    c = table.c
    with ctx.engine.begin() as conn:
        return conn.execute(update(table).where(c.id == row.id, c.lease_owner == owner, c.status == "pending")
                            .values(lease_owner=None, lease_until=None, **values)).rowcount


def failed(ctx: Context, table: Table, row, owner: str, reason: str, now: datetime, permanent: bool,
           max_attempts: int) -> None:
    """Record a failed attempt (only while still holding the row): retry later, 1, 2, 4... minutes after,
    or give up (`failed`) when permanent or at `max_attempts`."""
    attempts = row.attempts + 1
    give_up = permanent or attempts >= max_attempts
    finish(ctx, table, row, owner, attempts=attempts, last_error=reason[:2000],
           status="failed" if give_up else "pending", next_attempt_at=now + timedelta(minutes=2 ** (attempts - 1)))


def retry(ctx: Context, table: Table, row_id: int | None = None, now: datetime | None = None) -> int:
    """Give failed rows (one, or all) a new round of attempts; returns how many."""
    query = update(table).where(table.c.status == "failed")
    if row_id is not None:
        query = query.where(table.c.id == row_id)
    with ctx.engine.begin() as conn:
        return conn.execute(query.values(status="pending", attempts=0,
                                         next_attempt_at=now or datetime.now(timezone.utc))).rowcount
