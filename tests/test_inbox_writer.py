"""The inbox writer (webhooks.inbox_writer): one process commits the webhooks of every web thread and
process; each request still hears exactly whether its own row was committed, was a duplicate, or was
refused, and the web writes the row itself whenever the writer cannot be reached."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from db.engine import make_engine
from db.tables import webhook_inbox
from tests.conftest import SHOP, Sender, make_config
from tests.factories import order
from webhooks import inbox_writer
from webhooks.inbox_writer import HEADER, InboxWriter, InboxWriteRefused, WriterClient

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parent.parent


def row(webhook_id, **overrides):
    values = dict(webhook_id=webhook_id, shop_domain=SHOP, topic="orders/paid", body=b'{"id": 1}',
                  received_at=NOW)
    values.update(overrides)
    return values


@pytest.fixture
def socket_path():
    """A short path for the Unix socket (they are limited to about 100 bytes)."""
    directory = tempfile.mkdtemp(prefix="iw-")
    yield Path(directory) / "inbox.sock"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def engine(database_url):
    eng = make_engine(database_url, timeout_seconds=0.2)  # PostgreSQL: statement_timeout 2 s, inside the client's 3 s
    yield eng
    eng.dispose()


@contextmanager
def running_writer(path: Path, engine, max_body: int = 1024 * 1024):
    """An InboxWriter serving `path` from a thread until the block ends."""
    writer = InboxWriter(path, engine, max_body)
    thread = threading.Thread(target=writer.serve_forever, daemon=True)
    thread.start()
    try:
        yield writer
    finally:
        writer.stop()
        thread.join(timeout=10)
        assert not thread.is_alive()


def stored(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(webhook_inbox.c.webhook_id)).scalars())


def test_rows_from_many_threads_are_committed_once_in_shared_transactions(socket_path, engine):
    """Eight threads send 40 webhooks each, every id twice: each id is stored once, exactly one of its two
    requests hears 'recorded', the stored row is the one sent, and fewer transactions than rows were used."""
    ids = [f"t{i}" for i in range(160)]
    results: list[tuple[str, object]] = []
    lock = threading.Lock()
    with running_writer(socket_path, engine) as writer:
        client = WriterClient(str(socket_path))

        def run(k):
            for j in range(40):
                webhook_id = ids[(k * 40 + j) % 160]
                try:
                    outcome = client.record(row(webhook_id, body=f'{{"id": "{webhook_id}"}}'.encode()))
                except Exception as exc:  # noqa: BLE001 - the outcome under test
                    outcome = exc
                with lock:
                    results.append((webhook_id, outcome))

        threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        batches = writer.batches
    assert len(results) == 320
    for webhook_id in ids:
        assert sorted(o for i, o in results if i == webhook_id) == [False, True], webhook_id
    assert stored(engine) == sorted(ids)
    with engine.connect() as conn:
        got = conn.execute(select(webhook_inbox.c.body, webhook_inbox.c.received_at, webhook_inbox.c.topic)
                           .where(webhook_inbox.c.webhook_id == "t7")).one()
    assert bytes(got.body) == b'{"id": "t7"}' and got.topic == "orders/paid"
    assert got.received_at.replace(tzinfo=timezone.utc) == NOW
    assert batches < 320


def test_a_locked_database_is_refused_with_its_reason(socket_path, engine, database_url):
    """The writer's database is locked past its timeout: the request hears the refusal (the web answers
    503), and the row is not stored; once the lock goes, the same webhook is recorded."""
    with running_writer(socket_path, engine):
        client = WriterClient(str(socket_path))
        holder = make_engine(database_url, timeout_seconds=5.0)
        conn = holder.connect()
        conn.begin()
        if holder.dialect.name == "postgresql":
            conn.execute(text("SET lock_timeout = '5s'"))
            conn.execute(text("LOCK TABLE webhook_inbox IN ACCESS EXCLUSIVE MODE"))
        try:
            with pytest.raises(InboxWriteRefused) as refused:
                client.record(row("while-locked"))
        finally:
            conn.rollback()
            conn.close()
            holder.dispose()
        assert str(refused.value).startswith("OperationalError")
        assert client.record(row("while-locked")) is True
    assert stored(engine) == ["while-locked"]


def test_no_writer_means_the_web_writes_the_row_itself(socket_path, ctx, shop):
    """LOYALTY_INBOX_SOCKET names a socket nobody serves: the webhook is still recorded (200) by the web
    process's own group commit, and nothing is lost."""
    from runtime.context import build_context
    from runtime.web import create_app

    context = build_context(make_config(ctx.config.database_url, ctx.config.redis_url, ctx.config.var_dir,
                                        inbox_socket=str(socket_path)))
    try:
        response = Sender(create_app(context).test_client())("orders/paid", order(email="alone@example.com"),
                                                            webhook_id="no-writer")
        assert response.status_code == 200 and response.json["status"] == "recorded"
        assert stored(context.engine) == ["no-writer"]
    finally:
        context.engine.dispose()


