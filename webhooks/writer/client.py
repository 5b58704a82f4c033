"""The web side of the inbox writer: hand a delivery to the writer process and wait for its answer.

The writer is an optimisation, never a dependency: when its socket is missing, refuses, breaks or does not
answer within ANSWER_SECONDS, `deliver` returns None and the web process decides and writes the row itself
(webhooks.views.receive_here); a webhook the writer did commit before breaking is then recognised as a
duplicate. The composition root (runtime.web) imports this module only when LOYALTY_INBOX_SOCKET is set.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from typing import Callable

from webhooks.intake import Answer, Delivery
from webhooks.writer.protocol import decode_answers, encode_delivery

log = logging.getLogger(__name__)

ANSWER_SECONDS = 3.0
"""A request waits this long for the writer's answer, then decides and writes the row itself."""


class WriterClient:
    """A web process's way to the writer: one connection, pipelined. Each request queues its frame and
    waits; the frames queued together go out in one write, and one reader (a thread, a greenlet under
    gevent) hands each answer to its request in order (the writer answers a connection's frames in the
    order they came). So a burst of webhooks costs the web process a write and a read, not two system
    calls and a wake-up each.

    Under gevent the write is left to a greenlet that runs once the requests ready at the same moment have
    all queued theirs; under threads the request writes at once, taking along what others queued."""

    def __init__(self, path: str):
        self.path = path
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._pipe: _Pipe | None = None
        self._warned_at = 0.0

    def deliver(self, delivery: Delivery) -> Answer | None:
        """The writer's answer for this delivery (recorded, duplicate, refused...), or None when the writer
        could not be reached (the caller decides and writes the row itself)."""
        frame = encode_delivery(delivery)
        if frame is None:  # a header longer than any Shopify sends: decided here, the pipe left alone
            return None
        for _ in (1, 2):  # a connection the writer closed since (it restarted): dial once more
            pipe = self._connected()
            if pipe is None:
                return None
            waiter = pipe.send(frame)
            if not waiter.event.wait(ANSWER_SECONDS):
                pipe.close(TimeoutError("no answer in time"))  # stuck: the requests on it write themselves
                self._unavailable(TimeoutError(f"no answer within {ANSWER_SECONDS} s"))
                return None
            if waiter.answer is not _LOST:
                return waiter.answer
            if pipe.timed_out:
                return None
        self._unavailable(ConnectionError("closed without answering"))
        return None

    def _connected(self) -> "_Pipe | None":
        pipe = self._pipe
        if pipe is not None and not pipe.closed:
            return pipe
        with self._lock:
            if self._pipe is None or self._pipe.closed:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(self.path)
                except OSError as exc:
                    sock.close()
                    self._unavailable(exc)
                    return None
                self._pipe = _Pipe(sock)
            return self._pipe

    def _unavailable(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:  # once a minute, not once a webhook
            self._warned_at = now
            log.warning("inbox writer at %s unavailable (%s); this process writes its webhooks itself",
                        self.path, exc)


_LOST = object()
"""The answer of a frame whose connection closed before the writer answered it."""


class _Waiter:
    __slots__ = ("event", "answer")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.answer: object = _LOST


class _Pipe:
    """One connection to the writer: frames queued and written in bursts, answers read by one reader."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.closed = self.timed_out = False
        self._lock = threading.Lock()  # the queues; and, held while writing, the order of the frames
        self._outgoing: list[bytes] = []
        self._waiting: "deque[_Waiter]" = deque()
        self._flushing = False
        self._gevent = _gevent_hub()
        reader = threading.Thread(target=self._read, name="inbox-writer-answers", daemon=True)
        reader.start()

    def send(self, frame: bytes) -> _Waiter:
        """Queue a frame; the waiter's event is set once its answer (or the connection's end) came."""
        waiter = _Waiter()
        with self._lock:
            if self.closed:
                waiter.event.set()
                return waiter
            self._waiting.append(waiter)
            self._outgoing.append(frame)
            if self._flushing:
                return waiter  # the burst being written, or about to be, takes this frame along
            self._flushing = True
        if self._gevent is not None:
            self._gevent.loop.run_callback(self._flush_from_the_hub)
        else:
            self._flush()
        return waiter

    def _flush(self, rest: bytes = b"") -> None:
        """Write what is queued (after `rest`, the end of a burst the hub could not write at once)."""
        while True:
            with self._lock:
                burst, self._outgoing = self._outgoing, []
                if not (burst or rest) or self.closed:
                    self._flushing = False
                    return
            try:
                self.sock.sendall(rest + b"".join(burst))
            except OSError as exc:
                self.close(exc)
            rest = b""

    def _flush_from_the_hub(self) -> None:
        """gevent: run by the hub once the requests ready at the same moment have queued their frames; it
        may not wait, so it writes what the socket takes now and leaves the rest to a greenlet."""
        with self._lock:
            burst, self._outgoing = self._outgoing, []
            if self.closed:
                self._flushing = False
                return
        data = b"".join(burst)
        try:
            sent = self.sock._sock.send(data)  # gevent's socket over a non-blocking one: never waits
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self.close(exc)
            return
        if sent == len(data):
            with self._lock:  # (nothing else ran meanwhile: the hub does not switch within a callback)
                self._flushing = False
            return
        self._gevent.spawn(self._flush, data[sent:])  # a greenlet may wait until the socket takes the rest

    def _read(self) -> None:
        buffer = bytearray()
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                for answer in decode_answers(buffer):
                    with self._lock:
                        waiter = self._waiting.popleft() if self._waiting else None
                    if waiter is not None:
                        waiter.answer = answer
                        waiter.event.set()
        except OSError:
            pass
        self.close(ConnectionError("closed by the writer"))

    def close(self, reason: BaseException) -> None:
        """End the connection: every request still waiting on it hears that it was lost."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self.timed_out = isinstance(reason, TimeoutError)
            waiting, self._waiting = self._waiting, deque()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for waiter in waiting:
            waiter.event.set()


class _GeventHub:
    """What a pipe needs of gevent: its loop, to write from the hub, and spawn."""

    def __init__(self, loop, spawn):
        self.loop, self.spawn = loop, spawn


def _gevent_hub() -> "_GeventHub | None":
    """gevent's hub when this process runs on gevent (gunicorn's gevent worker patches sockets), so a
    burst is written after every request ready at the same moment has queued its frame; else None."""
    try:
        from gevent import get_hub, monkey, spawn
    except ImportError:
        return None
    return _GeventHub(get_hub().loop, spawn) if monkey.is_module_patched("socket") else None


_CLIENTS: dict[str, WriterClient] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(path: str) -> WriterClient:
    """The process's client for the writer at `path`."""
    found = _CLIENTS.get(path)
    if found is None or found.pid != os.getpid():  # made before a fork: its connection is the parent's
        with _CLIENTS_LOCK:
            found = _CLIENTS.get(path)
            if found is None or found.pid != os.getpid():
                found = _CLIENTS[path] = WriterClient(path)
    return found


def deliverer(path: str) -> Callable[[Delivery], Answer | None]:
    """What the web calls to hand a delivery to the writer at `path`: its answer, or None when the writer
    could not be reached. Each process (after gunicorn's fork) gets its own connection."""
    def deliver(delivery: Delivery) -> Answer | None:
        return client_for(path).deliver(delivery)
    return deliver
