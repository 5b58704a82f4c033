"""Group commit of inbox rows: the webhooks that arrive together in one web process share one transaction.

A durable commit (an fsync on SQLite, a WAL flush on PostgreSQL) costs far more than the INSERT it makes
durable, and every webhook must be committed before it is answered. So the request threads of a process
queue their rows here; one of them (the leader) writes everything queued in one transaction and wakes the
others with their answer. No background thread: leadership passes from request to request, so nothing is
left running across gunicorn's forks, and an idle process holds nothing.

Each request gets exactly one of: recorded (its row is committed), duplicate (its webhook id was already
committed, earlier or by an earlier row of the same batch) or the database error that stopped it. When a
batch fails for a reason that could be one row's (a constraint, a value out of range), the rows are
retried one transaction each, so a bad row fails alone; when the database itself is unreachable the whole
batch fails at once, so every request answers 503 quickly.

Each row goes in with its body (db.tables.webhook_bodies) in the same transaction.

`write_batch` is the batch writing itself; the inbox writer process (webhooks.writer.server) uses it too,
for the batches it gathers from every web process.
"""
from __future__ import annotations

import functools
import threading
import time
import weakref
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError

from db.rows import placeholder
from db.tables import webhook_bodies, webhook_inbox
from db.errors import CommitTimeout
from loyalty.defaults import (GROUP_COMMIT_FOLLOWER_WAIT_SECONDS as FOLLOWER_WAIT_SECONDS,
                              GROUP_COMMIT_MAX_BATCH as MAX_BATCH)


@dataclass(eq=False)
class Outcome:
    """One inbox row of a batch, and what became of it (write_batch sets recorded or error)."""

    row: dict
    recorded: bool | None = None
    committed_at: float = 0.0
    error: BaseException | None = None


@dataclass(eq=False)
class Pending(Outcome):
    """A row a request thread waits on (`done`), which it may be asked to write itself (`lead`)."""

    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False


class GroupCommitter:
    """Inserts inbox rows for the threads of one process, many per transaction."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH):
        self._engine, self.max_batch = weakref.ref(engine), max_batch  # weak: engines come and go in tests
        self._lock = threading.Lock()
        self._queue: list[Pending] = []
        self._writing = False
        self.transactions = 0
        """Batches written (committed or failed), for tests and the benchmark."""

    def record(self, row: dict) -> float | None:
        """Insert one inbox row and return once it is committed, with the monotonic time of that commit;
        None when its webhook id was already recorded. Raises the SQLAlchemyError that kept it from being
        committed."""
        me = Pending(row)
        with self._lock:
            self._queue.append(me)
            me.lead = not self._writing
            self._writing = True
        if not me.lead and not me.done.wait(FOLLOWER_WAIT_SECONDS):
            with self._lock:
                if not me.lead and me in self._queue:  # not taken into a batch yet: withdraw it
                    self._queue.remove(me)
                    raise CommitTimeout("the inbox write did not finish in time")
            me.done.wait()  # being written right now, or just promoted: the answer is coming
        if me.lead:  # first in line, or promoted by the previous leader: write the next batch
            self._lead()
        if me.error is not None:
            raise me.error
        if me.recorded is None:  # cannot happen: every row of a written batch gets an answer
            raise CommitTimeout("the inbox write gave no answer")
        return me.committed_at if me.recorded else None

    def _lead(self) -> None:
        """Write one batch from the queue, then hand leadership to the next waiting request (if any)."""
        with self._lock:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        try:
            self._write(batch)
        except BaseException as exc:  # noqa: BLE001 - every waiting request must hear back, whatever happened
            for item in batch:
                if item.recorded is None and item.error is None:
                    item.error = exc
        finally:
            for item in batch:
                item.done.set()
            with self._lock:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].done.set()  # wake it: it leads the next batch
                else:
                    self._writing = False

    @property
    def engine(self) -> Engine:
        """The database this committer writes to."""
        return self._engine()

    def _write(self, batch: list[Pending]) -> None:
        self.transactions += 1
        write_batch(self.engine, batch)


def write_batch(engine: Engine, batch: "list[Outcome]") -> None:
    """Write a batch in one transaction and set each item's outcome (recorded or not, committed_at);
    when the database refuses the batch for what could be one row's fault, retry row by row so a bad
    row fails alone (its error set on it). Raises when the database itself is unavailable."""
    first: dict[str, Outcome] = {}
    for item in batch:  # the same webhook id twice in one batch: the later ones are duplicates
        first.setdefault(item.row["webhook_id"], item)
    try:
        inserted = insert_new(engine, [item.row for item in first.values()])
    except (IntegrityError, DataError):
        _write_one_by_one(engine, batch, first)
        return
    committed_at = time.monotonic()
    for item in batch:
        item.committed_at = committed_at
        item.recorded = first[item.row["webhook_id"]] is item and item.row["webhook_id"] in inserted


def _write_one_by_one(engine: Engine, batch: "list[Outcome]", first: "dict[str, Outcome]") -> None:
    """The batch was refused: isolate the bad row(s) with one transaction per row."""
    for item in first.values():
        try:
            item.recorded = bool(insert_new(engine, [item.row]))
            item.committed_at = time.monotonic()
        except SQLAlchemyError as exc:
            item.error = exc
    for item in batch:
        if first[item.row["webhook_id"]] is not item:
            leader = first[item.row["webhook_id"]]
            item.recorded, item.error = False, leader.error


COLUMNS = ("webhook_id", "shop_domain", "topic", "body", "received_at")
"""What a webhook fills: the inbox row's columns (the others have defaults) and its body (webhook_bodies)."""
ROW_COLUMNS = tuple(name for name in COLUMNS if name != "body")


