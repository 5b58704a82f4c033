"""The body deadline's watchdog (runtime.body_deadline): every alarm fires at its deadline, while arming
one per request does not wake the watchdog's thread each time."""
from __future__ import annotations

import socket
import time

import pytest

from runtime.body_deadline import _Watchdog


@pytest.fixture
def watchdog():
    """A watchdog of its own, counting how often arming woke its thread."""
    dog = _Watchdog()
    dog.wakeups = 0
    notify = dog.cond.notify

    def counting_notify(n=1):
        dog.wakeups += 1
        notify(n)

    dog.cond.notify = counting_notify
    return dog


@pytest.fixture
def sockets():
    pairs = []

    def make():
        pairs.append(socket.socketpair())
        return pairs[-1][0]

    yield make
    for a, b in pairs:
        a.close()
        b.close()


def fired(sock, within: float = 30.0) -> bool:
    """True once the alarm has shut the socket's reading side (a read returns at once, empty)."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never came true"
        time.sleep(0.01)


def test_an_earlier_deadline_wakes_the_sleeping_watchdog(watchdog, sockets):
    """The thread sleeps towards a far deadline (with a long idle horizon); an alarm due sooner wakes it
    and fires on time, the far one does not fire."""
    watchdog.IDLE_SECONDS = 600.0
    far, near = sockets(), sockets()
    far_alarm = watchdog.arm(far, 300.0)
    near_alarm = watchdog.arm(near, 0.2)
    assert fired(near)
    assert near_alarm.disarm() is True and far_alarm.disarm() is False


def test_alarms_due_after_the_next_wake_do_not_wake_the_thread(watchdog, sockets):
    """A hundred requests, each arming a 30 s alarm and reading its body before the next arrives (the
    heap empty at each arming), then a hundred in flight together: one wake-up of the thread in all."""
    sock = sockets()
    for _ in range(100):
        assert watchdog.arm(sock, 30.0).disarm() is False
    alarms = [watchdog.arm(sockets(), 30.0) for _ in range(100)]
    assert watchdog.wakeups == 1
    assert not any(alarm.disarm() for alarm in alarms)


def test_an_idle_watchdog_still_fires_the_next_alarm(watchdog, sockets):
    """After its idle wakes found nothing, the thread sleeps until armed: the next alarm wakes it and
    fires at its deadline."""
    watchdog.IDLE_SECONDS = 0.05
    watchdog.arm(sockets(), 30.0).disarm()
    wait_until(lambda: watchdog.wake_at == float("inf"))
    sock = sockets()
    alarm = watchdog.arm(sock, 0.2)
    assert fired(sock)
    assert alarm.disarm() is True
