"""`one_at_a_time`: at most one holder of a key across every process, without waiting for it.

For work that holds a request while it calls out (a redemption waiting on Shopify): the first request
takes the key, the others are told at once that it is taken, instead of each holding a worker for as long
as the call lasts. A short-lived Redis lock (redis-py's Lock: SET NX PX with a random token; released by a
script only by its owner, so a holder that outlived its expiry cannot release the next one's lock). When
Redis is unreachable, a lock of this process stands in: still one holder per key in each web process.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator

from redis import Redis
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

_HELD_HERE: set[str] = set()
"""Keys held in this process while Redis is unreachable."""
_HELD_HERE_GUARD = threading.Lock()


@contextmanager
def one_at_a_time(redis: Redis, key: str, seconds: float) -> Iterator[bool]:
    """Yields True when this caller holds `key` (until the block ends, or `seconds` at most), False when
    another one does: the caller then answers without doing the work."""
    lock = redis.lock(key, timeout=seconds, blocking=False)
    try:
        held = lock.acquire()
    except RedisError as exc:
        log.warning("Redis unreachable for lock %s (%s): this process's lock stands in", key, type(exc).__name__)
        lock = None
        with _HELD_HERE_GUARD:
            held = key not in _HELD_HERE
            _HELD_HERE.add(key)
    try:
        yield held
    finally:
        if held and lock is None:
            with _HELD_HERE_GUARD:
                _HELD_HERE.discard(key)
        elif held:
            try:
                lock.release()
            except (LockError, RedisError) as exc:  # expired on its own, or Redis went away: it expires
                log.warning("lock %s not released: %s", key, exc)
