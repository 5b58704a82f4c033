"""jobs.inbox.claim: oldest free rows first, leased in one statement; rows leased by another worker are left
alone until their lease runs out (claims at the same moment on PostgreSQL: test_inbox_workers.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from db.inbox import insert_webhooks
from db.tables import webhook_inbox as inbox
from jobs.inbox import LEASE, claim

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def _record(ctx, count: int) -> list[int]:
    with ctx.engine.begin() as conn:
        return insert_webhooks(conn, [dict(webhook_id=f"w{n}", shop_domain="s.myshopify.com", topic="orders/paid",
                                           body=_body(n), received_at=NOW) for n in range(count)])


def _body(n: int) -> bytes:
    return b'{"id": %d, "note": "%s"}' % (n, b"x" * 20_000 * (n % 2))


def test_oldest_free_rows_are_leased_and_others_wait_for_their_lease(ctx):
    ids = _record(ctx, 8)
    with ctx.engine.begin() as conn:  # a processed row and a failed one are never claimed
        conn.execute(update(inbox).where(inbox.c.id == ids[0]).values(processed_at=NOW))
        conn.execute(update(inbox).where(inbox.c.id == ids[1]).values(failed_at=NOW))
    first = claim(ctx, "a", NOW, 3)
    assert [r.id for r in first] == ids[2:5] and {r.lease_owner for r in first} == {"a"}
    assert [r.id for r in claim(ctx, "b", NOW, 10)] == ids[5:]
    assert claim(ctx, "c", NOW + LEASE - timedelta(seconds=1), 10) == []
    assert [r.id for r in claim(ctx, "c", NOW + LEASE + timedelta(seconds=1), 10)] == ids[2:]


def test_a_claim_returns_each_rows_body(ctx):
    """The rows come with their bodies (kept in webhook_bodies), byte for byte, large ones too."""
    ids = _record(ctx, 4)
    claimed = claim(ctx, "a", NOW, 10)
    assert [(r.id, bytes(r.body)) for r in claimed] == [(inbox_id, _body(n)) for n, inbox_id in enumerate(ids)]
