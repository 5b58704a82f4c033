"""Invariants live in the database: unique idempotency keys, signs per kind, immutable entries;
and the app refuses to run on an unmigrated database."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from db.tables import ledger_entries
from loyalty import ledger
from loyalty.customers import resolve_customer

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def customer_id(ctx, shop):
    with ctx.engine.begin() as conn:
        return resolve_customer(conn, shop.id, 1, "x@example.com", NOW)


def write(ctx, shop, customer_id, **kw):
    values = dict(shop_id=shop.id, customer_id=customer_id, kind="earn", key="k1", reason="r",
                  effective_at=NOW, now=NOW, pending=10)
    values.update(kw)
    with ctx.engine.begin() as conn:
        ledger.write_entry(conn, **values)


def test_idempotency_key_is_unique_in_the_database(ctx, shop, customer_id):
    """A second entry with the same business key is refused by the UNIQUE constraint."""
    write(ctx, shop, customer_id)
    with pytest.raises(IntegrityError):
        write(ctx, shop, customer_id)


@pytest.mark.parametrize("kind, pending, available", [
    ("earn", 0, 10), ("earn", -5, 0), ("mature", -5, 4), ("claw_back", 5, 0), ("expire", 0, 5),
    ("redeem", 0, 3), ("adjust", 0, 0), ("bogus", 0, 1),
])
def test_entry_signs_must_match_their_kind(ctx, shop, customer_id, kind, pending, available):
    """CHECK constraints refuse an entry whose points contradict its kind."""
    with pytest.raises(IntegrityError):
        write(ctx, shop, customer_id, kind=kind, pending=pending, available=available)


def test_entries_are_immutable(ctx, shop, customer_id):
    """An entry's points cannot be changed after the fact (trigger), only appended to."""
    write(ctx, shop, customer_id)
    with pytest.raises(DBAPIError, match="immutable"):
        with ctx.engine.begin() as conn:
            conn.execute(update(ledger_entries).values(pending=1000))
    with ctx.engine.connect() as conn:
        assert conn.execute(select(ledger_entries.c.pending)).scalar() == 10


def test_app_refuses_an_unmigrated_database(tmp_path, redis_url):
    """Starting on an empty database fails with a message naming the command to run."""
    from db.migrate import DatabaseNotMigrated
    from runtime.context import build_context
    from runtime.web import create_app
    from tests.conftest import make_config

    empty = build_context(make_config(f"sqlite:///{tmp_path / 'empty.db'}", redis_url, tmp_path))
    with pytest.raises(DatabaseNotMigrated, match="make migrate"):
        create_app(empty)


def test_balance_equals_the_sum_of_entries(send, process, ctx, shop):
    """The derived balance is exactly the ledger's sum (no cached figure to drift)."""
    from sqlalchemy import func

    from tests.factories import order, refund

    body = order(lines=((33.33, 3),))
    send("orders/paid", body)
    send("refunds/create", refund(body, lines={0: (1, 33.33)}))
    process()
    with ctx.engine.connect() as conn:
        customer = conn.execute(select(ledger_entries.c.customer_id)).scalar()
        total = conn.execute(select(func.sum(ledger_entries.c.pending + ledger_entries.c.available))).scalar()
        bal = ledger.balance(conn, customer)
    assert bal.available + bal.pending == total == 66


def test_migrations_build_exactly_the_declared_schema(ctx):
    """The migrated database and db/tables.py agree (tables, columns, indexes, constraints), so the
    invariants the code relies on are the ones in production databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from db.tables import metadata

    with ctx.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert differences == []
