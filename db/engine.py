"""Engines with timeouts short enough that a dead database answers 503 well inside Shopify's 5 s."""
from __future__ import annotations

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
