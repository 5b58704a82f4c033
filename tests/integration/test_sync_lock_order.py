"""Balances waiting for write-back (customer_sync) are locked in customer order by everyone who changes
them: an inbox batch marks its customers in one sorted upsert when its block ends, and the write-back deletes
the rows it wrote in customer order. Before, a batch marked them event by event, in any order: two workers'
batches, or a batch and a sync job, could each hold one row and wait for the other's (a deadlock seen by the
scale-out benchmark with 4 workers)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from db.tables import customer_sync, customers
from jobs.write_back import DELETE_UNCHANGED
from loyalty.services import ledger

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


@pytest.mark.postgres
def test_a_batch_marking_out_of_order_and_a_sync_deleting_in_order_do_not_deadlock(ctx, shop):
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its transactions cannot wait on each other")
    with ctx.engine.begin() as conn:
        first, second = (conn.execute(insert(customers).values(shop_id=shop.id, email=f"{n}@example.com",
                                                               created_at=T0).returning(customers.c.id)).scalar()
                         for n in (1, 2))
        conn.execute(insert(customer_sync), [dict(customer_id=c, shop_id=shop.id, changed_at=T0)
                                             for c in (first, second)])
    batch_marked_second, sync_holds_first = threading.Event(), threading.Event()
    errors = []

    def batch():  # the inbox: events of the second customer, then of the first
        try:
            with ctx.engine.begin() as conn, ledger.perks_decided_once(conn):
                ledger.mark_for_sync(conn, shop.id, second, T0 + timedelta(minutes=1))
                batch_marked_second.set()
                sync_holds_first.wait(10)
                ledger.mark_for_sync(conn, shop.id, first, T0 + timedelta(minutes=1))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def sync():  # the write-back, done with both customers: deletes what it wrote, in customer order
        try:
            batch_marked_second.wait(10)
            with ctx.engine.begin() as conn:
                conn.execute(DELETE_UNCHANGED, [{"cid": first, "seen": T0}])
                sync_holds_first.set()
                conn.execute(DELETE_UNCHANGED, [{"cid": second, "seen": T0}])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            sync_holds_first.set()

    threads = [threading.Thread(target=batch), threading.Thread(target=sync)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with ctx.engine.connect() as conn:  # the batch's marks stand: both balances changed after the write-back
        waiting = dict(conn.execute(select(customer_sync.c.customer_id, customer_sync.c.changed_at)).all())
    assert waiting == {first: T0 + timedelta(minutes=1), second: T0 + timedelta(minutes=1)}
