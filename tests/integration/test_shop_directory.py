"""The web's cache of installed shops (webhooks.inbox.ShopDirectory): when it expires under load, one
request re-reads the shops while the others answer from the cache as it stands, and a change made in this
process during that read is never hidden by it."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from sqlalchemy import event

from loyalty.services.privacy import uninstall_shop
from tests.conftest import SHOP
from webhooks.inbox import ShopDirectory


class HeldReads:
    """Counts the reads of the shops table, and holds each one until `release()` (the first is
    announced by `started`)."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0
        self.started, self.released = threading.Event(), threading.Event()
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if "FROM shops" in statement:
            self.count += 1
            self.started.set()
            assert self.released.wait(30), "the read was never released"

    def release(self):
        self.released.set()

    def close(self):
        self.release()
        event.remove(self.engine, "before_cursor_execute", self._before)


def in_thread(function, *args):
    """Run `function(*args)` in a thread; returns the thread and a list receiving its result."""
    result = []
    thread = threading.Thread(target=lambda: result.append(function(*args)))
    thread.start()
    return thread, result


def expired(directory, ctx):
    """A directory that has read the shops once, and whose cache has since expired."""
    assert directory.lookup(ctx, SHOP)[0] == "installed"
    directory._loaded_at -= 3600
    return directory


def test_an_expired_cache_is_read_again_by_one_request_while_the_others_answer(ctx, shop):
    """Ten requests for an installed shop arriving while one re-reads the shops answer at once from the
    cache, without a read of their own; a request for a domain not in the cache waits for that read."""
    directory = expired(ShopDirectory(), ctx)
    reads = HeldReads(ctx.engine)
    try:
        reader, first = in_thread(directory.lookup, ctx, SHOP)
        assert reads.started.wait(30)
        others = [in_thread(directory.lookup, ctx, SHOP) for _ in range(10)]
        for thread, _ in others:
            thread.join(30)
        assert [result for _, result in others] == [[("installed", None)]] * 10
        assert reads.count == 1 and reader.is_alive()  # still reading, and nobody else read
        unknown, answer = in_thread(directory.lookup, ctx, "other.myshopify.com")
        reads.release()
        reader.join(30)
        unknown.join(30)
        assert first == [("installed", None)] and answer == [("unknown", None)]
        assert reads.count == 1  # the unknown domain was answered by the read it waited for
    finally:
        reads.close()


def test_a_read_overtaken_by_a_change_in_this_process_does_not_count_as_fresh(ctx, shop):
    """The shop is uninstalled (and the directory told) while a read that began before is under way: the
    next request reads again and sees it uninstalled, rather than trusting that read for the cache's life."""
    directory = expired(ShopDirectory(), ctx)
    reads = HeldReads(ctx.engine)
    try:
        reader, first = in_thread(directory.lookup, ctx, SHOP)
        assert reads.started.wait(30)
        with ctx.engine.begin() as conn:
            uninstall_shop(conn, SHOP, datetime(2025, 1, 1, tzinfo=timezone.utc))
        directory.forget()
        reads.release()
        reader.join(30)
        assert directory.lookup(ctx, SHOP)[0] == "uninstalled"
        assert reads.count == 2
    finally:
        reads.close()


def test_a_failed_read_is_retried_by_the_next_request(ctx, shop):
    """When the read fails, the cache stays expired: the next request reads again."""
    directory = expired(ShopDirectory(), ctx)
    reads = HeldReads(ctx.engine)
    reads.release()

    def refuse(conn, cursor, statement, *args):
        if "FROM shops" in statement:
            raise RuntimeError("the database is away")

    event.listen(ctx.engine, "before_cursor_execute", refuse)
    try:
        try:
            directory.lookup(ctx, SHOP)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the failed read was not reported")
    finally:
        event.remove(ctx.engine, "before_cursor_execute", refuse)
    assert directory.lookup(ctx, SHOP)[0] == "installed"
    assert reads.count == 2
    reads.close()
