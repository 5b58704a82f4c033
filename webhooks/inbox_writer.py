"""The inbox writer: on SQLite, one process commits the inbox rows of every web process and thread.

SQLite has one writer at a time, and a web process that commits its own webhooks pays for it twice: the
INSERT and fsync, and the many thread switches of its request threads around every call that lets go of
Python's GIL. So on SQLite `make run` starts this small process beside gunicorn (`python -m
webhooks.inbox_writer`, socket LOYALTY_INBOX_SOCKET, under var/ by default): a request thread sends its
row over a Unix socket and sleeps until the answer, and the writer commits everything that arrived
together in one transaction (webhooks.group_commit.write_batch, the same code the in-process group commit
uses) before answering each request. The web process does only the HTTP work; the commits run on the
other core.

A webhook is answered 200 only after the writer's commit, as before. The writer is an optimisation, never
a dependency: when its socket is missing, refuses or breaks, the web process writes the row itself (the
in-process group commit); a webhook the writer did commit before breaking is then recognised as a
duplicate. When the database refuses the row, the writer says so and the web answers 503 as it would.

Frames: a request is HEADER (body, webhook id, shop and topic lengths; received_at as a UTC epoch) then
those bytes; the answer is b"R" (recorded), b"D" (duplicate) or b"E" + a 2-byte length + the error.
"""
from __future__ import annotations

import logging
import os
import selectors
import socket
import struct
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from webhooks.group_commit import MAX_BATCH, Outcome, write_batch

log = logging.getLogger(__name__)

HEADER = struct.Struct("!IHHHd")
"""body length, webhook id length, shop length, topic length, received_at (seconds since the epoch, UTC)"""
ANSWER_SECONDS = 3.0
"""A request thread waits this long for the writer's answer, then writes the row itself."""
MAX_FIELD = 1024
"""Longest webhook id, shop or topic accepted in a frame (the columns hold 255)."""


class InboxWriteRefused(SQLAlchemyError):
    """The writer's database refused the row (or was unavailable): the request answers 503."""


# -- the writer process -------------------------------------------------------------------------------

