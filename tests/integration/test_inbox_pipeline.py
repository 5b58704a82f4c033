"""jobs.inbox applies batches pipelined: while one batch is written, the next is already claimed and
prepared; a batch whose write fails gives back at once its rows and the rows claimed ahead."""
from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

import jobs.inbox as inbox_job
from db.inbox import insert_webhooks
from db.tables import ledger_entries, webhook_inbox as inbox
from tests.factories import order


def _record_orders(ctx, shop, count: int) -> None:
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        insert_webhooks(conn, [dict(
            webhook_id=uuid.uuid4().hex, shop_domain=shop.domain, topic="orders/paid", received_at=now,
            body=json.dumps(order(email=f"c{n}@example.com", customer_id=9000 + n)).encode()) for n in range(count)])


def _leased(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(inbox).where(
            inbox.c.lease_owner.isnot(None), inbox.c.processed_at.is_(None))).scalar()


@pytest.fixture
def small_batches(ctx):
    """Batches of 10 rows (the job's first batch is min(batch_size, 50))."""
    return dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, batch_size=10))


def test_the_next_batch_is_claimed_while_one_is_written(small_batches, shop, monkeypatch):
    """30 orders in batches of 10: when each batch is written, the next one is leased already (3 batches,
    each seeing the next claimed but the last); every order is credited once."""
    ctx = small_batches
    _record_orders(ctx, shop, 30)
    seen, write = [], inbox_job.write

    def watching(ctx_, rows, *args, **kwargs):
        seen.append((len(rows), _leased(ctx_)))
        return write(ctx_, rows, *args, **kwargs)

    monkeypatch.setattr(inbox_job, "write", watching)
    assert inbox_job.apply_every_waiting(ctx) == 30
    assert seen == [(10, 20), (10, 20), (10, 10)]
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger_entries)).scalar() == 30


def test_a_failed_write_gives_back_its_batch_and_the_one_claimed_ahead(small_batches, shop, monkeypatch):
    """The database refuses the first batch's transaction: the error reaches the job (RQ retries it) and
    no row stays leased, so the next job claims them at once instead of after the lease."""
    ctx = small_batches
    _record_orders(ctx, shop, 30)

    def refused(*args, **kwargs):
        raise RuntimeError("the database refused the transaction")

    monkeypatch.setattr(inbox_job, "write", refused)
    with pytest.raises(RuntimeError):
        inbox_job.apply_every_waiting(ctx)
    assert _leased(ctx) == 0
    monkeypatch.undo()
    assert inbox_job.apply_every_waiting(ctx) == 30
