"""db.engine.lease_transaction: a lease's commit does not wait for the disk, and only the lease's: the
connection goes back to the pool as durable as it was (SQLite's synchronous=FULL; PostgreSQL's
synchronous_commit as the server sets it: the test cluster runs without it, for speed)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text

from db.engine import lease_transaction
from db.tables import orders

SQLITE_OFF, SQLITE_FULL = 0, 2


def _durability(conn) -> str:
    if conn.dialect.name == "sqlite":
        return {SQLITE_OFF: "off", SQLITE_FULL: "on"}.get(conn.exec_driver_sql("PRAGMA synchronous").scalar(), "?")
    return conn.exec_driver_sql("SHOW synchronous_commit").scalar()


def test_a_lease_commits_without_a_flush_and_leaves_the_connection_durable(ctx, shop):
    """Inside: not durable; its rows committed; after: the pooled connection as durable as before."""
    with ctx.engine.begin() as conn:
        before = _durability(conn)
    with lease_transaction(ctx.engine) as conn:
        inside = _durability(conn)
        conn.execute(insert(orders).values(shop_id=shop.id, shopify_order_id=1))
    with ctx.engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(orders)).scalar() == 1
        after = _durability(conn)
    assert (inside, after) == ("off", before)
    assert ctx.engine.dialect.name != "sqlite" or before == "on"


def test_a_failed_lease_is_rolled_back_and_leaves_the_connection_durable(ctx, shop):
    """An error inside rolls the lease back; the setting is restored all the same."""
    with ctx.engine.begin() as conn:
        before = _durability(conn)
    with pytest.raises(RuntimeError):
        with lease_transaction(ctx.engine) as conn:
            conn.execute(insert(orders).values(shop_id=shop.id, shopify_order_id=1))
            raise RuntimeError("the worker fails mid-claim")
    with ctx.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 0
        assert _durability(conn) == before
