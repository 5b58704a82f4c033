"""Engines with timeouts short enough that a dead database answers 503 well inside Shopify's 5 s."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine


def make_engine(database_url: str, timeout_seconds: float = 0.8) -> Engine:
    """An engine for DATABASE_URL: SQLite in WAL mode with a short busy timeout, or PostgreSQL."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"timeout": timeout_seconds})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite opens transactions lazily and late; take the write lock at BEGIN instead so two
        # writers never deadlock on upgrade and a locked database fails fast.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        database_url,
        pool_pre_ping=False,
        pool_size=5,
        max_overflow=5,
        pool_timeout=timeout_seconds,
        connect_args={
            "connect_timeout": max(1, int(timeout_seconds + 0.5)),
            "options": f"-c statement_timeout={int(timeout_seconds * 1000) * 10}",
        },
    )


def reading(engine: Engine):
    """A connection for reads only: on SQLite it does not take the write lock, so readers never queue
    behind (or block) the writer."""
    return engine.connect().execution_options(read_only=True)


@contextmanager
def writes_refused(conn):
    """`with writes_refused(conn):` the open transaction refuses every write, so a query that must change
    nothing (a simulation) cannot, whatever it calls: `SET TRANSACTION READ ONLY` on PostgreSQL (before
    the transaction's first statement), `PRAGMA query_only` on SQLite (per connection: set back after)."""
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        yield conn
        return
    conn.exec_driver_sql("PRAGMA query_only = ON")
    try:
        yield conn
    finally:
        conn.exec_driver_sql("PRAGMA query_only = OFF")


@contextmanager
def lease_transaction(engine: Engine):
    """`with lease_transaction(engine) as conn:` a write transaction whose commit returns without waiting
    for the disk: for leases (a worker reserving inbox rows), whose loss in a crash only gives the rows back
    to the queue. The log is written in order, so the next durable commit (the batch's own) makes the lease
    durable too; nothing that matters ever depends on a lease alone. Saves one disk flush per batch."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            with conn.begin():
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")  # this transaction only
                yield conn
            return
        dbapi = conn.connection.dbapi_connection  # outside any transaction: the setting is per connection
        dbapi.execute("PRAGMA synchronous=OFF")
        try:
            with conn.begin():
                yield conn
        finally:
            try:
                dbapi.execute("PRAGMA synchronous=FULL")
            except Exception:  # noqa: BLE001 - never hand a non-durable connection back to the pool
                conn.invalidate()
                raise


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers work beside the writer; FULL sync keeps a 200-answered webhook on disk."""
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN IMMEDIATE
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
