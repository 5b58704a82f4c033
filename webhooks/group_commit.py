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
"""
from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from db.tables import webhook_inbox

MAX_BATCH = 256
"""Rows per transaction at most; a web process rarely has more requests in flight than threads."""
FOLLOWER_WAIT_SECONDS = 5.0
"""A request whose batch has not been written after this long gives up (answered 503, so Shopify retries;
if the row does land meanwhile, the retry is recognised as a duplicate)."""


class CommitTimeout(SQLAlchemyError):
    """The batch holding this row was not written in time."""


@dataclass(eq=False)
class _Pending:
    row: dict
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    recorded: bool | None = None
    committed_at: float = 0.0
    error: BaseException | None = None


class GroupCommitter:
    """Inserts inbox rows for the threads of one process, many per transaction."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH):
        self._engine, self.max_batch = weakref.ref(engine), max_batch  # weak: engines come and go in tests
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._writing = False
        self.transactions = 0
        """Batches written (committed or failed), for tests and the benchmark."""

    def record(self, row: dict) -> float | None:
        """Insert one inbox row and return once it is committed, with the monotonic time of that commit;
        None when its webhook id was already recorded. Raises the SQLAlchemyError that kept it from being
        committed."""
        me = _Pending(row)
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

    def _write(self, batch: list[_Pending]) -> None:
        self.transactions += 1
        first: dict[str, _Pending] = {}
        for item in batch:  # the same webhook id twice in one batch: the later ones are duplicates
            first.setdefault(item.row["webhook_id"], item)
        try:
            with self.engine.begin() as conn:
                inserted = set(conn.execute(_insert_new(conn.dialect.name),
                                            [item.row for item in first.values()]).scalars())
        except (IntegrityError, DataError):
            self._write_one_by_one(batch, first)
            return
        committed_at = time.monotonic()
        for item in batch:
            item.committed_at = committed_at
            item.recorded = first[item.row["webhook_id"]] is item and item.row["webhook_id"] in inserted

    def _write_one_by_one(self, batch: list[_Pending], first: dict[str, _Pending]) -> None:
        """The batch was refused: isolate the bad row(s) with one transaction per row."""
        for item in first.values():
            try:
                with self.engine.begin() as conn:
                    item.recorded = conn.execute(_insert_new(conn.dialect.name), [item.row]).first() is not None
                item.committed_at = time.monotonic()
            except SQLAlchemyError as exc:
                item.error = exc
        for item in batch:
            if first[item.row["webhook_id"]] is not item:
                leader = first[item.row["webhook_id"]]
                item.recorded, item.error = False, leader.error


def _insert_new(dialect: str):
    """INSERT ... ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id: the ids actually inserted."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the app supports these two
        dialect_insert = insert
    return (dialect_insert(webhook_inbox).on_conflict_do_nothing(index_elements=[webhook_inbox.c.webhook_id])
            .returning(webhook_inbox.c.webhook_id))


_COMMITTERS: "weakref.WeakKeyDictionary[Engine, GroupCommitter]" = weakref.WeakKeyDictionary()
_COMMITTERS_LOCK = threading.Lock()


def committer_for(engine: Engine) -> GroupCommitter:
    """The process's committer for this engine (one per database)."""
    with _COMMITTERS_LOCK:
        found = _COMMITTERS.get(engine)
        if found is None:
            found = _COMMITTERS[engine] = GroupCommitter(engine)
        return found