def insert_new(engine: Engine, rows: list[dict]) -> set[str]:
    """Insert the rows, each with its body (webhook_bodies), in one transaction, skipping webhook ids
    already stored, and return the ids actually inserted. The rows' webhook ids are distinct (write_batch
    keeps the first of each): a body is matched to its new row by webhook id.

    This is the busiest write of the app, so it goes straight to the driver: SQLAlchemy's statement
    building and result handling cost three times the INSERT itself. The values still pass through the
    columns' own SQLAlchemy type processors (the stored form of a datetime is SQLAlchemy's), and driver
    errors come out as the SQLAlchemy exceptions every caller handles (IntegrityError, OperationalError...).

    PostgreSQL: one statement, the same whatever the batch's size (a data-modifying CTE: the rows from
    unnest(arrays) `INSERT ... ON CONFLICT (webhook_id) DO NOTHING RETURNING id, webhook_id`, the bodies of
    those returned inserted beside them; the five columns' values sent as five binary arrays), prepared once
    per connection, and run in autocommit: a single statement is its own transaction, committed (WAL
    flushed) when it returns, so a batch costs one round trip instead of three (BEGIN, INSERT, COMMIT), and
    neither side builds or parses a statement per batch size. SQLite: under the write lock, one SELECT of the
    ids already there, one INSERT of the other rows and one of their bodies (joined to their new rows by
    webhook id); RETURNING would step (and let go of the GIL, to 16 waiting request threads) once per row."""
    dialect = engine.dialect
    sqlite = dialect.name == "sqlite"
    try:
        connection = engine.raw_connection()
    except dialect.loaded_dbapi.Error as exc:  # no connection at all: the database is away
        raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    cursor = statement = params = None
    try:
        cursor = connection.cursor()
        if not sqlite:
            connection.driver_connection.autocommit = True  # set back before the pool gets it (finally)
            statement, params = _UNNEST_INSERT, _columns(dialect, rows)
            cursor.execute(statement, params, prepare=True)
            return {found[0] for found in cursor.fetchall()}
        cursor.execute("BEGIN IMMEDIATE")  # SQLite: the write lock from here: nobody inserts between the two
        ids = [row["webhook_id"] for row in rows]
        cursor.execute(_sql(placeholder(dialect), "existing", len(ids)), ids)
        existing = {found[0] for found in cursor.fetchall()}
        rows = [row for row in rows if row["webhook_id"] not in existing]
        if rows:
            values = _params(dialect, rows)
            statement, params = _sql(placeholder(dialect), "insert", len(rows)), _without_bodies(values)
            cursor.execute(statement, params)
            statement, params = _sql(placeholder(dialect), "bodies", len(rows)), _ids_and_bodies(values)
            cursor.execute(statement, params)
        inserted = {row["webhook_id"] for row in rows}
        connection.commit()
        return inserted
    except dialect.loaded_dbapi.Error as exc:
        if dialect.is_disconnect(exc, connection, cursor):
            connection.invalidate(exc)  # a connection the server dropped is not given back to the pool
        raise DBAPIError.instance(statement, params, exc, dialect.loaded_dbapi.Error,
                                  connection_invalidated=not connection.is_valid, dialect=dialect) from exc
    finally:
        if cursor is not None and connection.is_valid:
            cursor.close()
            if not sqlite:
                connection.driver_connection.autocommit = False  # as every other user of the pool expects
        connection.close()  # back to the pool, rolled back if not committed


