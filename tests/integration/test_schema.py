"""Invariants live in the database: unique idempotency keys, signs per kind, immutable entries;
a refund references its order's row; and the app refuses to run on an unmigrated database."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from db.tables import ledger_entries
from loyalty.services import ledger
from loyalty.services.customers import resolve_customer
from tests.fixtures import create_postgres_database

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
    from loyalty.services.context import build_context
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


def test_a_refund_references_its_orders_row(ctx, shop):
    """A refund of an order the app holds no row for is refused (foreign key): a worker that creates an
    order's row relies on no refund of it being committed yet. refunds/create creates the row first."""
    from db.tables import orders, refunds
    from integrations.shopify.translate import to_command
    from loyalty.services.orders import record_refund
    from tests.factories import order, refund

    with pytest.raises(IntegrityError):
        with ctx.engine.begin() as conn:
            conn.execute(insert(refunds).values(shop_id=shop.id, shopify_refund_id=1, shopify_order_id=77,
                                                merchandise=1, created_at=NOW))
    body = order(order_id=78, lines=((50, 2),), email="refund-first@example.com")
    with ctx.engine.begin() as conn:
        record_refund(conn, shop, to_command("refunds/create", refund(body, lines={0: (1, 50)})), NOW)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(orders.c.shopify_order_id, orders.c.paid_at)).all() == [(78, None)]
        assert conn.execute(select(refunds.c.shopify_order_id)).scalars().all() == [78]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path):
    """An empty database (no schema) of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return create_postgres_database(request.getfixturevalue("postgres"), "e")


def test_refunds_recorded_before_their_order_row_get_one_on_upgrade(empty_database_url):
    """Migration 0010: a refund stored without its order's row (as the app once did) gets the row, empty,
    as its event would create it now; the foreign key is then added."""
    from alembic import command

    from db.migrate import alembic_config

    config = alembic_config(empty_database_url)
    command.upgrade(config, "0009")
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO shops (domain, installed_at, settings_version) "
                              "VALUES ('old.myshopify.com', :at, 1)"), {"at": NOW})
            conn.execute(text("INSERT INTO refunds (shop_id, shopify_refund_id, shopify_order_id, merchandise, "
                              "created_at) VALUES (1, 10, 500, 5, :at), (1, 11, 500, 5, :at)"), {"at": NOW})
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT shop_id, shopify_order_id, paid_at FROM orders")).all() == [(1, 500, None)]
    finally:
        engine.dispose()


def test_inbox_bodies_move_to_their_own_table_on_upgrade(empty_database_url):
    """Migration 0015: the bodies of webhooks already in the inbox (processed or waiting) are in
    webhook_bodies afterwards, byte for byte, and the inbox keeps its rows, state and partial indexes;
    a downgrade puts them back in the row."""
    from alembic import command

    from db.migrate import alembic_config

    config = alembic_config(empty_database_url)
    command.upgrade(config, "0014")
    bodies = {"w1": b'{"id": 1, "note": "\xc3\xa9"}', "w2": b"\x00\xff" + b"x" * 20_000}
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            for webhook_id, body in bodies.items():
                conn.execute(text("INSERT INTO webhook_inbox (webhook_id, shop_domain, topic, body, received_at, "
                                  "processed_at) VALUES (:w, 's.myshopify.com', 'orders/paid', :b, :at, :done)"),
                             {"w": webhook_id, "b": body, "at": NOW, "done": NOW if webhook_id == "w1" else None})
        command.upgrade(config, "head")
        with engine.connect() as conn:
            moved = conn.execute(text("SELECT i.webhook_id, b.body, i.processed_at IS NULL FROM webhook_inbox i "
                                      "JOIN webhook_bodies b ON b.inbox_id = i.id ORDER BY i.id")).all()
            waiting = conn.execute(text("SELECT webhook_id FROM webhook_inbox "
                                        "WHERE processed_at IS NULL AND failed_at IS NULL")).scalars().all()
        assert [(w, bytes(b), unprocessed) for w, b, unprocessed in moved] == [
            ("w1", bodies["w1"], False), ("w2", bodies["w2"], True)]
        assert waiting == ["w2"]
        _assert_schema_matches(engine)
        command.downgrade(config, "0014")
        with engine.connect() as conn:
            back = conn.execute(text("SELECT webhook_id, body FROM webhook_inbox ORDER BY id")).all()
        assert [(w, bytes(b)) for w, b in back] == list(bodies.items())
    finally:
        engine.dispose()


def _assert_schema_matches(engine) -> None:
    """The database and db/tables.py agree, partial indexes' WHERE clauses included."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    from db.tables import metadata

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
        where = {index["name"]: index.get("dialect_options", {}) for index in inspect(conn).get_indexes("webhook_inbox")}
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            sql = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'webhook_inbox' "
                                         "AND type = 'index' AND sql IS NOT NULL")).all())
        assert "WHERE processed_at IS NULL AND failed_at IS NULL" in sql["ix_webhook_inbox_unprocessed"]
        assert "WHERE failed_at IS NOT NULL" in sql["ix_webhook_inbox_failed"]
    else:
        assert "processed_at IS NULL" in str(where["ix_webhook_inbox_unprocessed"]["postgresql_where"])


def test_webhook_bodies_are_compressed_with_lz4_where_postgresql_has_it(ctx):
    """Migration 0016: PostgreSQL compresses the bodies with lz4 (pglz cost the server more CPU per webhook
    than the rest of recording it); a server built without lz4 keeps the default."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores bodies as given")
    with ctx.engine.connect() as conn:
        has_lz4 = conn.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                    "WHERE name = 'default_toast_compression'")).scalar()
        method = conn.execute(text("SELECT attcompression FROM pg_attribute WHERE attrelid = "
                                   "'webhook_bodies'::regclass AND attname = 'body'")).scalar()
        conn.execute(text("INSERT INTO webhook_inbox (webhook_id, shop_domain, topic, received_at) "
                          "VALUES ('lz4', 'a.myshopify.com', 'orders/paid', now())"))
        body = b'{"line_items": [' + b", ".join(b'{"title": "Upcycled tote %d"}' % i for i in range(400)) + b"]}"
        conn.execute(text("INSERT INTO webhook_bodies (inbox_id, body) SELECT id, :body FROM webhook_inbox "
                          "WHERE webhook_id = 'lz4'"), {"body": body})
        stored = conn.execute(text("SELECT pg_column_compression(body), body FROM webhook_bodies")).one()
    assert has_lz4, "the suite's PostgreSQL (Debian's) is built with lz4"
    assert method == "l"
    assert stored == ("lz4", body)
