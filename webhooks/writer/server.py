"""The inbox writer process: checks and commits the webhooks every web process hands over.

The web process then only does the HTTP: it reads the delivery and hands it over (webhooks.writer.client);
this process makes the decision of webhooks.intake (signature, headers, topic, JSON, shop), commits
everything that arrived together in one transaction (webhooks.group_commit.write_batch, the same code the
web's own group commit uses), answers each delivery with its HTTP status and outcome, and wakes a worker.
The web's HTTP work and this process's checking and committing run on two cores.

A webhook is answered 200 only after this process's commit, as without it. When the database refuses the
row, the writer answers 503 as the web would. `python -m webhooks.writer` runs `main`.
"""
from __future__ import annotations

import logging
import os
import selectors
import socket
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from loyalty.services.context import Context
from loyalty.services.wakeups import wake_worker
from webhooks import intake
from webhooks.group_commit import MAX_BATCH, Outcome, write_batch
from webhooks.inbox import ShopDirectory
from webhooks.intake import Answer, Delivery
from webhooks.writer.protocol import FrameTooLarge, decode_delivery, encode_answer

log = logging.getLogger(__name__)


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
            answers.setdefault(conn, bytearray()).extend(encode_answer(self._settle(delivery, outcome)))
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
        return intake.settle(outcome.recorded)

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
        try:
            return decode_delivery(buffer, self.max_body)
        except FrameTooLarge:
            log.warning("inbox writer: a frame over the limits; connection closed")
            self._drop(conn)
            return None

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


def main() -> None:
    """`python -m webhooks.writer`: serve LOYALTY_INBOX_SOCKET for DATABASE_URL until SIGTERM."""
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
