"""The unit of work a use case runs in: one database transaction, one clock, one outbox.

    with uow:                       # engine.begin(): commits on a clean exit, rolls back on an exception
        ...uow.conn...              # the transaction's connection
        uow.after_commit(wake_sync, uow.ctx)   # run only if (and once) this transaction committed
    uow.now                         # the instant the use case stands for (the injected clock, read once)

A use case may open several transactions in one unit (a redemption reserves points, asks Shopify outside
any transaction, then records the answer): each `with uow:` is one transaction with its own outbox. The
read-only variant (`ReadOnlyUnitOfWork`) reads through db.engine.reading, so on SQLite it never takes the
write lock, and has no outbox. Entrypoints build one from the process Context and their clock
(`UnitOfWork(ctx, clock=...)`) and hand it to the use case; tests inject a fixed clock.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy.engine import Connection

from db.engine import reading
from loyalty.services.context import Context

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The real clock, in UTC: the default of every unit of work."""
    return datetime.now(timezone.utc)


class UnitOfWork:
    """A use case's transaction (`with uow:`), clock (`uow.now`) and after-commit outbox."""

    def __init__(self, ctx: Context, clock: Callable[[], datetime] = utc_now) -> None:
        self.ctx = ctx
        self.now: datetime = clock()
        """The use case's instant: read once, so every row it writes carries the same time."""
        self._conn: Connection | None = None
        self._transaction = None
        self._outbox: list[tuple[Callable, tuple, dict]] = []

    @property
    def config(self):
        """The process settings (loyalty.config.Config)."""
        return self.ctx.config

    @property
    def redis(self):
        """The process's Redis (locks, wake-up flags)."""
        return self.ctx.redis

    @property
    def conn(self) -> Connection:
        """The open transaction's connection; only inside `with uow:`."""
        if self._conn is None:
            raise RuntimeError("the unit of work has no open transaction: use it inside `with uow:`")
        return self._conn

    def after_commit(self, action: Callable, *args, **kwargs) -> None:
        """Do `action(*args, **kwargs)` once the open transaction has committed, never if it rolls back
        (waking a worker for a row that was never written would be wasted, or wrong)."""
        self.conn  # noqa: B018 - only inside a transaction: an action queued outside would never run
        self._outbox.append((action, args, kwargs))

    def __enter__(self) -> UnitOfWork:
        if self._conn is not None:
            raise RuntimeError("the unit of work already has an open transaction (one at a time)")
        self._conn, self._transaction = self._open()
        return self

    def _open(self):
        """A connection and its transaction: BEGIN IMMEDIATE on SQLite (db.engine), so writers never deadlock."""
        conn = self.ctx.engine.connect()
        return conn, conn.begin()

    def __exit__(self, exc_type, exc, tb) -> None:
        conn, transaction, outbox = self._conn, self._transaction, self._outbox
        self._conn, self._transaction, self._outbox = None, None, []
        try:
            if exc_type is None:
                transaction.commit()
            else:
                transaction.rollback()
        finally:
            conn.close()
        if exc_type is None:
            _run(outbox)


def _run(outbox: list[tuple[Callable, tuple, dict]]) -> None:
    """The committed transaction's actions, in order. They are best-effort by nature (a lost wake-up is
    picked up by the scheduler): one failing is logged and does not stop the others or undo the commit."""
    for action, args, kwargs in outbox:
        try:
            action(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the transaction is committed: the use case succeeded
            log.warning("after-commit action %s failed", getattr(action, "__name__", action), exc_info=True)


class ReadOnlyUnitOfWork(UnitOfWork):
    """A unit of work for queries: a read-only connection (no write lock on SQLite), nothing to commit."""

    def _open(self):
        conn = reading(self.ctx.engine)
        return conn, conn.begin()

    def after_commit(self, action: Callable, *args, **kwargs) -> None:
        """A query commits nothing, so it has nothing to do after a commit."""
        raise RuntimeError("a read-only unit of work has no outbox")
