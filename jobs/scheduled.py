"""Scheduled jobs (run by `rq cron jobs/cron.py`, or by hand with the CLI and an explicit --as-of)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, delete, func, or_, select

from db.engine import reading
from db.tables import webhook_inbox as inbox
from loyalty.services import birthdays, referrals, schedule
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.vouchers import issue_gift
from loyalty.services.wakeups import queue_processing
from loyalty.services.context import Context, get_context
from loyalty.services.events import shopify_client
from loyalty.defaults import INBOX_SWEEP_AFTER as SWEEP_AFTER
from loyalty.services.vouchers import expire_unused

log = logging.getLogger(__name__)


def sweep(ctx: Context | None = None, now: datetime | None = None) -> int:
    """Re-enqueue processing when recorded webhooks wait unclaimed (Redis lost the job, or a worker died)."""
    ctx = ctx or get_context()
    now = now or datetime.now(timezone.utc)
    with reading(ctx.engine) as conn:
        waiting = conn.execute(select(func.count()).select_from(inbox).where(
            inbox.c.processed_at.is_(None), inbox.c.failed_at.is_(None), inbox.c.received_at < now - SWEEP_AFTER,
            or_(inbox.c.lease_until.is_(None), inbox.c.lease_until < now))).scalar()
    if waiting:
        log.info("sweeper: %s webhooks waiting, enqueueing processing", waiting)
        queue_processing(ctx)  # whatever the wake flag says: Redis may have lost the job it stood for
    return waiting


def mature_points(as_of: datetime | None = None, ctx: Context | None = None) -> int:
    """Make available every pending point whose pending period ended by `as_of` (default: now); then settle
    the referrals whose friend's first order is past it (settle_referrals)."""
    ctx = ctx or get_context()
    now = datetime.now(timezone.utc)
    total = _in_slices(ctx, lambda conn: schedule.mature(conn, as_of or now, now))
    settle_referrals(as_of or now, ctx)
    return total


def settle_referrals(as_of: datetime | None = None, ctx: Context | None = None) -> int:
    """Reward the referrers whose friends' first orders are past their pending period by `as_of` (run with
    the maturity); returns how many referrals settled (rewarded, refused by a cap, or nothing)."""
    ctx = ctx or get_context()
    now = datetime.now(timezone.utc)
    return _in_slices(ctx, lambda conn: referrals.reward_matured(conn, as_of or now, now))


def _in_slices(ctx: Context, step) -> int:
    """Run `step(conn)` (a limited slice of work, returning how much it did) in its own transaction until it
    finds nothing left; returns the total."""
    total = 0
    while True:
        with ctx.engine.begin() as conn:
            done = step(conn)
        total += done
        if done == 0:
            return total


def expire_points(as_of: datetime | None = None, ctx: Context | None = None) -> int:
    """Apply each shop's expiry policy as of `as_of` (default: now)."""
    ctx = ctx or get_context()
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        return schedule.expire(conn, as_of or now, now)


def expire_vouchers(as_of: datetime | None = None, ctx: Context | None = None) -> int:
    """Expire unused vouchers past their end date (points back or lost, per the shop's setting)."""
    ctx = ctx or get_context()
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        return expire_unused(conn, as_of or now, now)


def inbox_counts(ctx: Context) -> dict:
    """How many recorded webhooks are processed, waiting and failed."""
    with reading(ctx.engine) as conn:
        row = conn.execute(select(
            func.count().filter(inbox.c.processed_at.is_not(None)),
            func.count().filter(and_(inbox.c.processed_at.is_(None), inbox.c.failed_at.is_(None))),
            func.count().filter(inbox.c.failed_at.is_not(None)),
        ).select_from(inbox)).one()
    return {"processed": row[0], "waiting": row[1], "failed": row[2]}


def purge_inbox(ctx: Context | None = None, now: datetime | None = None) -> int:
    """Delete processed webhooks older than the retention period (LOYALTY_INBOX_RETENTION_DAYS): their raw
    bodies name customers, and the ledger, not the inbox, is the record. Failed ones stay until retried
    or dealt with; Shopify's retries (48 h) are long over, so dedup by webhook id loses nothing."""
    ctx = ctx or get_context()
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=max(ctx.config.inbox_retention_days, 2))
    with ctx.engine.begin() as conn:  # their bodies go with them (webhook_bodies: ON DELETE CASCADE)
        purged = conn.execute(delete(inbox).where(inbox.c.processed_at.is_not(None),
                                                  inbox.c.processed_at < cutoff)).rowcount
    if purged:
        log.info("inbox retention: %s processed webhooks older than %s deleted", purged, cutoff.date())
    return purged


# -- daily jobs about customers' dates ----------------------------------------------------------------
# The scheduler runs them every hour: each is idempotent (a birthday present once a year, each expiry
# notice once per last purchase), so a missed or repeated run changes nothing, and a day starts on time.
# Days are the shop's calendar days (its IANA time zone, read from Shopify; UTC until read): a birthday
# starts at the shop's midnight. Pending periods and expiries are instants (a purchase + N days or months),
# kept as such; the last day an email names for them is the shop's calendar day.

def give_birthday_perks(as_of: datetime | None = None, ctx: Context | None = None,
                        client_factory=shopify_client) -> int:
    """Give today's birthday presents (as of `as_of`, default now) and the programme's birthday content, its
    gift codes made in Shopify with `client_factory`'s client; returns how many presents (perks) were given."""
    ctx = ctx or get_context()
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:  # each shop's day where it is (its time zone), not UTC's
        given = birthdays.give_birthday_perks(conn, as_of or now, now)
        gifts = birthdays.give_birthday_bonuses(conn, as_of or now, now)
    for voucher_id in gifts:  # made in Shopify outside the transaction; one that fails waits for the next run
        try:
            issue_gift(voucher_id, UnitOfWork(ctx, lambda: now), client_factory)
        except Exception as exc:  # noqa: BLE001 - recorded on the voucher (note_waiting), tried again next hour
            log.warning("birthday gift %s: %s", voucher_id, exc)
    return given


def warn_expiring_points(as_of: datetime | None = None, ctx: Context | None = None) -> int:
    """Record the due notices of points expiring in 30 and 7 days; returns how many were recorded."""
    ctx = ctx or get_context()
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        return schedule.points_expiring(conn, as_of or now, now)
