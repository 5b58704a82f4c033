"""Waiting for the web's deferred wake-ups in tests.

A web process asks Redis for a worker at most once per WAKE_INTERVAL_SECONDS; webhooks committed in between
are covered by one wake-up a `threading.Timer` sends at the end of the interval (loyalty.services.wakeups._Waker). A
test that sends webhooks and then empties the queue (or Redis) must let those timers run first, or a late
wake-up queues a job after the emptying: test_worker_crash's continuation test failed once in two
fresh-clone runs that way (two processing jobs where one was expected).
"""
from __future__ import annotations

import threading

from loyalty.services.wakeups import _Waker


def settle_wakeups(timeout: float = 10.0) -> None:
    """Join every deferred wake-up timer of this process: once it returns, each has asked Redis."""
    for thread in threading.enumerate():
        function = getattr(thread, "function", None)
        if isinstance(thread, threading.Timer) and getattr(function, "__func__", None) is _Waker._scheduled_wake:
            thread.join(timeout)
            assert not thread.is_alive(), "a deferred wake-up did not run"