def test_webhooks_through_the_app_are_committed_by_the_writer(socket_path, ctx, shop):
    """With a writer serving LOYALTY_INBOX_SOCKET, the app's webhooks are committed by it (its batch
    count moves), a redelivery is answered 'duplicate', and the worker applies them as usual."""
    from jobs.inbox import process_inbox
    from runtime.context import build_context
    from runtime.web import create_app

    context = build_context(make_config(ctx.config.database_url, ctx.config.redis_url, ctx.config.var_dir,
                                        inbox_socket=str(socket_path)))
    try:
        with running_writer(socket_path, context.engine) as writer:
            send = Sender(create_app(context).test_client())
            payload = order(email="writer@example.com")
            first = send("orders/paid", payload, webhook_id="via-writer")
            again = send("orders/paid", payload, webhook_id="via-writer")
            assert writer.batches == 2
        assert (first.status_code, first.json["status"]) == (200, "recorded")
        assert (again.status_code, again.json["status"]) == (200, "duplicate")
        assert process_inbox(ctx=context) == 1
    finally:
        context.engine.dispose()


def test_a_restarted_writer_is_redialled(socket_path, engine):
    """The writer stops and another starts on the same socket: the client's old connection is dead, it
    dials again and the row is recorded, once."""
    client = WriterClient(str(socket_path))
    with running_writer(socket_path, engine):
        assert client.record(row("before")) is True
    with running_writer(socket_path, engine):
        assert client.record(row("after")) is True
        assert client.record(row("after")) is False
    assert stored(engine) == ["after", "before"]


def test_a_frame_over_the_limits_closes_only_its_connection(socket_path, engine):
    """A frame announcing a body over the limit: that connection is closed, the writer goes on serving."""
    with running_writer(socket_path, engine, max_body=1000):
        rogue = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        rogue.settimeout(5)
        rogue.connect(str(socket_path))
        rogue.sendall(HEADER.pack(10_000_000, 1, 1, 1, 0.0))
        assert rogue.recv(1) == b""  # closed without an answer
        rogue.close()
        assert WriterClient(str(socket_path)).record(row("fine")) is True
    assert stored(engine) == ["fine"]


def test_a_second_writer_on_a_live_socket_refuses_to_start(socket_path, engine):
    """Two writers cannot share a socket: the second says so instead of stealing it."""
    with running_writer(socket_path, engine):
        with pytest.raises(RuntimeError, match="another inbox writer"):
            InboxWriter(socket_path, engine, 1000)
        assert WriterClient(str(socket_path)).record(row("still-served")) is True


def test_the_writer_process_killed_mid_stream_loses_nothing(socket_path, ctx, shop, redis_url):
    """`python -m webhooks.inbox_writer` as make run starts it; SIGKILLed while webhooks stream in from
    four threads: every webhook answered 200 is stored (the web writes them itself once the writer is
    gone), each exactly once."""
    from runtime.context import build_context
    from runtime.web import create_app

    env = {**os.environ, "DATABASE_URL": ctx.config.database_url, "REDIS_URL": redis_url,
           "SHOPIFY_API_KEY": "k", "SHOPIFY_API_SECRET": "s", "LOYALTY_INBOX_SOCKET": str(socket_path),
           "LOYALTY_VAR_DIR": str(socket_path.parent), "LOYALTY_ENCRYPTION_KEYS": ctx.config.encryption_keys[0]}
    process = subprocess.Popen([sys.executable, "-m", "webhooks.inbox_writer"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    context = build_context(make_config(ctx.config.database_url, ctx.config.redis_url, ctx.config.var_dir,
                                        inbox_socket=str(socket_path)))
    try:
        deadline = time.monotonic() + 20
        while not socket_path.exists():
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the writer never listened"
            time.sleep(0.05)
        app = create_app(context)
        answered: list[str] = []
        lock = threading.Lock()

        def stream(k):
            send = Sender(app.test_client())
            for j in range(60):
                webhook_id = f"s{k}-{j}"
                if send("orders/paid", order(email=f"k{k}@example.com"), webhook_id=webhook_id).status_code == 200:
                    with lock:
                        answered.append(webhook_id)

        threads = [threading.Thread(target=stream, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        while len(answered) < 60:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        for t in threads:
            t.join(timeout=60)
        assert len(answered) == 240  # nothing refused: the web took over
        with context.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(webhook_inbox)).scalar() == 240
        assert sorted(stored(context.engine)) == sorted(answered)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        context.engine.dispose()


def test_make_run_starts_the_writer_on_sqlite_only():
    """The launcher's process list: the inbox writer (and its socket under var/) on SQLite, not on
    PostgreSQL, and not when LOYALTY_INBOX_WRITER=off."""
    from runtime.launcher import process_commands

    env = {"LOYALTY_VAR_DIR": "/srv/loyalty/var"}
    commands = process_commands(Path("/venv/bin"), env, "redis://x", "8000")
    assert commands["inbox"] == ["/venv/bin/python", "-m", "webhooks.inbox_writer"]
    assert list(commands)[:2] == ["inbox", "web"]  # listening before the web sends to it
    assert env["LOYALTY_INBOX_SOCKET"] == "/srv/loyalty/var/inbox.sock"
    pg_env = {"DATABASE_URL": "postgresql://db/x"}
    assert "inbox" not in process_commands(Path("/venv/bin"), pg_env, "redis://x", "8000")
    assert "LOYALTY_INBOX_SOCKET" not in pg_env
    off = {"LOYALTY_INBOX_WRITER": "off"}
    assert "inbox" not in process_commands(Path("/venv/bin"), off, "redis://x", "8000")