class InboxWriter:
    """The writer's loop: accept web processes' connections, read their frames, commit what arrived
    together, answer each. Single-threaded; `serve_forever` until `stop()`."""

    def __init__(self, path: Path, engine: Engine, max_body: int):
        self.path, self.engine, self.max_body = Path(path), engine, max_body
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
        """Wait up to `timeout` for frames; commit and answer what came. Returns the rows answered."""
        frames: list[tuple[socket.socket, Outcome]] = []
        wait = 0 if self._more else timeout  # frames left over from a full batch: no waiting
        for key, _ in self._selector.select(wait):
            if key.data is None:
                self._accept()
            else:
                self._receive(key.data)
        for conn, buffer in list(self._buffers.items()):
            while len(frames) < MAX_BATCH:
                row = self._next_frame(conn, buffer)
                if row is None:
                    break
                frames.append((conn, Outcome(row)))
        self._more = len(frames) >= MAX_BATCH
        if not frames:
            return 0
        batch = [pending for _, pending in frames]
        self.batches += 1
        try:
            write_batch(self.engine, batch)
        except Exception as exc:  # noqa: BLE001 - every request must hear back, whatever happened
            for pending in batch:
                if pending.recorded is None and pending.error is None:
                    pending.error = exc
        for conn, pending in frames:
            self._answer(conn, pending)
        return len(frames)

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

    def _next_frame(self, conn: socket.socket, buffer: bytearray) -> dict | None:
        if len(buffer) < HEADER.size:
            return None
        body_length, id_length, shop_length, topic_length, received = HEADER.unpack_from(buffer)
        if body_length > self.max_body or max(id_length, shop_length, topic_length) > MAX_FIELD:
            log.warning("inbox writer: a frame over the limits; connection closed")
            self._drop(conn)
            return None
        end = HEADER.size + id_length + shop_length + topic_length + body_length
        if len(buffer) < end:
            return None
        view, at = memoryview(buffer), HEADER.size
        fields = []
        for length in (id_length, shop_length, topic_length):
            fields.append(str(view[at:at + length], "utf-8", "replace"))
            at += length
        body = bytes(view[at:end])
        view.release()
        del buffer[:end]
        return dict(webhook_id=fields[0], shop_domain=fields[1], topic=fields[2], body=body,
                    received_at=datetime.fromtimestamp(received, timezone.utc))

    def _answer(self, conn: socket.socket, pending: Outcome) -> None:
        if pending.error is not None:
            message = f"{type(pending.error).__name__}: {pending.error}"[:500].encode()
            answer = b"E" + struct.pack("!H", len(message)) + message
        else:
            answer = b"R" if pending.recorded else b"D"
        try:
            conn.sendall(answer)  # a few bytes into an empty socket buffer: never blocks in practice
        except OSError:
            self._drop(conn)

    def _drop(self, conn: socket.socket) -> None:
        if self._buffers.pop(conn, None) is not None:
            self._selector.unregister(conn)
        conn.close()


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
    """A web process's way to the writer: a pool of connections, one per request in flight (a thread of
    gthread or a greenlet of gevent takes one, sends its frame, waits for the answer, gives it back)."""

    def __init__(self, path: str):
        self.path = path
        self._idle: list[socket.socket] = []
        self._warned_at = 0.0

    def record(self, row: dict) -> bool | None:
        """True when the writer committed the row, False when its webhook id was already recorded, None
        when the writer could not be reached (the caller writes the row itself). Raises
        InboxWriteRefused when the writer's database refused it."""
        frame = _frame(row)
        for attempt in (1, 2):  # an idle connection the writer closed since (it restarted): dial once more
            sock = self._take()
            if sock is None:
                return None
            try:
                sock.sendall(frame)
                answer = _read_answer(sock)
            except InboxWriteRefused:
                self._idle.append(sock)  # the connection is fine; the database said no
                raise
            except OSError as exc:
                sock.close()
                if attempt == 2 or isinstance(exc, TimeoutError):
                    self._unavailable(exc)
                    return None
                self._drop_idle()
                continue
            if answer is None:  # closed before answering (a restart): once more on a new connection
                sock.close()
                self._drop_idle()
                continue
            self._idle.append(sock)
            return answer
        self._unavailable(ConnectionError("closed without answering"))
        return None

    def _drop_idle(self) -> None:
        """The writer went away: the idle connections lead to it too."""
        while self._idle:
            try:
                self._idle.pop().close()
            except IndexError:
                break

    def _take(self) -> socket.socket | None:
        try:
            return self._idle.pop()  # list.pop is atomic: threads and greenlets share the pool safely
        except IndexError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(ANSWER_SECONDS)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            self._unavailable(exc)
            return None
        return sock

    def _unavailable(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:  # once a minute, not once a webhook
            self._warned_at = now
            log.warning("inbox writer at %s unavailable (%s); this process writes its webhooks itself",
                        self.path, exc)


def _frame(row: dict) -> bytes:
    webhook_id, shop, topic = (row[name].encode() for name in ("webhook_id", "shop_domain", "topic"))
    return (HEADER.pack(len(row["body"]), len(webhook_id), len(shop), len(topic), row["received_at"].timestamp())
            + webhook_id + shop + topic + row["body"])


def _read_answer(sock: socket.socket) -> bool | None:
    """The writer's answer: True/False, None when the connection closed first; raises InboxWriteRefused."""
    kind = sock.recv(1)
    if not kind:
        return None
    if kind in (b"R", b"D"):
        return kind == b"R"
    length = struct.unpack("!H", _exactly(sock, 2))[0]
    raise InboxWriteRefused(_exactly(sock, length).decode("utf-8", "replace"))


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("inbox writer closed mid-answer")
        data += chunk
    return data


_CLIENTS: dict[str, WriterClient] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(path: str) -> WriterClient:
    """The process's client for the writer at `path`."""
    found = _CLIENTS.get(path)
    if found is None:
        with _CLIENTS_LOCK:
            found = _CLIENTS.setdefault(path, WriterClient(path))
    return found


def main() -> None:
    """`python -m webhooks.inbox_writer`: serve LOYALTY_INBOX_SOCKET for DATABASE_URL until SIGTERM."""
    import signal

    from runtime.context import get_context

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    ctx = get_context("web")  # the web's short lock timeout: a locked database answers 503 quickly
    if not ctx.config.inbox_socket:
        raise SystemExit("LOYALTY_INBOX_SOCKET is not set")
    writer = InboxWriter(Path(ctx.config.inbox_socket), ctx.engine, ctx.config.webhook_max_bytes)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: writer.stop())
    log.info("inbox writer serving %s", ctx.config.inbox_socket)
    writer.serve_forever()


if __name__ == "__main__":
    main()
