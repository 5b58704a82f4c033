"""The inbox writer: on SQLite, one process checks and commits the webhooks of every web process.

SQLite has one writer at a time, and a web process that commits its own webhooks pays for it twice: the
INSERT and fsync, and the thread switches around every call that lets go of Python's GIL. So on SQLite
`make run` starts this small process beside gunicorn (`python -m webhooks.inbox_writer`, socket
LOYALTY_INBOX_SOCKET, under var/ by default). The web process only does the HTTP: it reads the delivery
and hands it over (signature header, webhook id, shop, topic, body); the writer makes the decision of
webhooks.intake (signature, headers, topic, JSON, shop), commits everything that arrived together in one
transaction (webhooks.group_commit.write_batch, the same code the in-process group commit uses), answers
each delivery with its HTTP status and outcome, and wakes a worker. The web's HTTP work and the writer's
checking and committing run on two cores.

A webhook is answered 200 only after the writer's commit, as before. The writer is an optimisation, never
a dependency: when its socket is missing, refuses or breaks, the web process decides and writes itself
(webhooks.views.receive_here); a webhook the writer did commit before breaking is then recognised as a
duplicate. When the database refuses the row, the writer answers 503 as the web would.

Frames: a delivery is HEADER (the lengths of the body, signature, webhook id, shop and topic; received_at
as a UTC epoch) then those five in that order; an answer is b"R" (200 recorded), b"D" (200 duplicate) or
b"A" + ANSWER_HEADER (status, outcome length) + the outcome.
"""
from __future__ import annotations

import logging
import os
import selectors
import socket
import struct
import threading
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from loyalty.services.context import Context
from webhooks import intake
from webhooks.group_commit import MAX_BATCH, Outcome, write_batch
from loyalty.services.wakeups import wake_worker
from webhooks.inbox import ShopDirectory
from webhooks.intake import Answer, Delivery

log = logging.getLogger(__name__)

HEADER = struct.Struct("!IHHHHd")
"""body, signature, webhook id, shop and topic lengths; received_at (seconds since the epoch, UTC)"""
ANSWER_HEADER = struct.Struct("!HH")
"""an answer other than recorded or duplicate: HTTP status, length of the outcome (UTF-8)"""
ANSWER_SECONDS = 3.0
"""A request waits this long for the writer's answer, then decides and writes the row itself."""
MAX_FIELD = 1024
"""Longest signature, webhook id, shop or topic accepted in a frame (the columns hold 255)."""


# -- the writer process -------------------------------------------------------------------------------

class InboxWriter:
    """The writer's loop: accept web processes' connections, read their deliveries, decide and commit
    what arrived together, answer each. Single-threaded (the worker wake-ups go out from a timer thread);
    `serve_forever` until `stop()`."""

    def __init__(self, path: Path, ctx: Context):
        self.path, self.ctx = Path(path), ctx
        self.max_body = ctx.config.webhook_max_bytes
        self.directory = ShopDirectory()
        self.batches = 0
        """Transactions written, for tests and the benchmark."""
        self._selector = selectors.DefaultSelector()
        self._buffers: dict[socket.socket, bytearray] = {}
        self._stopping = False
        self._more = False
        self._listener = _listen(self.path)
        self._selector.register(self._listener, selectors.EVENT_READ, None)

    def serve_forever(self) -> None:
        """Run until stop() (from another thread or a signal handler)."""
        try:
            while not self._stopping:
                self.serve_once(timeout=0.5)
        finally:
            self.close()

    def stop(self) -> None:
        """Make serve_forever return after the batch in hand."""
        self._stopping = True

    def serve_once(self, timeout: float | None) -> int:
        """Wait up to `timeout` for deliveries; decide, commit and answer what came. Returns the number
        answered."""
        frames: list[tuple[socket.socket, Delivery]] = []
        wait = 0 if self._more else timeout  # frames left over from a full batch: no waiting
        for key, _ in self._selector.select(wait):
            if key.data is None:
                self._accept()
            else:
                self._receive(key.data)
        for conn, buffer in list(self._buffers.items()):
            while len(frames) < MAX_BATCH:
                delivery = self._next_frame(conn, buffer)
                if delivery is None:
                    break
                frames.append((conn, delivery))
        self._more = len(frames) >= MAX_BATCH
        if not frames:
            return 0
        decided = [self._screen(delivery) for _, delivery in frames]
        batch = [outcome for outcome in decided if isinstance(outcome, Outcome)]
        if batch:
            self.batches += 1
            try:
                write_batch(self.ctx.engine, batch)
            except Exception as exc:  # noqa: BLE001 - every request must hear back, whatever happened
                for pending in batch:
                    if pending.recorded is None and pending.error is None:
                        pending.error = exc
        answers: dict[socket.socket, bytearray] = {}
        for (conn, delivery), outcome in zip(frames, decided):  # in each connection's order, one write each
            answers.setdefault(conn, bytearray()).extend(_encode(self._settle(delivery, outcome)))
        committed = [outcome.committed_at for outcome in batch if outcome.recorded]
        if committed:  # from a timer thread: a slow or absent Redis never holds up the answers
            wake_worker(self.ctx, committed_by=max(committed), background=True)
        for conn, answer in answers.items():
            try:
                conn.sendall(answer)  # a few bytes a webhook into the socket's buffer: never blocks in practice
            except OSError:
                self._drop(conn)
        return len(frames)

    def _screen(self, delivery: Delivery) -> "Answer | Outcome":
        try:
            refused = intake.screen(self.ctx, self.directory, delivery)
        except SQLAlchemyError as exc:
            return intake.unavailable(delivery.webhook_id, exc)
        return refused if refused is not None else Outcome(delivery.row())

    def _settle(self, delivery: Delivery, outcome: "Answer | Outcome") -> Answer:
        if isinstance(outcome, Answer):
            return outcome
        if outcome.error is not None or outcome.recorded is None:
            return intake.unavailable(delivery.webhook_id, outcome.error or ConnectionError("no outcome"))
        try:
            return intake.settle(self.ctx, self.directory, delivery, outcome.recorded)
        except SQLAlchemyError as exc:
            return intake.unavailable(delivery.webhook_id, exc)

    def close(self) -> None:
        """Close every connection and the listening socket, and remove the socket file."""
        for conn in list(self._buffers):
            self._drop(conn)
        self._selector.close()
        self._listener.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(False)
        self._buffers[conn] = bytearray()
        self._selector.register(conn, selectors.EVENT_READ, conn)

    def _receive(self, conn: socket.socket) -> None:
        try:
            chunk = conn.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if chunk:
            self._buffers[conn] += chunk
        else:  # the web process closed it (or died): its unanswered frames are its to retry
            self._drop(conn)

    def _next_frame(self, conn: socket.socket, buffer: bytearray) -> Delivery | None:
        if len(buffer) < HEADER.size:
            return None
        *lengths, received = HEADER.unpack_from(buffer)
        if lengths[0] > self.max_body or max(lengths[1:]) > MAX_FIELD:
            log.warning("inbox writer: a frame over the limits; connection closed")
            self._drop(conn)
            return None
        end = HEADER.size + sum(lengths)
        if len(buffer) < end:
            return None
        view, at = memoryview(buffer), HEADER.size + lengths[0]
        body = bytes(view[HEADER.size:at])
        fields = []
        for length in lengths[1:]:
            fields.append(str(view[at:at + length], "utf-8", "replace"))
            at += length
        view.release()
        del buffer[:end]
        return Delivery(fields[0] or None, fields[3], fields[2], fields[1], body,
                        datetime.fromtimestamp(received, timezone.utc))

    def _drop(self, conn: socket.socket) -> None:
        if self._buffers.pop(conn, None) is not None:
            self._selector.unregister(conn)
        conn.close()