@functools.lru_cache(maxsize=256)
def _sql(marker: str, kind: str, count: int) -> str:
    """SQLite's statement for `count` rows (or ids, or bodies), with the driver's parameter `marker`."""
    if kind == "existing":
        return f"SELECT webhook_id FROM webhook_inbox WHERE webhook_id IN ({', '.join([marker] * count)})"
    if kind == "bodies":  # each body to the row just inserted for its webhook id (its UNIQUE index)
        return ("INSERT INTO webhook_bodies (inbox_id, body) SELECT webhook_inbox.id, given.column2 "
                f"FROM (VALUES {', '.join([f'({marker}, {marker})'] * count)}) AS given "
                "JOIN webhook_inbox ON webhook_inbox.webhook_id = given.column1")
    values = "(" + ", ".join([marker] * len(ROW_COLUMNS)) + ")"
    return (f"INSERT INTO webhook_inbox ({', '.join(ROW_COLUMNS)}) VALUES {', '.join([values] * count)} "
            "ON CONFLICT (webhook_id) DO NOTHING")


_UNNEST_INSERT = (
    "WITH given AS (SELECT * FROM unnest("
    "%b::varchar[], %b::varchar[], %b::varchar[], %b::bytea[], %b::timestamptz[]) "
    f"WITH ORDINALITY AS given ({', '.join(COLUMNS)}, n)), "
    f"new AS (INSERT INTO webhook_inbox ({', '.join(ROW_COLUMNS)}) SELECT {', '.join(ROW_COLUMNS)} FROM given "
    "ORDER BY n ON CONFLICT (webhook_id) DO NOTHING RETURNING id, webhook_id), "
    "bodies AS (INSERT INTO webhook_bodies (inbox_id, body) "
    "SELECT new.id, given.body FROM new JOIN given USING (webhook_id)) "
    "SELECT webhook_id FROM new")
"""PostgreSQL's insert of any number of rows and their bodies: one array per column of COLUMNS, in binary
(a body goes as its bytes, not escaped); rows are inserted in the arrays' order. A body goes in only
beside a row inserted (a webhook id already stored inserts neither), both in the one statement."""


def _columns(dialect, rows: list[dict]) -> list[list]:
    """The rows' values as one list per column of COLUMNS, through the columns' bind processors."""
    values = _params(dialect, rows)
    width = len(COLUMNS)
    return [values[i::width] for i in range(width)]


_WEBHOOK_ID, _BODY = COLUMNS.index("webhook_id"), COLUMNS.index("body")


def _without_bodies(values: list) -> list:
    """The flat values of COLUMNS, rows' columns only (ROW_COLUMNS)."""
    width = len(COLUMNS)
    return [value for i, value in enumerate(values) if i % width != _BODY]


def _ids_and_bodies(values: list) -> list:
    """The flat values of COLUMNS, as (webhook id, body) pairs, flat."""
    width = len(COLUMNS)
    return [value for start in range(0, len(values), width)
            for value in (values[start + _WEBHOOK_ID], values[start + _BODY])]


def _params(dialect, rows: list[dict]) -> list:
    """The rows' values in one flat list, through the columns' bind processors. Not db.rows: that one
    caches each distinct value converted (right for an import's recurring times and amounts), which for
    webhook bodies would keep thousands of them in the web process."""
    processors = _PROCESSORS.get(dialect)
    if processors is None:
        processors = _PROCESSORS[dialect] = tuple(
            _column(name).type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS)
    return [processor(row[name]) if processor else row[name]
            for row in rows for name, processor in zip(COLUMNS, processors)]


def _column(name: str):
    """The table column a value of COLUMNS is stored in."""
    return webhook_bodies.c.body if name == "body" else webhook_inbox.c[name]


_PROCESSORS: "weakref.WeakKeyDictionary[object, tuple]" = weakref.WeakKeyDictionary()


_COMMITTERS: "weakref.WeakKeyDictionary[Engine, GroupCommitter]" = weakref.WeakKeyDictionary()
_COMMITTERS_LOCK = threading.Lock()


def committer_for(engine: Engine) -> GroupCommitter:
    """The process's committer for this engine (one per database)."""
    found = _COMMITTERS.get(engine)
    if found is not None:  # every webhook asks: no lock once the committer exists
        return found
    with _COMMITTERS_LOCK:
        found = _COMMITTERS.get(engine)
        if found is None:
            found = _COMMITTERS[engine] = GroupCommitter(engine)
        return found
