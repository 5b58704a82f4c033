"""Request bodies are read with an overall deadline, so a client that sends its headers and then dribbles
its body cannot hold the web process's resources for longer than LOYALTY_BODY_TIMEOUT.

`BodyDeadline` is the outermost WSGI layer: it reads the whole body (at most the webhook size limit; a
larger declared length is left to the app, which refuses it unread) before the app runs. A per-read
socket timeout does not bound a client that sends one byte just inside every timeout, so a watchdog
(one thread per process, sleeping until the earliest deadline) shuts the socket's reading side down when
a deadline passes: the blocked read returns at once, the client gets 408, and the connection closes.

This bounds what one slow client holds; it does not make a thread-per-connection server safe against
more slow clients than threads (each would still hold a thread for the whole deadline). That is why the
web runs gunicorn's gevent worker (the Procfile): a slow client holds a greenlet and a socket, not a
thread, and webhooks are served beside it.
"""
from __future__ import annotations

import heapq
import io
import itertools
import logging
import os
import socket
import threading
import time

log = logging.getLogger(__name__)


class _Alarm:
    """One request's deadline: `fire` shuts the socket's reading side unless the read finished first."""

    __slots__ = ("sock", "lock", "done", "expired")

    def __init__(self, sock):
        self.sock, self.lock, self.done, self.expired = sock, threading.Lock(), False, False

    def fire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            try:
                self.sock.shutdown(socket.SHUT_RD)  # a blocked recv() returns b"" at once
            except OSError:
                pass

    def disarm(self) -> bool:
        """Stop the alarm; True when it had already fired."""
        with self.lock:
            self.done = True
            return self.expired


class _Watchdog:
    """Fires the alarms of this process at their deadlines, from one daemon thread (started lazily, and
    again in a forked child, which does not inherit the parent's threads).

    Arming costs no wake-up of that thread while it is asleep until a moment before the new deadline: a
    busy process arms one alarm per request, and a thread switch each time would cost more than the rest
    of reading the body. So after firing or finding nothing to do, the thread sleeps at most IDLE_SECONDS
    (and only when two such wakes in a row found no alarm at all, until the next arming wakes it)."""

    IDLE_SECONDS = 1.0
    """How long the thread sleeps with no alarm waiting: an alarm armed for longer needs no wake-up."""

    def __init__(self):
        self.cond = threading.Condition()
        self.heap: list = []
        self.order = itertools.count()
        self.pid = None
        self.wake_at = 0.0
        """When the thread will look at the heap next (inf: not until notified)."""

    def arm(self, sock, seconds: float) -> _Alarm:
        alarm = _Alarm(sock)
        with self.cond:
            if self.pid != os.getpid():
                self.pid, self.heap, self.wake_at = os.getpid(), [], float("inf")
                threading.Thread(target=self._run, name="body-deadline", daemon=True).start()
            while self.heap and self.heap[0][2].done:  # reads finish in order, mostly: keep the heap short
                heapq.heappop(self.heap)
            deadline = time.monotonic() + seconds
            heapq.heappush(self.heap, (deadline, next(self.order), alarm))
            if deadline < self.wake_at:  # the thread would wake too late for this one: wake it now
                self.wake_at = deadline
                self.cond.notify()
        return alarm

    def _run(self) -> None:
        idle = False
        with self.cond:
            while True:
                while self.heap and self.heap[0][2].done:  # finished reads: nothing to fire
                    heapq.heappop(self.heap)
                now = time.monotonic()
                if self.heap and self.heap[0][0] <= now:
                    heapq.heappop(self.heap)[2].fire()
                    continue
                if self.heap:
                    idle, wait = False, min(self.heap[0][0] - now, self.IDLE_SECONDS)
                elif not idle:  # nothing waiting: look again shortly (arming meanwhile needs no wake-up)
                    idle, wait = True, self.IDLE_SECONDS
                else:  # still nothing: sleep until an alarm is armed
                    wait = None
                self.wake_at = now + wait if wait is not None else float("inf")
                self.cond.wait(wait)


_watchdog = _Watchdog()

TIMEOUT_RESPONSE = b"request body not received in time\n"


class BodyDeadline:
    """WSGI middleware: the request body, read within `seconds` (408 and the connection closed if not),
    handed to the app from memory."""

    def __init__(self, app, seconds: float, limit: int):
        """`limit`: the largest body read (the webhook limit, also Flask's MAX_CONTENT_LENGTH); a larger
        declared body reaches the app unread, and the app answers 413 by its length."""
        self.app, self.seconds, self.limit = app, seconds, limit

    def __call__(self, environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        sock = environ.get("gunicorn.socket")
        if length <= 0 and not chunked:
            return self.app(environ, start_response)
        if length > self.limit:  # the app refuses it (413) by its declared length, before reading it
            environ["wsgi.input"] = io.BytesIO(b"")
            if sock is not None:  # and gunicorn must not drain it slowly afterwards
                _shut_reading(sock)
            return self.app(environ, start_response)
        alarm = _watchdog.arm(sock, self.seconds) if sock is not None else None
        body, failed = b"", None
        try:
            body = _read(environ["wsgi.input"], length or self.limit + 1)
        except Exception as exc:  # noqa: BLE001 - the server's reader raises its own types on a cut socket
            failed = exc
        expired = alarm.disarm() if alarm is not None else False
        if len(body) > self.limit and sock is not None:  # a chunked body over the limit: refused, not drained
            _shut_reading(sock)
        if expired or (failed is None and length and len(body) < length):
            log.warning("%s %s: body not received within %.0f s (%d of %s bytes): 408",
                        environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), self.seconds, len(body),
                        length or "chunked")
            if sock is not None:
                _shut_reading(sock)
            # The reading side is shut: the server finds no next request there and closes the connection.
            start_response("408 Request Timeout", [("Content-Type", "text/plain"),
                                                   ("Content-Length", str(len(TIMEOUT_RESPONSE)))])
            return [TIMEOUT_RESPONSE]
        if failed is not None:
            raise failed
        environ["wsgi.input"] = io.BytesIO(body)
        if chunked:  # the app now sees a body of known length
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _read(stream, size: int) -> bytes:
    """Up to `size` bytes of the body (all of a body of known length)."""
    parts, left = [], size
    while left > 0:
        part = stream.read(min(left, 64 * 1024))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _shut_reading(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