def _encode(answer: Answer) -> bytes:
    if answer is intake.RECORDED:
        return b"R"
    if answer is intake.DUPLICATE:
        return b"D"
    message = answer.message.encode()[:MAX_FIELD]
    return b"A" + ANSWER_HEADER.pack(answer.status, len(message)) + message


def _listen(path: Path) -> socket.socket:
    """Bind the Unix socket (owner-only); refuses when another writer is alive on it."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        raise RuntimeError(f"another inbox writer is serving {path}")
    except (FileNotFoundError, ConnectionRefusedError):
        pass  # nobody: a stale file from a writer that died is replaced
    finally:
        probe.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_umask)
    listener.listen(1024)
    listener.setblocking(False)
    return listener


# -- the web side -------------------------------------------------------------------------------------

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
        frame = _frame(delivery)
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
                self._answer_all(buffer)
        except OSError:
            pass
        self.close(ConnectionError("closed by the writer"))

    def _answer_all(self, buffer: bytearray) -> None:
        at = 0
        while at < len(buffer):
            kind = buffer[at]
            if kind == _RECORDED:
                answer, at = intake.RECORDED, at + 1
            elif kind == _DUPLICATE:
                answer, at = intake.DUPLICATE, at + 1
            else:
                if len(buffer) < at + 1 + ANSWER_HEADER.size:
                    break
                status, length = ANSWER_HEADER.unpack_from(buffer, at + 1)
                start = at + 1 + ANSWER_HEADER.size
                if len(buffer) < start + length:
                    break
                answer = Answer(status, bytes(buffer[start:start + length]).decode("utf-8", "replace"))
                at = start + length
            with self._lock:
                waiter = self._waiting.popleft() if self._waiting else None
            if waiter is not None:
                waiter.answer = answer
                waiter.event.set()
        del buffer[:at]

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


_RECORDED, _DUPLICATE = b"R"[0], b"D"[0]


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


def _frame(delivery: Delivery) -> bytes | None:
    """The delivery's frame; None when a field is over MAX_FIELD (the writer would close the connection)."""
    fields = [(value or "").encode() for value in
              (delivery.hmac, delivery.webhook_id, delivery.shop_domain, delivery.topic)]
    if max(map(len, fields)) > MAX_FIELD:
        return None
    return b"".join((HEADER.pack(len(delivery.body), *map(len, fields), delivery.received_at.timestamp()),
                     delivery.body, *fields))


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


def main() -> None:
    """`python -m webhooks.inbox_writer`: serve LOYALTY_INBOX_SOCKET for DATABASE_URL until SIGTERM."""
    import signal

    from loyalty.services.context import get_context

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    ctx = get_context("web")  # the web's short lock timeout: a locked database answers 503 quickly
    if not ctx.config.inbox_socket:
        raise SystemExit("LOYALTY_INBOX_SOCKET is not set")
    writer = InboxWriter(Path(ctx.config.inbox_socket), ctx)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: writer.stop())
    log.info("inbox writer serving %s", ctx.config.inbox_socket)
    writer.serve_forever()


if __name__ == "__main__":
    main()
