"""Many rows at once through the database driver, for bulk work (the history import): tuples in, one
executemany (or COPY on PostgreSQL) out, without SQLAlchemy building a parameter dict per row.

Values are converted by the columns' own SQLAlchemy bind processors, so what is stored is exactly what
`conn.execute(insert(table), rows)` would store; the schema's constraints, unique keys and triggers apply
as to any INSERT.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, time
from functools import lru_cache

import orjson
from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError


def insert_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT `rows` (tuples in the order of `columns`) into `table`, in the connection's transaction."""
    if not rows:
        return
    sql, processors = _insert(conn.dialect, table, columns)
    rows = _bound(rows, processors)
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
    else:
        conn.exec_driver_sql(sql, rows)


def upsert_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple], key: str,
                update: tuple[str, ...]) -> None:
    """INSERT ... ON CONFLICT (`key`) DO UPDATE SET the `update` columns to the new values (same SQL on
    SQLite and PostgreSQL)."""
    if not rows:
        return
    sql, processors = _insert(conn.dialect, table, columns)
    sets = ", ".join(f"{c} = excluded.{c}" for c in update)
    conn.exec_driver_sql(f"{sql} ON CONFLICT ({key}) DO UPDATE SET {sets}", _bound(rows, processors))


def insert_new_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple], key: tuple[str, ...],
                    returning: tuple[str, ...], chunk: int = 1000, lock_existing: bool = False) -> list[tuple]:
    """INSERT `rows` unless a row with the same `key` exists (ON CONFLICT DO NOTHING; with no `key`, the same
    on any UNIQUE constraint), a multi-row VALUES per `chunk` rows; returns the `returning` columns of the rows this statement inserted, judged by the
    UNIQUE key against every row committed or in flight (on PostgreSQL a row another transaction is
    inserting is waited for), so a row not returned was written by someone else.

    `lock_existing`: a row whose `key` exists is locked instead (ON CONFLICT DO UPDATE of its first key
    column to the same value: on PostgreSQL the row is locked until the transaction ends, in the order of
    `rows`, waiting for a transaction that holds it) and returned too."""
    if not rows:
        return []
    sql, processors = _insert(conn.dialect, table, columns)
    head, one = sql.split(" VALUES ")
    target = f" ({', '.join(key)})" if key else ""
    action = f"DO UPDATE SET {key[0]} = excluded.{key[0]}" if lock_existing else "DO NOTHING"
    tail = f" ON CONFLICT{target} {action} RETURNING {', '.join(returning)}"
    rows, inserted = _bound(rows, processors), []
    with _driver_errors(conn, head):
        cursor = conn.connection.cursor()
        try:
            for start in range(0, len(rows), chunk):
                part = rows[start:start + chunk]
                cursor.execute(f"{head} VALUES {', '.join([one] * len(part))}{tail}",
                               [value for row in part for value in row])
                inserted += cursor.fetchall()
        finally:
            cursor.close()
    return inserted


def select_in(conn: Connection, sql: str, params: tuple, values) -> list[tuple]:
    """Rows of `sql`, a query whose placeholders are written `{p}` and whose last condition is
    `column {IN}`, with `params` for the `{p}`s: one parameter for any number of values."""
    values = list(values)
    if not values:
        return []
    if conn.dialect.name == "postgresql":
        query, last = sql.format(p="%s", IN="= ANY(%s)"), values
    else:  # SQLite: the list as one JSON array, so no limit on the number of variables applies
        query, last = sql.format(p="?", IN="IN (SELECT value FROM json_each(?))"), orjson.dumps(values).decode()
    with _driver_errors(conn, query):
        cursor = conn.connection.cursor()  # the driver's own rows: plain tuples
        try:
            if conn.dialect.name == "postgresql":
                # never a prepared (generic) plan: it cannot see the array, and filters every row of the
                # table through it (a second per chunk of 2,000 at 100,000 customers, instead of an index scan)
                cursor.execute(query, (*params, last), prepare=False)
            else:
                cursor.execute(query, (*params, last))
            return cursor.fetchall()
        finally:
            cursor.close()


def placeholder(dialect: Dialect) -> str:
    """The driver's parameter marker: `?` (sqlite3) or `%s` (psycopg)."""
    return "%s" if dialect.paramstyle in ("format", "pyformat") else "?"


@lru_cache(maxsize=64)
def _insert(dialect: Dialect, table: Table, columns: tuple[str, ...]):
    marks = ", ".join([placeholder(dialect)] * len(columns))
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    processors = tuple((i, *p) for i, name in enumerate(columns)
                       if (p := _processor(dialect, table.c[name].type)) is not None)
    return sql, processors


@lru_cache(maxsize=64)
def _processor(dialect: Dialect, column_type):
    """(bind processor, whether values are told apart by their UTC offset too), one per type and dialect,
    so columns of the same type share their converted values; None when values go as they are."""
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    try:
        timed = issubclass(column_type.python_type, (datetime, time))
    except NotImplementedError:
        timed = False
    return process, timed


_converted: dict = {}
"""Values already converted, by processor and time zone: the same times recur across tables (an order's
paid_at is its earn entry's effective_at) and rows (`created_at`). Emptied when it grows past CONVERTED_KEPT."""
CONVERTED_KEPT = 10_000


def _bound(rows: list[tuple], processors) -> list[tuple]:
    """The rows with their values converted, column by column, each distinct value once."""
    if not processors:
        return rows
    by_column = list(zip(*rows))
    for i, process, timed in processors:
        column, zone = by_column[i], None
        if timed:  # equal instants of two offsets are equal, yet a processor may write their wall-clock times
            zones = {None if v is None else v.tzinfo for v in column}
            zones.discard(None)
            if len(zones) > 1:
                by_column[i] = map(process, column)
                continue
            zone = zones.pop() if zones else None
        if (process, zone) not in _converted and len(_converted) >= 64:  # processors of engines long gone
            _converted.clear()
        known = _converted.setdefault((process, zone), {})
        if len(known) > CONVERTED_KEPT:
            known.clear()
        missing = set(column).difference(known)
        known.update(zip(missing, map(process, missing)))
        by_column[i] = list(map(known.__getitem__, column))  # now: a later column may empty `known`
    return list(zip(*by_column))


def _copy(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with _driver_errors(conn, statement):
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


@contextmanager
def _driver_errors(conn: Connection, statement: str):
    """The driver's errors as SQLAlchemy raises them (IntegrityError for a constraint, and so on)."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi.Error, dialect=conn.dialect) from exc


@contextmanager
def fewer_checkpoints(conn: Connection, pages: int):
    """On SQLite, checkpoint the write-ahead log into the database every `pages` pages instead of every
    1,000 while this connection does bulk work: index pages written by several chunks are copied (and the
    database file synced) once instead of once per chunk. Durability is untouched: every commit still syncs
    the log. The previous setting is restored after; nothing on PostgreSQL."""
    if conn.dialect.name != "sqlite":
        yield conn
        return
    sqlite = conn.connection.driver_connection  # outside any transaction: no BEGIN for a PRAGMA
    previous = sqlite.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    sqlite.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
    try:
        yield conn
    finally:
        sqlite.execute(f"PRAGMA wal_autocheckpoint = {int(previous)}")
